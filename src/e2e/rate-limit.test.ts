import { expect, test } from "bun:test";
import { describeTargets, expectError, freshLogin, useStack, type Stack } from "./stack.ts";

const limits = { RATE_LIMIT_RPS: "2", RATE_LIMIT_BURST: "3" };

/** Ask `path` `n` times in a row as fast as possible; the statuses in order, the last 429 seen and when the last was sent. */
async function burst(s: Stack, path: string, n: number, headers: Record<string, string> = {}) {
  const statuses: number[] = [];
  let limited: Response | undefined;
  let lastSentAt = 0;
  for (let i = 0; i < n; i++) {
    lastSentAt = performance.now();
    const res = await s.request(path, { headers });
    statuses.push(res.status);
    if (res.status === 429) limited = res;
  }
  return { statuses, limited, lastSentAt };
}

/** A gists page every client may ask for: limited like any API request, answered from the cache after the first. */
const limitedPath = "/octocat";

/** Spend a client's bucket: ask until the service answers 429 (a full bucket holds 3); when that 429 was asked for. */
async function drain(s: Stack, headers: Record<string, string> = {}): Promise<number> {
  s.fake.setUser("octocat", 1);
  // Three pass, then 429; on a slow machine a token may come back meanwhile, so ask until the 429 (20 at most).
  for (let asked = 0; asked < 20; asked++) {
    const { statuses, lastSentAt } = await burst(s, limitedPath, 1, headers);
    if (statuses[0] === 429) return lastSentAt;
  }
  throw new Error("20 requests in a row passed a bucket of 3 refilled at 2 a second");
}

const statusOf = async (s: Stack, path: string, headers: Record<string, string> = {}) => (await s.request(path, { headers })).status;

/** Ask the limited path until a 429 (at most 10 times); how many passed, and the seconds since `emptyAt`. */
async function passesUntilLimited(s: Stack, emptyAt: number): Promise<{ passed: number; seconds: number; last: number }> {
  const statuses = [await statusOf(s, limitedPath)];
  while (statuses.at(-1) !== 429 && statuses.length < 10) statuses.push(await statusOf(s, limitedPath));
  return { passed: statuses.filter((status) => status === 200).length, seconds: (performance.now() - emptyAt) / 1000, last: statuses.at(-1)! };
}

/** Tokens a bucket spent at `emptyAt` can have regained since: under one then, plus RATE_LIMIT_RPS a second. */
const refillBound = (seconds: number) => 1 + Number(limits.RATE_LIMIT_RPS) * seconds;

describeTargets("per-client rate limit", (target) => {
  const s = useStack(target, limits);

  test("a burst of 10 from one client: 3 pass, the rest are 429 with RateLimit-* and Retry-After and a JSON error", async () => {
    const login = freshLogin("bucket");
    s.fake.setUser(login, 1);
    const { statuses, limited } = await burst(s, `/${login}`, 10);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    const passed = statuses.filter((status) => status === 200).length;
    expect(passed).toBeLessThanOrEqual(4);
    expect(statuses.filter((status) => status !== 200)).toEqual(Array.from({ length: 10 - passed }, () => 429));
    expect(s.fake.requestCount(login)).toBe(1);

    const headers = Object.fromEntries(
      ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"].map((name) => [name, limited!.headers.get(name)]),
    );
    expect(headers["ratelimit-limit"] ?? "").toMatch(/^[23]\b/);
    expect(headers["ratelimit-remaining"]).toBe("0");
    expect(headers["ratelimit-reset"] ?? "").toMatch(/^\d+$/);
    expect(headers["retry-after"] ?? "").toMatch(/^[1-9]\d*$/);
    expect(Number(headers["retry-after"])).toBeLessThanOrEqual(2);
    await expectError(limited!, 429);
  });

  test("/healthz, /readyz and /metrics are never rate limited", async () => {
    const emptyAt = await drain(s);
    const probes = [];
    for (const path of ["/healthz", "/readyz", "/metrics"]) {
      for (let i = 0; i < 8; i++) probes.push({ path, status: await statusOf(s, path) });
    }
    expect(probes.filter((p) => p.status !== 200)).toEqual([]);
    // The API is still limited: only what refilled since the drain passes, however slow this machine is.
    const after = await passesUntilLimited(s, emptyAt);
    expect(after.last).toBe(429);
    expect(after.passed).toBeLessThan(refillBound(after.seconds));
  });

  test("tokens come back at RATE_LIMIT_RPS: one more request passes half a second later, and no more than the rate refilled", async () => {
    const emptyAt = await drain(s);
    await Bun.sleep(600);
    const after = await passesUntilLimited(s, emptyAt);
    expect(after.passed).toBeGreaterThanOrEqual(1);
    expect(after.last).toBe(429);
    // A bound a slow machine only loosens.
    expect(after.passed).toBeLessThan(refillBound(after.seconds));
  });

  test("X-Forwarded-For is ignored by default: different values from one address share one bucket", async () => {
    await drain(s, { "x-forwarded-for": "203.0.113.1" });
    expect(await statusOf(s, limitedPath, { "x-forwarded-for": "203.0.113.2" })).toBe(429);
    expect(await statusOf(s, limitedPath)).toBe(429);
  });
});

describeTargets("per-client rate limit behind one trusted proxy", (target) => {
  const s = useStack(target, { ...limits, RATE_LIMIT_TRUSTED_HOPS: "1" });

  test("with RATE_LIMIT_TRUSTED_HOPS=1 the right-most X-Forwarded-For address is the client", async () => {
    // The bucket regains a token every 500 ms (RATE_LIMIT_RPS=2): a check of the drained client counts only when
    // it was asked well within that of the drain, however slow the machine (else drain and ask again).
    const drained = "198.51.100.7";
    const askDrained = async (forwardedFor: string) => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const drainedAt = await drain(s, { "x-forwarded-for": drained });
        const status = await statusOf(s, limitedPath, { "x-forwarded-for": forwardedFor });
        if (performance.now() - drainedAt < 400) return status;
      }
      throw new Error("the machine was too slow to ask within 400 ms of a drain, five times in a row");
    };
    const answers = {
      sameClient: await askDrained(drained),
      otherClient: await statusOf(s, limitedPath, { "x-forwarded-for": "198.51.100.8" }),
      sameRightMost: await askDrained(`192.0.2.99, ${drained}`),
      otherRightMost: await askDrained(`${drained}, 192.0.2.99`),
    };
    expect(answers).toEqual({ sameClient: 429, otherClient: 200, sameRightMost: 429, otherRightMost: 200 });
  });
});
