import { expect, test } from "bun:test";
import { sampleSum } from "../testing/prometheus-text.ts";
import { describeTargets, expectError, freshLogin, getGists, scrapeMetrics, until, timedTestMs, useStack, type Stack } from "./stack.ts";

const maxConcurrency = 16;
const cooldownMs = 1_000;

async function breakerState(s: Stack): Promise<number> {
  const metrics = await scrapeMetrics(s);
  expect(metrics.types.github_circuit_breaker_state).toBe("gauge");
  return sampleSum(metrics, "github_circuit_breaker_state");
}

describeTargets("upstream concurrency and retries", (target) => {
  const s = useStack(target, { UPSTREAM_MAX_CONCURRENCY: String(maxConcurrency), BREAKER_THRESHOLD: "1000" });

  test(`120 cold users at once: at most ${maxConcurrency} GitHub requests in flight, and every answer is 200`, async () => {
    const logins = Array.from({ length: 120 }, (_, i) => freshLogin(`crowd${i}`));
    for (const login of logins) s.fake.setUser(login, 1);
    s.fake.setFault("*", { kind: "latency", ms: 150 });
    s.fake.clearRequests();
    try {
      const replies = await Promise.all(logins.map((login) => getGists(s, `/${login}`)));
      expect(replies.filter((r) => r.status !== 200).map((r) => r.status)).toEqual([]);
    } finally {
      s.fake.setFault("*", null);
    }
    expect(s.fake.requestCount()).toBe(120);
    expect(s.fake.maxInFlight).toBeLessThanOrEqual(maxConcurrency);
    expect(s.fake.maxInFlight).toBeGreaterThanOrEqual(maxConcurrency - 4);
  });

  test("one 502 from GitHub is retried: the client gets 200 and GitHub saw 2 requests", async () => {
    const login = freshLogin("retry");
    s.fake.setUser(login, 2);
    s.fake.setFault(login, { kind: "status", status: 502, times: 1 });
    const reply = await getGists(s, `/${login}`);
    expect([reply.status, reply.body.data.length]).toEqual([200, 2]);
    expect(s.fake.requestCount(login)).toBe(2);
  });

  test("5xx on every try: 502 after 1 + UPSTREAM_RETRIES (2) requests", async () => {
    const login = freshLogin("retryout");
    s.fake.setUser(login, 2);
    s.fake.setFault(login, { kind: "status", status: 503 });
    await expectError(await s.request(`/${login}`), 502);
    expect(s.fake.requestCount(login)).toBe(3);
    s.fake.setFault(login, null);
  });

  test("a 404 is an answer, not a failure: it is asked for once", async () => {
    const login = freshLogin("noretry");
    await expectError(await s.request(`/${login}`), 404);
    expect(s.fake.requestCount(login)).toBe(1);
  });
});

describeTargets("circuit breaker", (target) => {
  const s = useStack(target, {
    UPSTREAM_RETRIES: "0",
    BREAKER_THRESHOLD: "3",
    BREAKER_COOLDOWN_MS: String(cooldownMs),
    CACHE_TTL: "1",
    CACHE_STALE_TTL: "0",
  });

  /** Make the breaker see `n` consecutive failures, each a 502 answer that reached GitHub. */
  async function fail(n: number): Promise<void> {
    s.fake.setFault("*", { kind: "status", status: 500 });
    for (let i = 0; i < n; i++) {
      const login = freshLogin("down");
      s.fake.setUser(login, 1);
      await expectError(await s.request(`/${login}`), 502);
      expect(s.fake.requestCount(login)).toBe(1);
    }
    s.fake.setFault("*", null);
  }

  /** A fresh user's request while the breaker is open: 502 at once, and GitHub never sees it. */
  async function expectFailsFast(): Promise<void> {
    const login = freshLogin("fast");
    s.fake.setUser(login, 1);
    const started = Date.now();
    await expectError(await s.request(`/${login}`), 502);
    expect(Date.now() - started).toBeLessThan(250);
    expect(s.fake.requestCount(login)).toBe(0);
  }

  test("UPSTREAM_RETRIES=0: one 502 from GitHub is the client's 502 after one request", async () => {
    const login = freshLogin("once");
    s.fake.setUser(login, 1);
    s.fake.setFault(login, { kind: "status", status: 502, times: 1 });
    await expectError(await s.request(`/${login}`), 502);
    expect(s.fake.requestCount(login)).toBe(1);
    expect((await getGists(s, `/${login}`)).status).toBe(200);
    expect(await breakerState(s)).toBe(0);
  });

  test(
    "after BREAKER_THRESHOLD failures it opens: fails fast, serves STALE, then one probe closes it",
    async () => {
      const held = freshLogin("held");
      s.fake.setUser(held, 2);
      const warm = await getGists(s, `/${held}`);
      await Bun.sleep(1_100);
      await fail(3);
      expect(await breakerState(s)).toBe(2);
      const openedAt = Date.now();
      await expectFailsFast();
      const stale = await getGists(s, `/${held}`);
      expect([stale.status, stale.xCache]).toEqual([200, "STALE"]);
      expect(stale.body.data).toEqual(warm.body.data);
      expect(s.fake.requestCount(held)).toBe(1);
      expect(Date.now() - openedAt).toBeLessThan(cooldownMs);

      await Bun.sleep(openedAt + cooldownMs + 100 - Date.now());
      const probe = freshLogin("probe");
      s.fake.setUser(probe, 1);
      s.fake.setFault(probe, { kind: "latency", ms: 400, times: 1 });
      const probing = getGists(s, `/${probe}`);
      await until(() => s.fake.inFlight === 1, 3_000, "the probe to reach GitHub");
      expect(await breakerState(s)).toBe(1);
      expect((await probing).status).toBe(200);
      expect(await breakerState(s)).toBe(0);
      const after = freshLogin("after");
      s.fake.setUser(after, 1);
      expect((await getGists(s, `/${after}`)).status).toBe(200);
      expect(s.fake.requestCount(after)).toBe(1);
    },
    timedTestMs,
  );

  test(
    "a failed probe opens it again for another cooldown",
    async () => {
      await fail(3);
      const openedAt = Date.now();
      expect(await breakerState(s)).toBe(2);
      await Bun.sleep(openedAt + cooldownMs + 100 - Date.now());
      await fail(1);
      const reopenedAt = Date.now();
      expect(await breakerState(s)).toBe(2);
      await expectFailsFast();
      expect(Date.now() - reopenedAt).toBeLessThan(cooldownMs);
      await Bun.sleep(reopenedAt + cooldownMs + 100 - Date.now());
      const login = freshLogin("healed");
      s.fake.setUser(login, 1);
      expect((await getGists(s, `/${login}`)).status).toBe(200);
      expect(await breakerState(s)).toBe(0);
    },
    timedTestMs,
  );
});
