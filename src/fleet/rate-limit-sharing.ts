import type { BudgetSnapshot, RateLimitBudget } from "../github/rate-limit-budget.ts";
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
 * Makes one token's GitHub budget the fleet's: what a replica learns from GitHub's headers (or a secondary
 * limit's pause) goes to the others at once and is kept in the shared store for replicas that start or
 * reconnect later.
 */
export function shareBudget<V>(store: SharedStore<V>, budget: () => RateLimitBudget, now: () => number = Date.now): BudgetSharing {
  store.onBudget((snapshot) => budget().merge(snapshot));
  return {
    learned(snapshot) {
      // Kept until the window resets or the pause ends, whichever is later; an hour at most (GitHub's window).
      const untilMs = Math.max(snapshot.pausedUntilMs, (snapshot.resetAt ?? 0) * 1000);
      const ttlMs = Math.min(windowMs, Math.floor(untilMs - now()));
      if (ttlMs > 0) void store.shareBudget(snapshot, ttlMs);
    },
    async recall() {
      const kept = await store.budget();
      if (kept) budget().merge(kept);
    },
  };
}
