import type { RateLimitState } from "./client.ts";

/** GitHub's rate-limit window as last reported, and whether the service may spend from it. */
export type RateLimitBudget = ReturnType<typeof createRateLimitBudget>;

/** Whether the budget lets requests go: "exhausted" until the window resets or the pause ends. */
export type BudgetState = "available" | "exhausted";

/**
 * Tracks x-ratelimit-remaining/-reset and secondary-limit pauses; `now` is injectable for tests. `onChange`
 * hears each move between available and exhausted once (the seconds to wait with "exhausted").
 */
export function createRateLimitBudget(now: () => number = Date.now, onChange?: (state: BudgetState, waitSeconds: number) => void) {
  let remaining: number | undefined;
  let resetAt: number | undefined;
  let pausedUntilMs = 0;
  let state: BudgetState = "available";

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
      onChange?.(next, seconds);
    }
    return seconds;
  };

  return {
    /** Takes the rate-limit headers of an answer. */
    update(update: RateLimitState): void {
      if (update.remaining !== undefined) remaining = update.remaining;
      if (update.resetAt !== undefined) resetAt = update.resetAt;
      observe();
    },
    /** Stops spending for `seconds` (a secondary limit's retry-after, or an exhausted window). */
    pause(seconds: number): void {
      pausedUntilMs = Math.max(pausedUntilMs, now() + seconds * 1000);
      observe();
    },
    /** Seconds until a request may be sent, or 0 when one may be sent now. */
    waitSeconds(): number {
      return observe();
    },
    get remaining(): number | undefined {
      return remaining;
    },
    get resetAt(): number | undefined {
      return resetAt;
    },
  };
}
