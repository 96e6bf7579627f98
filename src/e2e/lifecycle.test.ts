import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { startFakeGithub, type FakeGithub } from "../testing/fake-github.ts";
import { binaryPath, ensureBinary, repoRoot, runCli, startService, type CliResult, type RunningService, type Target } from "../testing/service.ts";
import { describeTargets, timedTestMs, until } from "./stack.ts";

const token = "ghp_e2eLifecycleToken9876543210fedcba";

/** The exit code, or "still running" if the process outlives `ms`. */
function exitWithin(service: RunningService, ms: number): Promise<number | "still running"> {
  return Promise.race([service.exited, Bun.sleep(ms).then(() => "still running" as const)]);
}

describeTargets("configuration errors", (target) => {
  const serve = (env: Record<string, string>) => runCli(["serve"], { HOST: "127.0.0.1", PORT: "0", ...env }, { target, timeoutMs: 15_000 });

  for (const [variable, value] of [
    ["PORT", "abc"],
    ["CACHE_TTL", "-1"],
  ] as const) {
    test(`${variable}=${value} exits 2 naming ${variable}`, async () => {
      const result = await serve({ [variable]: value });
      expect({ code: result.code, names: `${result.stdout}${result.stderr}`.includes(variable) }).toEqual({ code: 2, names: true });
    });
  }
});

describeTargets("graceful shutdown", (target: Target) => {
  let fake: FakeGithub;
  beforeAll(async () => {
    fake = await startFakeGithub({ users: { slowpoke: 3 } });
  });
  afterAll(() => fake.close());

  const start = (env: Record<string, string> = {}) => startService({ target, env: { GITHUB_API_URL: fake.url, UPSTREAM_TIMEOUT_MS: "5000", ...env } });

  test("SIGTERM drains: readiness turns 503, the in-flight request completes 200, exit 0 within 10 s", async () => {
    const service = await start({ GITHUB_TOKEN: token, LOG_LEVEL: "debug" });
    try {
      // The request stays in flight for 3 s, so the drain (and the listener) lasts that long whatever the load.
      fake.setFault("slowpoke", { kind: "latency", ms: 3_000 });
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
      const inFlight = fetch(`${service.url}/slowpoke`).then(async (res) => ({ status: res.status, body: (await res.json()) as any }));
      await until(() => fake.inFlight === 1, 5_000, "the request to reach GitHub");
      const signalledAt = Date.now();
      service.signal("SIGTERM");
      const readiness: Array<number | string> = [];
      while (!readiness.includes(503) && Date.now() - signalledAt < 2_500) {
        readiness.push(
          await fetch(`${service.url}/readyz`).then(
            (r) => r.status,
            (e: Error) => e.name,
          ),
        );
        await Bun.sleep(50);
      }
      expect(readiness).toContain(503);
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(answer.body.data).toHaveLength(3);
      expect(await exitWithin(service, 10_000 - (Date.now() - signalledAt))).toBe(0);
      expect(service.stdout()).not.toContain(token);
      expect(service.stderr()).not.toContain(token);
    } finally {
      fake.setFault("slowpoke", null);
      await service.stop();
    }
  });

  test("SIGINT exits 0", async () => {
    const service = await start();
    try {
      service.signal("SIGINT");
      expect(await exitWithin(service, 10_000)).toBe(0);
    } finally {
      await service.stop();
    }
  });
});

/** The lines a failed start wrote to stderr, and whether any of them is a stack frame or a line of the bundle. */
function failureReport(stderr: string): { lines: string[]; traced: boolean } {
  const lines = stderr.split("\n").filter((line) => line.trim() !== "");
  return { lines, traced: lines.some((line) => /^\s+at |^\s*\d+ \|/.test(line)) };
}

/** Runs `serve` as an unprivileged user (nobody), for a bind only root may make. */
async function serveUnprivileged(target: Target, env: Record<string, string>): Promise<CliResult> {
  if (target === "binary") await ensureBinary();
  const command =
    target === "binary" ? [binaryPath, "serve"] : [`${repoRoot}node_modules/.bin/deno`, "run", "-A", "--node-modules-dir=manual", "src/main.ts", "serve"];
  const proc = Bun.spawn(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...command], {
    cwd: target === "binary" ? tmpdir() : repoRoot,
    env: { PATH: process.env.PATH ?? "", HOME: tmpdir(), DENO_DIR: `${tmpdir()}/gists-api-deno-nobody`, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

// Only root can drop to nobody, and only below the unprivileged port floor is a bind refused.
const canTestPrivilegedPort =
  process.getuid?.() === 0 && Bun.which("setpriv") !== null && Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8")) > 80;

describeTargets("a listener that cannot be opened", (target) => {
  const serve = (env: Record<string, string>) => runCli(["serve"], { HOST: "127.0.0.1", PORT: "0", ...env }, { target, timeoutMs: 15_000 });

  test(
    "a port already in use: one line naming it and what to do, exit 1",
    async () => {
      const holder = createNetServer();
      await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
      const port = (holder.address() as AddressInfo).port;
      try {
        const result = await serve({ PORT: String(port) });
        const report = failureReport(result.stderr);
        expect({ code: result.code, lines: report.lines.length, traced: report.traced }).toEqual({ code: 1, lines: 1, traced: false });
        expect(report.lines[0]).toContain(`127.0.0.1:${port}`);
        expect(report.lines[0]).toContain("PORT=");
        expect(report.lines[0]).toContain("stop the process");
      } finally {
        await new Promise((resolve) => holder.close(resolve));
      }
    },
    timedTestMs,
  );

  test(
    "an address not on this host: one line naming it and HOST=, exit 1",
    async () => {
      const result = await serve({ HOST: "192.0.2.1", PORT: "8080" });
      const report = failureReport(result.stderr);
      expect({ code: result.code, lines: report.lines.length, traced: report.traced }).toEqual({ code: 1, lines: 1, traced: false });
      expect(report.lines[0]).toContain("192.0.2.1:8080");
      expect(report.lines[0]).toContain("HOST=");
    },
    timedTestMs,
  );

  test.skipIf(!canTestPrivilegedPort)(
    "a privileged port as a user that may not bind it: one line naming it and PORT=, exit 1",
    async () => {
      const result = await serveUnprivileged(target, { HOST: "127.0.0.1", PORT: "80" });
      const report = failureReport(result.stderr);
      expect({ code: result.code, lines: report.lines.length, traced: report.traced, stderr: result.stderr }).toMatchObject({
        code: 1,
        lines: 1,
        traced: false,
      });
      expect(report.lines[0]).toContain("127.0.0.1:80");
      expect(report.lines[0]).toContain("PORT=");
    },
    timedTestMs,
  );
});
