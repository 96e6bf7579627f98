import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { repoRoot, startService } from "../testing/service.ts";

// The README's offline trial, run as written: the fake GitHub from its npm script, the service pointed at it.
const readme = readFileSync(`${repoRoot}README.md`, "utf8");
const scripts = (JSON.parse(readFileSync(`${repoRoot}package.json`, "utf8")) as { scripts: Record<string, string> }).scripts;
const offline = /GitHub stands in.*?```sh\n(.*?)```/s.exec(readme)?.[1]?.split("\n").filter(Boolean) ?? [];

test("the quick start shows the offline trial next to the real one, and the scripts it uses are documented", () => {
  expect(readme.indexOf("npm ci && npm start")).toBeLessThan(readme.indexOf("npm run fake-github -- --port 9100"));
  expect(offline.map((line) => line.replace(/\s+#.*$/, ""))).toEqual([
    "npm ci && (npm run fake-github -- --port 9100 --user octocat=8 &)",
    "GITHUB_API_URL=http://127.0.0.1:9100 npm start",
    "curl 'http://127.0.0.1:8080/octocat?page=1&per_page=5'",
  ]);
  for (const name of ["fake-github", "scenario"]) {
    expect(scripts[name]).toBeDefined();
    expect(readme).toContain(`| \`npm run ${name}`);
  }
});

test("the offline trial answers from the fake GitHub", async () => {
  // The script's own command, on a free port instead of 9100 so parallel runs cannot collide.
  const [runtime, ...args] = scripts["fake-github"]!.split(" ");
  expect(runtime).toBe("bun");
  const fake = Bun.spawn([process.execPath, ...args, "--port", "0", "--user", "octocat=8"], { cwd: repoRoot, stdout: "pipe", stderr: "inherit" });
  try {
    const { value } = await fake.stdout.getReader().read();
    const { url } = JSON.parse(new TextDecoder().decode(value).split("\n")[0]!) as { url: string };
    const service = await startService({ target: "binary", env: { GITHUB_API_URL: url } });
    try {
      const answer = await fetch(`${service.url}/octocat?page=1&per_page=5`);
      expect(answer.status).toBe(200);
      expect(answer.headers.get("x-cache")).toBe("MISS");
      const page = (await answer.json()) as { pagination: { count: number; has_next: boolean } };
      expect(page.pagination).toMatchObject({ count: 5, has_next: true });
    } finally {
      await service.stop();
    }
  } finally {
    fake.kill("SIGTERM");
    await fake.exited;
  }
});
