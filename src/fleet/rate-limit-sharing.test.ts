import { describe, expect, test } from "bun:test";
import { createRateLimitBudget } from "../github/rate-limit-budget.ts";
import { createManualClock } from "../testing/manual-clock.ts";
import { createMemoryTier } from "./memory-store.ts";
import { readBudgetSnapshot, shareBudget } from "./rate-limit-sharing.ts";

describe("shareBudget", () => {
  test("what one replica learns from GitHub the others learn at once, and one that joins later recalls it", async () => {
    const clock = createManualClock();
    const tier = createMemoryTier(clock);
    const replica = () => {
      const budget = createRateLimitBudget(clock.now);
      const sharing = shareBudget(tier.connect(), () => budget, clock.now);
      return { budget, sharing };
    };
    const a = replica();
    const b = replica();
    const resetAt = clock.now() / 1000 + 600;
    a.sharing.learned({ remaining: 0, resetAt, pausedUntilMs: 0 });
    await clock.settle();
    expect(b.budget.waitSeconds()).toBe(600);
    const late = replica();
    expect(late.budget.waitSeconds()).toBe(0);
    await late.sharing.recall();
    expect(late.budget.waitSeconds()).toBe(600);
  });

  test("a budget is kept until its window resets or its pause ends, at most an hour, and not at all when it says nothing", async () => {
    const clock = createManualClock();
    const tier = createMemoryTier(clock);
    const store = tier.connect();
    const sharing = shareBudget(store, () => createRateLimitBudget(clock.now), clock.now);
    sharing.learned({ remaining: 10, resetAt: clock.now() / 1000 + 7_200, pausedUntilMs: 0 });
    await clock.settle();
    await clock.advance(3_599_999);
    expect(await store.budget()).not.toBeNull();
    await clock.advance(1);
    expect(await store.budget()).toBeNull();
    sharing.learned({ pausedUntilMs: clock.now() + 60_000 });
    await clock.advance(59_999);
    expect(await store.budget()).not.toBeNull();
    await clock.advance(1);
    expect(await store.budget()).toBeNull();
    sharing.learned({ remaining: 5, pausedUntilMs: 0 });
    await clock.settle();
    expect(await store.budget()).toBeNull();
  });

  test("a secondary limit's pause and streak reach the others; an absurd budget from the store is bounded and ends by itself", async () => {
    const clock = createManualClock();
    const tier = createMemoryTier(clock);
    const replica = () => {
      const budget = createRateLimitBudget(clock.now, { onLearned: (snapshot) => sharing.learned(snapshot) });
      const sharing = shareBudget(tier.connect(), () => budget, clock.now);
      return { budget, sharing };
    };
    const a = replica();
    const b = replica();
    a.budget.limited({ kind: "secondary", exhausted: false });
    await clock.settle();
    expect([b.budget.waitSeconds(), b.budget.kind(), b.budget.secondaryStreak]).toEqual([60, "secondary", 1]);
    // Kept past the pause for the streak's quiet period, so a replica that starts then doubles too.
    await clock.advance(60_000 + 600_000);
    const late = replica();
    await late.sharing.recall();
    expect([late.budget.waitSeconds(), late.budget.secondaryStreak]).toEqual([0, 1]);
    expect(late.budget.limited({ kind: "secondary", exhausted: false })).toBe(120);

    const store = tier.connect();
    await store.shareBudget({ pausedUntilMs: 1e308, remaining: 0, resetAt: 1e15, secondaryStreak: 99 }, 3_600_000);
    const fresh = replica();
    await fresh.sharing.recall();
    expect([fresh.budget.waitSeconds(), fresh.budget.secondaryStreak]).toEqual([3600, 5]);
    await clock.advance(3_600_000);
    expect(fresh.budget.waitSeconds()).toBe(0);
  });

  test("a budget read from Redis or a message keeps only fields of the right type", () => {
    expect(readBudgetSnapshot({ pausedUntilMs: "soon" })).toBeUndefined();
    expect(readBudgetSnapshot({ pausedUntilMs: 5, remaining: "3", resetAt: 9, pauseKind: "tertiary", secondaryStreak: 2 })).toEqual({
      pausedUntilMs: 5,
      remaining: undefined,
      resetAt: 9,
      pauseKind: undefined,
      secondaryStreak: 2,
    });
  });
});
