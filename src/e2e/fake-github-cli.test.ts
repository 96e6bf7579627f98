import { describe, expect, test } from "bun:test";

// `npm run fake-github` as its own process, under Bun and under Deno (which the unit tier does not start).
describe("as a process", () => {
  const root = `${import.meta.dir}/../..`;
  const commands: Record<string, string[]> = {
    bun: [process.execPath, "src/testing/fake-github.ts"],
    deno: [`${root}/node_modules/.bin/deno`, "run", "-A", "--node-modules-dir=manual", "src/testing/fake-github.ts"],
  };
  for (const [runtime, command] of Object.entries(commands)) {
    test(`under ${runtime}: prints its URL, serves seeded users and stops on SIGTERM`, async () => {
      const proc = Bun.spawn([...command, "--port", "0", "--user", "octocat=2"], { cwd: root, stdout: "pipe", stderr: "pipe" });
      try {
        const reader = proc.stdout.getReader();
        const { value } = await reader.read();
        const { url } = JSON.parse(new TextDecoder().decode(value).split("\n")[0]!);
        expect(((await (await fetch(`${url}/users/octocat/gists`)).json()) as any[]).length).toBe(2);
        proc.kill("SIGTERM");
        expect(await proc.exited).toBe(0);
      } finally {
        proc.kill("SIGKILL");
      }
    });
  }

  test("--auto-users PREFIX=COUNT makes every login with the prefix exist; a bad spec exits 2", async () => {
    const proc = Bun.spawn([...commands.bun!, "--port", "0", "--auto-users", "user-=3"], { cwd: root, stdout: "pipe", stderr: "pipe" });
    try {
      const { value } = await proc.stdout.getReader().read();
      const { url, autoUsers } = JSON.parse(new TextDecoder().decode(value).split("\n")[0]!);
      expect(autoUsers).toEqual({ prefix: "user-", gists: 3 });
      expect(((await (await fetch(`${url}/users/user-977/gists`)).json()) as any[]).length).toBe(3);
      expect((await fetch(`${url}/users/octocat/gists`)).status).toBe(404);
    } finally {
      proc.kill("SIGKILL");
    }
    const bad = Bun.spawn([...commands.bun!, "--auto-users", "user-"], { cwd: root, stdout: "pipe", stderr: "pipe" });
    expect(await bad.exited).toBe(2);
    expect(await new Response(bad.stderr).text()).toContain("--auto-users takes PREFIX=COUNT");
  });
});
