import { expect, test } from "bun:test";
import type { Fault } from "../testing/fake-github.ts";
import { cacheStats, describeTargets, freshLogin, getGists, timedTestMs, until, upstreamRequests, useStack, type GistsReply, type Stack } from "./stack.ts";

const upstreamTimeoutMs = 400;
// A high breaker threshold keeps repeated upstream failures in one test from failing the next test fast.
const failureEnv = { UPSTREAM_TIMEOUT_MS: String(upstreamTimeoutMs), BREAKER_THRESHOLD: "1000" };

const refreshFailures: Array<[string, Fault]> = [
  ["500", { kind: "status", status: 500 }],
  ["hang", { kind: "hang" }],
  ["reset", { kind: "reset" }],
];

/** Assert a stale answer: 200, X-Cache STALE, an integer Age ≥ 1 and the body's stale cache block with the same age. */
function expectStale(reply: GistsReply, ttlSeconds: number): void {
  expect({ status: reply.status, xCache: reply.xCache }).toEqual({ status: 200, xCache: "STALE" });
  expect(reply.age ?? "").toMatch(/^\d+$/);
  const age = Number(reply.age);
  expect(age).toBeGreaterThanOrEqual(1);
  expect(reply.body.cache).toEqual({ hit: true, ttl_seconds: reply.body.cache.ttl_seconds, stale: true, age_seconds: age });
  expect(Number.isInteger(reply.body.cache.ttl_seconds)).toBe(true);
  expect(reply.body.cache.ttl_seconds).toBeGreaterThanOrEqual(0);
  expect(reply.body.cache.ttl_seconds).toBeLessThanOrEqual(ttlSeconds);
}

/** Ask until the answer is a fresh HIT (stale answers meanwhile are counted), or fail after `timeoutMs`. */
async function untilFreshHit(s: Stack, path: string, timeoutMs = 3_000): Promise<{ hit: GistsReply; staleSeen: number }> {
  let reply: GistsReply | undefined;
  let staleSeen = 0;
  await until(
    async () => {
      reply = await getGists(s, path);
      if (reply.xCache === "STALE") staleSeen++;
      return reply.xCache === "HIT";
    },
    timeoutMs,
    `${path} to be a fresh HIT`,
  );
  return { hit: reply!, staleSeen };
}

describeTargets("stale-while-revalidate", (target) => {
  const s = useStack(target, { CACHE_TTL: "1", CACHE_STALE_TTL: "60", ...failureEnv });

  test(
    "an expired page is answered at once as STALE while exactly one background refresh goes upstream",
    async () => {
      const login = freshLogin("swr");
      s.fake.setUser(login, 2);
      const warm = await getGists(s, `/${login}`);
      await Bun.sleep(1_100);
      s.fake.setUser(login, 3);
      // Slower than the burst below, well inside UPSTREAM_TIMEOUT_MS.
      s.fake.setFault(login, { kind: "latency", ms: 250, times: 1 });
      const statsBefore = await cacheStats(s);

      const started = Date.now();
      const burst = await Promise.all(Array.from({ length: 20 }, () => getGists(s, `/${login}`)));
      const elapsed = Date.now() - started;
      for (const reply of burst) {
        expectStale(reply, 1);
        expect(reply.body.data).toEqual(warm.body.data);
      }
      expect(elapsed).toBeLessThan(250);
      await until(() => s.fake.requestCount(login) >= 2, 3_000, "the background refresh to reach GitHub");

      const { hit, staleSeen } = await untilFreshHit(s, `/${login}`);
      expect(hit.body.data.map((g: any) => g.id)).toEqual(s.fake.gists(login).map((g) => g.id));
      expect(hit.body.cache.stale ?? false).toBe(false);
      expect(s.fake.requestCount(login)).toBe(2);
      const statsAfter = await cacheStats(s);
      expect(statsAfter.stale_served - statsBefore.stale_served).toBe(20 + staleSeen);
    },
    timedTestMs,
  );

  test("the background refresh revalidates with If-None-Match; GitHub's 304 makes the page fresh again", async () => {
    const login = freshLogin("swr304");
    s.fake.setUser(login, 4);
    const warm = await getGists(s, `/${login}`);
    await Bun.sleep(1_100);
    expectStale(await getGists(s, `/${login}`), 1);
    const { hit } = await untilFreshHit(s, `/${login}`);
    expect(hit.body.data).toEqual(warm.body.data);
    const asked = upstreamRequests(s, login);
    expect(asked.map((r) => r.status)).toEqual([200, 304]);
    expect(asked[1]!.headers["if-none-match"]).toBe(asked[0]!.responseHeaders!.etag!);
  });

  test(
    "while refreshes fail (500, hang, reset) stale answers keep coming and nothing bad is cached",
    async () => {
      const logins = refreshFailures.map(([name]) => freshLogin(`swrfail${name}`));
      for (const login of logins) s.fake.setUser(login, 2);
      const warm = await Promise.all(logins.map((login) => getGists(s, `/${login}`)));
      await Bun.sleep(1_100);
      for (const [i, [, fault]] of refreshFailures.entries()) s.fake.setFault(logins[i]!, fault);
      const staleOf = async (login: string, i: number) => {
        const reply = await getGists(s, `/${login}`);
        expectStale(reply, 1);
        expect(reply.body.data).toEqual(warm[i]!.body.data);
      };
      await Promise.all(logins.map(staleOf));
      await until(() => logins.every((login) => s.fake.requestCount(login) >= 2), 3_000, "the refreshes to reach GitHub");
      await until(() => s.fake.inFlight === 0, 3_000, "the failed refreshes to end");
      for (const _ of [1, 2, 3]) {
        await Promise.all(logins.map(staleOf));
        await Bun.sleep(150);
      }
      for (const login of logins) {
        s.fake.setFault(login, null);
        s.fake.setUser(login, 5);
      }
      const fresh = await Promise.all(logins.map((login) => untilFreshHit(s, `/${login}`)));
      expect(fresh.map(({ hit }) => hit.body.data.length)).toEqual([5, 5, 5]);
    },
    timedTestMs,
  );
});

describeTargets("past the stale window", (target) => {
  const s = useStack(target, { CACHE_TTL: "1", CACHE_STALE_TTL: "1", ...failureEnv });

  test(
    "STALE lasts CACHE_STALE_TTL after expiry; then a foreground fetch, and if that fails the old entry as STALE",
    async () => {
      const inWindow = freshLogin("window");
      const pastWindow = freshLogin("pastwindow");
      const failing = refreshFailures.map(([name]) => freshLogin(`sie${name}`));
      const logins = [inWindow, pastWindow, ...failing];
      for (const login of logins) s.fake.setUser(login, 3);
      // The page checked inside the window is stored alone, so its age is known within one request's time
      // whatever the machine's load; the others are only ever asked for past the window.
      const inWindowWarm = await getGists(s, `/${inWindow}`);
      await Bun.sleep(1_100);
      expectStale(await getGists(s, `/${inWindow}`), 1);
      const warm = [inWindowWarm, ...(await Promise.all(logins.slice(1).map((login) => getGists(s, `/${login}`))))];
      const warmedAt = Date.now();

      await Bun.sleep(Math.max(0, warmedAt + 2_200 - Date.now()));
      const foreground = await getGists(s, `/${pastWindow}`);
      expect(s.fake.requestCount(pastWindow)).toBe(2);
      expect([foreground.status, foreground.xCache]).toEqual([200, "REVALIDATED"]);
      expect(upstreamRequests(s, pastWindow)[1]!.status).toBe(304);

      for (const [i, [, fault]] of refreshFailures.entries()) s.fake.setFault(failing[i]!, fault);
      const replies = await Promise.all(failing.map((login) => getGists(s, `/${login}`)));
      replies.forEach((reply, i) => {
        expectStale(reply, 1);
        expect(reply.body.data).toEqual(warm[i + 2]!.body.data);
        expect(s.fake.requestCount(failing[i]!)).toBeGreaterThanOrEqual(2);
      });
      for (const login of failing) s.fake.setFault(login, null);
      await until(() => s.fake.inFlight === 0, 3_000, "the failed fetches to end");
      const recovered = await Promise.all(failing.map((login) => getGists(s, `/${login}`)));
      expect(recovered.map((r) => [r.status, r.xCache])).toEqual(failing.map(() => [200, "REVALIDATED"]));
    },
    timedTestMs,
  );
});
