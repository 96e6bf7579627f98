import { afterAll, beforeAll, expect, test } from "bun:test";
import { startFakeGithub, type FakeGithub } from "../testing/fake-github.ts";
import { runCli, startService, type RunningService, type Target } from "../testing/service.ts";
import { describeTargets, until } from "./stack.ts";

const token = "ghp_e2eLifecycleToken9876543210fedcba";

/** The exit code, or "still running" if the process outlives `ms`. */
function exitWithin(service: RunningService, ms: number): Promise<number | "still running"> {
  return Promise.race([service.exited, Bun.sleep(ms).then(() => "still running" as const)]);
}

describeTargets("configuration errors", (target) => {
  const serve = (env: Record<string, string>) =>
    runCli(["serve"], { HOST: "127.0.0.1", PORT: "0", ...env }, { target, timeoutMs: 15_000 });

  for (const [variable, value] of [["PORT", "abc"], ["CACHE_TTL", "-1"]] as const) {
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

  const start = (env: Record<string, string> = {}) =>
    startService({ target, env: { GITHUB_API_URL: fake.url, UPSTREAM_TIMEOUT_MS: "5000", ...env } });

  test("SIGTERM drains: readiness turns 503, the in-flight request completes 200, exit 0 within 10 s", async () => {
    const service = await start({ GITHUB_TOKEN: token, LOG_LEVEL: "debug" });
    try {
      fake.setFault("slowpoke", { kind: "latency", ms: 1_500 });
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
      const inFlight = fetch(`${service.url}/slowpoke`).then(async (res) => ({ status: res.status, body: (await res.json()) as any }));
      await until(() => fake.inFlight === 1, 5_000, "the request to reach GitHub");
      const signalledAt = Date.now();
      service.signal("SIGTERM");
      const readiness: Array<number | string> = [];
      while (!readiness.includes(503) && Date.now() - signalledAt < 1_200) {
        readiness.push(await fetch(`${service.url}/readyz`).then((r) => r.status, (e: Error) => e.name));
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
