import type { BudgetSnapshot, RateLimitBudget } from "../github/rate-limit-budget.ts";
import { secondaryQuietMs } from "../github/rate-limit-rules.ts";
import type { SharedStore } from "./shared-store.ts";

/** One token's GitHub budget made the fleet's: what to call when this replica learns something, and when it (re)joins. */
export interface BudgetSharing {
  /** Give to the rate-limit budget as its `onLearned`: what this replica learns from GitHub, the fleet learns. */
  learned(snapshot: BudgetSnapshot): void;
  /** Takes the budget the fleet kept, for a replica that starts or reconnects. */
  recall(): Promise<void>;
}

// GitHub's primary window: nothing about it is worth keeping longer.
const windowMs = 3_600_000;

/**
 * Makes one token's GitHub budget the fleet's: what a replica learns from GitHub's headers (or a rate limit's
 * pause and the secondary limits' streak) goes to the others at once and is kept in the shared store for
 * replicas that start or reconnect later. The budget bounds whatever it merges (rate-limit-budget.ts).
 */
export function shareBudget<V>(store: SharedStore<V>, budget: () => RateLimitBudget, now: () => number = Date.now): BudgetSharing {
  store.onBudget((snapshot) => budget().merge(snapshot));
  return {
    learned(snapshot) {
      // Kept until the window resets, the pause ends or (with a streak) its quiet period ends; an hour at most.
      const streakUntilMs = snapshot.secondaryStreak ? snapshot.pausedUntilMs + secondaryQuietMs : 0;
      const untilMs = Math.max(snapshot.pausedUntilMs, (snapshot.resetAt ?? 0) * 1000, streakUntilMs);
      const ttlMs = Math.min(windowMs, Math.floor(untilMs - now()));
      if (ttlMs > 0) void store.shareBudget(snapshot, ttlMs);
    },
    async recall() {
      const kept = await store.budget();
      if (kept) budget().merge(kept);
    },
  };
}

/**
 * A budget as another replica wrote it (in Redis or a message), field by field: a field of the wrong type is
 * left out; without a pause end it is not a budget. Values are bounded when merged, not here.
 */
export function readBudgetSnapshot(value: Record<string, unknown>): BudgetSnapshot | undefined {
  if (typeof value.pausedUntilMs !== "number") return undefined;
  const number = (field: unknown) => (typeof field === "number" ? field : undefined);
  return {
    pausedUntilMs: value.pausedUntilMs,
    remaining: number(value.remaining),
    resetAt: number(value.resetAt),
    pauseKind: value.pauseKind === "primary" || value.pauseKind === "secondary" ? value.pauseKind : undefined,
    secondaryStreak: number(value.secondaryStreak),
  };
}
