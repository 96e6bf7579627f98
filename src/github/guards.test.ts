import { describe, expect, test } from "bun:test";
import { createCircuitBreaker } from "./breaker.ts";
import { createRateLimitBudget } from "./rate-limit-budget.ts";
import type { RateLimitRefusal } from "./rate-limit-rules.ts";
import { UpstreamError, type GistsFetch, type GithubClient } from "./client.ts";
import { createConcurrencyLimiter, QueueTimeout } from "./limiter.ts";
import { createRequestPace } from "./request-pace.ts";
import { createUpstream } from "./upstream.ts";

/** A secondary limit that asked for `seconds` with retry-after. */
const retryAfter = (seconds: number): RateLimitRefusal => ({ kind: "secondary", retryAfterSeconds: seconds, exhausted: false });

function clock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("createCircuitBreaker", () => {
  test("opens after the threshold, fails fast, then lets one probe through", () => {
    const time = clock();
    const states: string[] = [];
    const breaker = createCircuitBreaker({ threshold: 3, cooldownMs: 1000, now: time.now, onChange: (s) => states.push(s) });
    for (let index = 0; index < 3; index++) {
      expect(breaker.allow()).toBe(true);
      breaker.failure();
    }
    expect(breaker.state).toBe("open");
    expect(breaker.allow()).toBe(false);
    time.advance(1000);
    expect(breaker.allow()).toBe(true);
    expect(breaker.state).toBe("half-open");
    expect(breaker.allow()).toBe(false);
    breaker.failure();
    expect(breaker.state).toBe("open");
    time.advance(1000);
    expect(breaker.allow()).toBe(true);
    breaker.success();
    expect(breaker.state).toBe("closed");
    expect(states).toEqual(["open", "half-open", "open", "half-open", "closed"]);
  });

  test("a success resets the count of failures", () => {
    const breaker = createCircuitBreaker({ threshold: 2, cooldownMs: 1000 });
    breaker.failure();
    breaker.success();
    breaker.failure();
    expect(breaker.state).toBe("closed");
  });
});

describe("createRateLimitBudget", () => {
  test("waits for the reset once remaining is 0", () => {
    const time = clock();
    const budget = createRateLimitBudget(time.now);
    budget.update({ remaining: 1, resetAt: time.now() / 1000 + 30 });
    expect(budget.waitSeconds()).toBe(0);
    budget.update({ remaining: 0, resetAt: time.now() / 1000 + 30 });
    expect(budget.waitSeconds()).toBe(30);
    time.advance(29_500);
    expect(budget.waitSeconds()).toBe(1);
    time.advance(500);
    expect(budget.waitSeconds()).toBe(0);
  });

  test("tells each move between available and exhausted once, however often it is asked", () => {
    const time = clock();
    const changes: Array<[string, number, string]> = [];
    const budget = createRateLimitBudget(time.now, { onChange: (state, wait, kind) => changes.push([state, wait, kind]) });
    budget.update({ remaining: 2, resetAt: time.now() / 1000 + 30 });
    budget.update({ remaining: 0, resetAt: time.now() / 1000 + 30 });
    for (let i = 0; i < 5; i++) budget.waitSeconds();
    budget.limited(retryAfter(10));
    time.advance(30_000);
    for (let i = 0; i < 5; i++) budget.waitSeconds();
    budget.limited(retryAfter(3));
    budget.update({ remaining: 59, resetAt: time.now() / 1000 + 3600 });
    time.advance(3_000);
    budget.waitSeconds();
    expect(changes).toEqual([
      ["exhausted", 30, "primary"],
      ["available", 0, "primary"],
      ["exhausted", 3, "secondary"],
      ["available", 0, "secondary"],
    ]);
  });

  test("a pause (secondary limit) holds whatever the window says", () => {
    const time = clock();
    const budget = createRateLimitBudget(time.now);
    budget.update({ remaining: 4000, resetAt: time.now() / 1000 + 3000 });
    expect(budget.limited(retryAfter(7))).toBe(7);
    expect(budget.waitSeconds()).toBe(7);
    time.advance(7000);
    expect(budget.waitSeconds()).toBe(0);
  });
});

describe("createConcurrencyLimiter", () => {
  test("holds at most max, hands slots over in order, and times waiters out", async () => {
    const limiter = createConcurrencyLimiter(2);
    await limiter.acquire(100);
    await limiter.acquire(100);
    const order: number[] = [];
    const third = limiter.acquire(1000).then(() => order.push(3));
    const fourth = limiter.acquire(1000).then(() => order.push(4));
    const late = limiter.acquire(10);
    expect(limiter.queued).toBe(3);
    await expect(late).rejects.toBeInstanceOf(QueueTimeout);
    limiter.release();
    limiter.release();
    await Promise.all([third, fourth]);
    expect(order).toEqual([3, 4]);
    expect([limiter.active, limiter.peak]).toEqual([2, 2]);
  });
});

describe("createUpstream", () => {
  const page: GistsFetch = { kind: "page", page: { gists: [], links: {} } };

  function upstreamWith(answers: Array<GistsFetch | UpstreamError>, options: { retries?: number; timeoutMs?: number; maxPerMinute?: number } = {}) {
    const time = clock();
    const calls: number[] = [];
    const client = {
      async listUserGists(_user: string, _page: number, _perPage: number, attempt: { timeoutMs: number }) {
        calls.push(attempt.timeoutMs);
        const next = answers.shift();
        if (next instanceof UpstreamError) throw next;
        return next ?? page;
      },
    } as unknown as GithubClient;
    const budget = createRateLimitBudget(time.now);
    const breaker = createCircuitBreaker({ threshold: 2, cooldownMs: 10_000, now: time.now });
    const retries: number[] = [];
    const failures: string[] = [];
    const refusals: string[] = [];
    const upstream = createUpstream({
      client,
      budget,
      breaker,
      limiter: createConcurrencyLimiter(4),
      pace: options.maxPerMinute === undefined ? undefined : createRequestPace(options.maxPerMinute, time.now),
      timeoutMs: options.timeoutMs ?? 5000,
      retries: options.retries ?? 2,
      now: time.now,
      random: () => 0.5,
      sleep: async (ms) => {
        retries.push(ms);
        time.advance(ms);
      },
      onRetry: () => {},
      onFailure: ({ username, error, attempts }) => failures.push(`${username}: ${error.kind} after ${attempts}`),
      onRefused: (reason) => refusals.push(reason),
    });
    return { upstream, calls, breaker, budget, retries, time, failures, refusals };
  }

  test("retries 5xx and connection errors with backoff, inside one deadline", async () => {
    const { upstream, calls, retries, breaker } = upstreamWith([
      new UpstreamError("unavailable", "502", { retryable: true }),
      new UpstreamError("unavailable", "reset", { retryable: true }),
    ]);
    expect(await upstream.fetchPage("octocat", 1, 30)).toEqual(page);
    expect(calls.length).toBe(3);
    expect(retries).toEqual([35, 60]);
    expect(calls[1]).toBe(5000 - 35);
    expect(breaker.state).toBe("closed");
  });

  test("does not retry what cannot succeed, and gives up when retries run out", async () => {
    const notFound = upstreamWith([new UpstreamError("not-found", "gone")]);
    await expect(notFound.upstream.fetchPage("x", 1, 30)).rejects.toMatchObject({ kind: "not-found" });
    expect(notFound.calls.length).toBe(1);

    const down = upstreamWith(
      Array.from({ length: 5 }, () => new UpstreamError("unavailable", "500", { retryable: true })),
      { retries: 1 },
    );
    await expect(down.upstream.fetchPage("x", 1, 30)).rejects.toMatchObject({ kind: "unavailable" });
    expect(down.calls.length).toBe(2);
  });

  test("no retry starts when the deadline cannot hold it", async () => {
    const { upstream, calls } = upstreamWith([new UpstreamError("unavailable", "500", { retryable: true })], { timeoutMs: 60 });
    await expect(upstream.fetchPage("x", 1, 30)).rejects.toMatchObject({ kind: "unavailable" });
    expect(calls.length).toBe(1);
  });

  test("an open breaker fails fast without calling GitHub", async () => {
    const { upstream, calls } = upstreamWith(
      Array.from({ length: 2 }, () => new UpstreamError("timeout", "slow")),
      { retries: 0 },
    );
    await expect(upstream.fetchPage("x", 1, 30)).rejects.toMatchObject({ kind: "timeout" });
    await expect(upstream.fetchPage("x", 1, 30)).rejects.toMatchObject({ kind: "timeout" });
    await expect(upstream.fetchPage("x", 1, 30)).rejects.toMatchObject({ kind: "unavailable" });
    expect(calls.length).toBe(2);
  });

  test("a rate limit pauses every later request without calling GitHub", async () => {
    const { upstream, calls, time } = upstreamWith([new UpstreamError("rate-limited", "slow down", { refusal: retryAfter(5) })]);
    await expect(upstream.fetchPage("x", 1, 30)).rejects.toMatchObject({ kind: "rate-limited" });
    await expect(upstream.fetchPage("y", 1, 30)).rejects.toMatchObject({ kind: "rate-limited", retryAfterSeconds: 5 });
    expect(calls.length).toBe(1);
    time.advance(5000);
    expect(await upstream.fetchPage("y", 1, 30)).toEqual(page);
  });

  test("the Retry-After of GitHub's rate limit is the budget's pause: a secondary limit without one waits a minute, then two", async () => {
    const secondary = () => new UpstreamError("rate-limited", "secondary", { refusal: { kind: "secondary", exhausted: false } });
    const { upstream, calls, time, budget } = upstreamWith([secondary(), secondary()]);
    await expect(upstream.fetchPage("x", 1, 30)).rejects.toMatchObject({ kind: "rate-limited", retryAfterSeconds: 60 });
    time.advance(20_000);
    await expect(upstream.fetchPage("y", 1, 30)).rejects.toMatchObject({ kind: "rate-limited", retryAfterSeconds: 40 });
    time.advance(40_000);
    await expect(upstream.fetchPage("x", 1, 30)).rejects.toMatchObject({ kind: "rate-limited", retryAfterSeconds: 120 });
    time.advance(120_000);
    expect(await upstream.fetchPage("x", 1, 30)).toEqual(page);
    expect([calls.length, budget.secondaryStreak]).toEqual([3, 0]);
  });

  test("within the pace a request waits for room in the minute; one that cannot get it within its deadline is not sent", async () => {
    const { upstream, calls, time, retries, refusals, budget } = upstreamWith([], { maxPerMinute: 2 });
    expect(await upstream.fetchPage("a", 1, 30)).toEqual(page);
    time.advance(58_000);
    expect(await upstream.fetchPage("b", 1, 30)).toEqual(page);
    // Full until "a" is a minute old: 2 s away, within the 5 s deadline.
    expect(await upstream.fetchPage("c", 1, 30)).toEqual(page);
    expect(retries).toEqual([2_000]);
    // Full until "b" is a minute old: 58 s away, past the deadline.
    await expect(upstream.fetchPage("d", 1, 30)).rejects.toMatchObject({ kind: "rate-limited", retryAfterSeconds: 58 });
    expect([calls.length, refusals]).toEqual([3, ["rate-limited"]]);
    // The local pace is not GitHub's limit: the budget did not pause.
    expect(budget.waitSeconds()).toBe(0);
    time.advance(58_000);
    expect(await upstream.fetchPage("d", 1, 30)).toEqual(page);
  });

  test("reports each fetch that failed at GitHub once, and each refused one as a refusal, never both", async () => {
    const { upstream, failures, refusals, time } = upstreamWith(
      [
        new UpstreamError("unavailable", "500", { retryable: true }),
        new UpstreamError("unavailable", "500", { retryable: true }),
        new UpstreamError("unavailable", "500", { retryable: true }),
        new UpstreamError("timeout", "slow"),
        new UpstreamError("not-found", "gone"),
        new UpstreamError("rate-limited", "slow down", { refusal: retryAfter(5) }),
      ],
      { retries: 2 },
    );
    await expect(upstream.fetchPage("a", 1, 30)).rejects.toMatchObject({ kind: "unavailable" });
    await expect(upstream.fetchPage("b", 1, 30)).rejects.toMatchObject({ kind: "timeout" });
    for (const user of ["c", "d"]) await expect(upstream.fetchPage(user, 1, 30)).rejects.toMatchObject({ kind: "unavailable" });
    time.advance(10_000);
    await expect(upstream.fetchPage("e", 1, 30)).rejects.toMatchObject({ kind: "not-found" });
    await expect(upstream.fetchPage("f", 1, 30)).rejects.toMatchObject({ kind: "rate-limited" });
    await expect(upstream.fetchPage("g", 1, 30)).rejects.toMatchObject({ kind: "rate-limited" });
    expect(failures).toEqual(["a: unavailable after 3", "b: timeout after 1", "f: rate-limited after 1"]);
    expect(refusals).toEqual(["breaker-open", "breaker-open", "rate-limited"]);
  });
});

describe("a budget shared by replicas", () => {
  test("merging keeps the more careful view: a later window, the lower count, an exhaustion until its reset, the longer pause", () => {
    let at = 1_000_000;
    const budget = createRateLimitBudget(() => at);
    budget.update({ remaining: 100, resetAt: 2_000 });
    budget.merge({ remaining: 150, resetAt: 2_000, pausedUntilMs: 0 });
    expect(budget.remaining).toBe(100);
    budget.merge({ remaining: 40, resetAt: 2_000, pausedUntilMs: 0 });
    expect(budget.remaining).toBe(40);
    budget.merge({ remaining: 4999, resetAt: 4_000, pausedUntilMs: 0 });
    expect([budget.remaining, budget.resetAt]).toEqual([4999, 4_000]);
    budget.merge({ remaining: 0, resetAt: 1_500, pausedUntilMs: 0 });
    expect(budget.waitSeconds()).toBe(500);
    budget.merge({ pausedUntilMs: at + 900_000 });
    expect(budget.waitSeconds()).toBe(900);
    at += 1_000_000;
    expect(budget.waitSeconds()).toBe(0);
  });

  test("what a replica learns from GitHub is told to its listener; what it merges is not", () => {
    const heard: unknown[] = [];
    const budget = createRateLimitBudget(() => 0, { onLearned: (snapshot) => heard.push(snapshot) });
    budget.update({ remaining: 7, resetAt: 60 });
    budget.limited(retryAfter(30));
    budget.merge({ remaining: 3, resetAt: 60, pausedUntilMs: 0 });
    expect(heard).toEqual([
      { remaining: 7, resetAt: 60, pausedUntilMs: 0, pauseKind: "secondary", secondaryStreak: 0 },
      { remaining: 7, resetAt: 60, pausedUntilMs: 30_000, pauseKind: "secondary", secondaryStreak: 1 },
    ]);
  });
});
