import { describe, expect, test } from "bun:test";
import { createRateLimitBudget } from "./rate-limit-budget.ts";
import type { RateLimitRefusal } from "./rate-limit-rules.ts";

const start = 1_700_000_000_000;

function budgetAt() {
  let now = start;
  const changes: Array<[string, number, string]> = [];
  const learned: unknown[] = [];
  const budget = createRateLimitBudget(() => now, {
    onChange: (state, wait, kind) => changes.push([state, wait, kind]),
    onLearned: (snapshot) => learned.push(snapshot),
  });
  return { budget, changes, learned, now: () => now, advance: (ms: number) => (now += ms) };
}

/** A secondary limit without retry-after, the window not spent. */
const secondary: RateLimitRefusal = { kind: "secondary", exhausted: false };

describe("the pause a rate limit takes", () => {
  test("each form: retry-after, a spent window until its reset, a minute for an unknown reset, the backoff", () => {
    const { budget, now } = budgetAt();
    expect(budget.limited({ kind: "secondary", exhausted: false, retryAfterSeconds: 42 })).toBe(42);
    const fresh = budgetAt();
    expect(fresh.budget.limited({ kind: "primary", exhausted: true, resetAt: now() / 1000 + 1234 })).toBe(1234);
    expect(budgetAt().budget.limited({ kind: "primary", exhausted: true })).toBe(60);
    expect(budgetAt().budget.limited(secondary)).toBe(60);
    expect(budget.kind()).toBe("secondary");
    expect(fresh.budget.kind()).toBe("primary");
  });

  test("secondary limits in a row double the pause up to 15 minutes; a successful answer after the pause starts again at a minute", () => {
    const { budget, advance } = budgetAt();
    const pauses: number[] = [];
    for (let i = 0; i < 6; i++) {
      pauses.push(budget.limited(secondary));
      advance(pauses.at(-1)! * 1000);
    }
    expect(pauses).toEqual([60, 120, 240, 480, 900, 900]);
    budget.answered();
    expect(budget.limited(secondary)).toBe(60);
  });

  test("a successful answer during the pause (a request sent before it) does not forget the doubling", () => {
    const { budget, advance } = budgetAt();
    budget.limited(secondary);
    advance(30_000);
    budget.answered();
    advance(30_000);
    expect(budget.limited(secondary)).toBe(120);
  });

  test("the doubling is forgotten 15 minutes after the last pause ended, without any answer", () => {
    const { budget, advance } = budgetAt();
    budget.limited(secondary);
    advance(60_000 + 899_999);
    expect(budget.limited(secondary)).toBe(120);
    advance(120_000 + 900_000);
    expect(budget.limited(secondary)).toBe(60);
  });

  test("limits answered to requests already in flight when the pause began count once", () => {
    const { budget, advance } = budgetAt();
    expect(budget.limited(secondary)).toBe(60);
    advance(200);
    for (let i = 0; i < 15; i++) expect(budget.limited(secondary)).toBe(60);
    expect(budget.secondaryStreak).toBe(1);
  });

  test("one line as an episode starts (its kind and pause), one as it ends, however many requests it refuses", () => {
    const { budget, changes, advance } = budgetAt();
    budget.limited(secondary);
    for (let i = 0; i < 10; i++) budget.waitSeconds();
    advance(60_000);
    for (let i = 0; i < 10; i++) budget.waitSeconds();
    budget.update({ remaining: 0, resetAt: start / 1000 + 600 });
    // A spent window learned from a successful answer is told by the next request's look at the budget.
    expect(changes).toHaveLength(2);
    budget.waitSeconds();
    advance(540_000);
    budget.waitSeconds();
    expect(changes).toEqual([
      ["exhausted", 60, "secondary"],
      ["available", 0, "secondary"],
      ["exhausted", 540, "primary"],
      ["available", 0, "primary"],
    ]);
  });

  test("a count whose reset is in the past or over an hour ahead has an unknown reset: an earlier window's cannot hold it", () => {
    const { budget, now } = budgetAt();
    budget.update({ remaining: 10, resetAt: now() / 1000 + 600 });
    budget.update({ remaining: 0, resetAt: now() / 1000 + 1e9 });
    expect([budget.remaining, budget.resetAt, budget.waitSeconds()]).toEqual([0, undefined, 0]);
    // The refusal that came with it pauses a minute: the rule for a spent window with an unknown reset.
    expect(budget.limited({ kind: "primary", exhausted: true })).toBe(60);
    budget.update({ remaining: 3, resetAt: now() / 1000 - 10 });
    expect([budget.remaining, budget.resetAt]).toEqual([3, undefined]);
  });

  test("what is not a count or a reset changes nothing", () => {
    const { budget, now } = budgetAt();
    budget.update({ remaining: 10, resetAt: now() / 1000 + 600 });
    budget.update({ remaining: -1 });
    budget.update({ remaining: 2.5, resetAt: Number.NaN });
    expect([budget.remaining, budget.resetAt]).toEqual([10, now() / 1000 + 600]);
  });
});

describe("merging another replica's budget", () => {
  test("an absurd pause, reset, count or streak is bounded: at most an hour, then the budget recovers by itself", () => {
    const { budget, now, advance } = budgetAt();
    budget.merge({ pausedUntilMs: 1e308, remaining: 0, resetAt: 1e12, secondaryStreak: 1e9, pauseKind: "bogus" as never });
    expect(budget.waitSeconds()).toBe(3600);
    expect([budget.resetAt, budget.remaining, budget.secondaryStreak, budget.kind()]).toEqual([undefined, undefined, 5, "secondary"]);
    advance(3_600_000);
    expect(budget.waitSeconds()).toBe(0);
    budget.merge({ pausedUntilMs: Number.NaN, remaining: Number.NaN, resetAt: now() / 1000 - 5 });
    budget.merge({ pausedUntilMs: now() - 1_000, remaining: -4, resetAt: now() / 1000 + 60 });
    expect([budget.waitSeconds(), budget.remaining]).toEqual([0, undefined]);
  });

  test("a shared pause carries its kind, and a shared streak makes this replica's next secondary limit longer", () => {
    const { budget, now, advance } = budgetAt();
    budget.merge({ pausedUntilMs: now() + 120_000, pauseKind: "secondary", secondaryStreak: 2 });
    expect([budget.waitSeconds(), budget.kind()]).toEqual([120, "secondary"]);
    advance(120_000);
    expect(budget.limited(secondary)).toBe(240);
  });

  test("what a replica learns is told to its listener, with the pause's kind and the streak", () => {
    const { budget, learned, now } = budgetAt();
    budget.limited(secondary);
    expect(learned).toEqual([{ remaining: undefined, resetAt: undefined, pausedUntilMs: now() + 60_000, pauseKind: "secondary", secondaryStreak: 1 }]);
  });
});
