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

  test("--rate-limit LIMIT/SECONDS and --secondary STATUS,...: a small window and a secondary limit from the start; bad specs exit 2", async () => {
    const args = ["--port", "0", "--user", "octocat=1", "--rate-limit", "1/60", "--secondary", "429,retry-after=7,remaining=0,times=1"];
    const proc = Bun.spawn([...commands.bun!, ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
    try {
      const { value } = await proc.stdout.getReader().read();
      const { url } = JSON.parse(new TextDecoder().decode(value).split("\n")[0]!);
      const answers = [];
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${url}/users/octocat/gists`);
        answers.push([res.status, res.headers.get("retry-after"), res.headers.get("x-ratelimit-remaining")]);
      }
      expect(answers).toEqual([
        [429, "7", "0"],
        [200, null, "0"],
        [403, null, "0"],
      ]);
    } finally {
      proc.kill("SIGKILL");
    }
    for (const [flag, spec] of [
      ["--secondary", "500"],
      ["--secondary", "403,wait=5"],
      ["--rate-limit", "many"],
    ] as const) {
      const bad = Bun.spawn([...commands.bun!, flag, spec], { cwd: root, stdout: "pipe", stderr: "pipe" });
      expect(await bad.exited).toBe(2);
      expect(await new Response(bad.stderr).text()).toContain(`${flag} takes`);
    }
    const help = Bun.spawn([...commands.bun!, "--help"], { cwd: root, stdout: "pipe", stderr: "pipe" });
    expect(await new Response(help.stdout).text()).toContain("--secondary STATUS[,retry-after=V][,remaining=N][,times=N]");
  });
});
