import { expect, test } from "bun:test";
import { sampleSum } from "../testing/prometheus-text.ts";
import { describeTargets, expectError, freshLogin, getGists, scrapeMetrics, until, timedTestMs, useStack, type Stack } from "./stack.ts";

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Retry-After of a 429: whole seconds, at least 1 and at most `atMost`. */
function retryAfterSeconds(res: Response, atMost: number): number {
  const header = res.headers.get("retry-after") ?? "";
  expect(header).toMatch(/^\d+$/);
  const seconds = Number(header);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(atMost);
  return seconds;
}

/** A user the fake knows and the service has not cached. */
function coldUser(s: Stack, prefix: string): string {
  const login = freshLogin(prefix);
  s.fake.setUser(login, 2);
  return login;
}

/** GitHub's next window: a full budget again. */
function newWindow(s: Stack): void {
  s.fake.setRateLimit({ remaining: 5000, resetAt: nowSeconds() + 3600, exceededStatus: 403 });
}

/**
 * Nothing reaches GitHub before `resumeAtMs`, and soon after it (GitHub's reset is in whole seconds, so up to
 * a second of rounding is allowed) a cold user is fetched again.
 */
async function expectResumesAt(s: Stack, resumeAtMs: number): Promise<void> {
  const sent = s.fake.requestCount();
  const login = coldUser(s, "resumed");
  let reply: Awaited<ReturnType<typeof getGists>> | undefined;
  const waitMs = Math.max(0, resumeAtMs - Date.now()) + 1_200;
  await until(async () => (reply = await getGists(s, `/${login}`)).status !== 429, waitMs, "upstream requests to resume");
  expect([reply!.status, reply!.xCache]).toEqual([200, "MISS"]);
  const resumed = s.fake.requests.slice(sent);
  expect(resumed.filter((r) => r.login === login)).toHaveLength(1);
  expect(resumed.filter((r) => r.at < resumeAtMs - 50).map((r) => r.login)).toEqual([]);
}

describeTargets("GitHub rate-limit budget", (target) => {
  // Pages expire after 1 s but stay servable as STALE; the breaker stays out of the way.
  const s = useStack(target, { CACHE_TTL: "1", CACHE_STALE_TTL: "60", BREAKER_THRESHOLD: "1000" });

  test("/metrics gauges follow GitHub's x-ratelimit-remaining and x-ratelimit-reset", async () => {
    const resetAt = nowSeconds() + 1800;
    s.fake.setRateLimit({ remaining: 4321, resetAt });
    expect((await getGists(s, `/${coldUser(s, "gauge")}`)).status).toBe(200);
    const metrics = await scrapeMetrics(s);
    expect([metrics.types.github_rate_limit_remaining, metrics.types.github_rate_limit_reset_timestamp_seconds]).toEqual(["gauge", "gauge"]);
    expect(sampleSum(metrics, "github_rate_limit_remaining")).toBe(4320);
    expect(sampleSum(metrics, "github_rate_limit_reset_timestamp_seconds")).toBe(resetAt);
    newWindow(s);
  });

  test(
    "once remaining reaches 0 nothing goes upstream until the reset: stale pages are STALE, cold users 429",
    async () => {
      const cached = coldUser(s, "budgetcached");
      const warm = await getGists(s, `/${cached}`);
      const resetAt = nowSeconds() + 3;
      s.fake.setRateLimit({ remaining: 1, resetAt });
      expect((await getGists(s, `/${coldUser(s, "lastone")}`)).status).toBe(200);
      const metrics = await scrapeMetrics(s);
      expect(sampleSum(metrics, "github_rate_limit_remaining")).toBe(0);
      expect(sampleSum(metrics, "github_rate_limit_reset_timestamp_seconds")).toBe(resetAt);
      await Bun.sleep(1_100);

      const sent = s.fake.requestCount();
      const stale = await getGists(s, `/${cached}`);
      expect([stale.status, stale.xCache]).toEqual([200, "STALE"]);
      expect(stale.body.data).toEqual(warm.body.data);
      for (const login of [coldUser(s, "budgetcold"), coldUser(s, "budgetcold2")]) {
        const res = await s.request(`/${login}`);
        retryAfterSeconds(res.clone(), resetAt - nowSeconds() + 1);
        await expectError(res, 429);
      }
      await Bun.sleep(300);
      expect(s.fake.requestCount()).toBe(sent);

      newWindow(s);
      await expectResumesAt(s, resetAt * 1000);
    },
    timedTestMs,
  );

  test(
    "a 403 with remaining 0 is a 429, and the next cold user gets 429 without another upstream request",
    async () => {
      const resetAt = nowSeconds() + 2;
      s.fake.setRateLimit({ remaining: 0, resetAt });
      const first = await s.request(`/${coldUser(s, "spent")}`);
      retryAfterSeconds(first.clone(), 3);
      await expectError(first, 429);
      const sent = s.fake.requestCount();
      const second = await s.request(`/${coldUser(s, "spent2")}`);
      retryAfterSeconds(second.clone(), 3);
      await expectError(second, 429);
      expect(s.fake.requestCount()).toBe(sent);
      newWindow(s);
      await expectResumesAt(s, resetAt * 1000);
    },
    timedTestMs,
  );

  // upstream.test.ts covers the 403 and 429 forms of the secondary limit; this one adds the stale page.
  test(
    "a secondary rate limit (retry-after 1) stops upstream requests for that long; stale pages stay STALE",
    async () => {
      const cached = coldUser(s, "secondarycached");
      await getGists(s, `/${cached}`);
      await Bun.sleep(1_100);
      const limited = coldUser(s, "secondary");
      s.fake.setFault(limited, { kind: "secondary-rate-limit", retryAfter: 1, times: 1 });
      const res = await s.request(`/${limited}`);
      const limitedAt = Date.now();
      retryAfterSeconds(res.clone(), 1);
      await expectError(res, 429);
      const sent = s.fake.requestCount();
      const cold = await s.request(`/${coldUser(s, "secondarycold")}`);
      retryAfterSeconds(cold.clone(), 1);
      await expectError(cold, 429);
      expect((await getGists(s, `/${cached}`)).xCache).toBe("STALE");
      expect(s.fake.requestCount()).toBe(sent);
      expect(Date.now() - limitedAt).toBeLessThan(800);
      await expectResumesAt(s, limitedAt + 1_000 - 100);
    },
    timedTestMs,
  );
});
