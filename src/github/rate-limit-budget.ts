import type { RateLimitState } from "./client.ts";

/** GitHub's rate-limit window as last reported, and whether the service may spend from it. */
export type RateLimitBudget = ReturnType<typeof createRateLimitBudget>;

/** What a budget knows, as replicas share it: the window's remaining requests and reset, and any pause. */
export interface BudgetSnapshot {
  remaining?: number;
  resetAt?: number;
  pausedUntilMs: number;
}

/** Whether the budget lets requests go: "exhausted" until the window resets or the pause ends. */
export type BudgetState = "available" | "exhausted";

/** Who hears about the budget. */
export interface BudgetListeners {
  /** Each move between available and exhausted, once (the seconds to wait with "exhausted"). */
  onChange?: (state: BudgetState, waitSeconds: number) => void;
  /** What this process learned from GitHub (not what `merge` brought in), so it can be shared. */
  onLearned?: (snapshot: BudgetSnapshot) => void;
}

/** Tracks x-ratelimit-remaining/-reset and secondary-limit pauses; `now` is injectable for tests. */
export function createRateLimitBudget(now: () => number = Date.now, listeners: BudgetListeners = {}) {
  let remaining: number | undefined;
  let limit: number | undefined;
  let resetAt: number | undefined;
  let pausedUntilMs = 0;
  let state: BudgetState = "available";
  const snapshot = (): BudgetSnapshot => ({ remaining, resetAt, pausedUntilMs });

  const wait = (): number => {
    const nowMs = now();
    if (pausedUntilMs > nowMs) return Math.max(1, Math.ceil((pausedUntilMs - nowMs) / 1000));
    if (remaining === 0 && resetAt !== undefined && resetAt * 1000 > nowMs) {
      return Math.max(1, Math.ceil(resetAt - nowMs / 1000));
    }
    return 0;
  };
  const observe = (): number => {
    const seconds = wait();
    const next: BudgetState = seconds > 0 ? "exhausted" : "available";
    if (next !== state) {
      state = next;
      listeners.onChange?.(next, seconds);
    }
    return seconds;
  };

  return {
    /** Takes the rate-limit headers of an answer. */
    update(update: RateLimitState): void {
      if (update.remaining !== undefined) remaining = update.remaining;
      if (update.limit !== undefined && update.limit > 0) limit = update.limit;
      if (update.resetAt !== undefined) resetAt = update.resetAt;
      observe();
      if (update.remaining !== undefined || update.resetAt !== undefined) listeners.onLearned?.(snapshot());
    },
    /** Stops spending for `seconds` (a secondary limit's retry-after, or an exhausted window). */
    pause(seconds: number): void {
      pausedUntilMs = Math.max(pausedUntilMs, now() + seconds * 1000);
      observe();
      listeners.onLearned?.(snapshot());
    },
    /**
     * Takes another replica's view of the same token's budget: a later window replaces this one, the same
     * window keeps the lower remaining count (GitHub only counts down within a window), an exhausted window
     * that has not reset yet is always taken (spending nothing is the safe side), pauses add up.
     */
    merge(other: BudgetSnapshot): void {
      if (other.resetAt !== undefined && other.remaining !== undefined) {
        const exhausted = other.remaining === 0 && other.resetAt * 1000 > now();
        if (resetAt === undefined || other.resetAt > resetAt || exhausted) {
          resetAt = other.resetAt;
          remaining = other.remaining;
        } else if (other.resetAt === resetAt && (remaining === undefined || other.remaining < remaining)) {
          remaining = other.remaining;
        }
      }
      pausedUntilMs = Math.max(pausedUntilMs, other.pausedUntilMs);
      observe();
    },
    /** The budget as it stands, for sharing. */
    snapshot,
    /** Seconds until a request may be sent, or 0 when one may be sent now. */
    waitSeconds(): number {
      return observe();
    },
    get remaining(): number | undefined {
      return remaining;
    },
    /** The window's size (`x-ratelimit-limit`), once GitHub has said it. */
    get limit(): number | undefined {
      return limit;
    },
    get resetAt(): number | undefined {
      return resetAt;
    },
  };
}
