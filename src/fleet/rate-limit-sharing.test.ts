import { describe, expect, test } from "bun:test";
import { createRateLimitBudget } from "../github/rate-limit-budget.ts";
import { createManualClock } from "../testing/manual-clock.ts";
import { createMemoryTier } from "./memory-store.ts";
import { shareBudget } from "./rate-limit-sharing.ts";

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
});
