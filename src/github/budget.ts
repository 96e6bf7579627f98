import type { RateLimitState } from "./client.ts";

/** GitHub's rate-limit window as last reported, and whether the service may spend from it. */
export type RateLimitBudget = ReturnType<typeof createRateLimitBudget>;

/** Tracks x-ratelimit-remaining/-reset and secondary-limit pauses; `now` is injectable for tests. */
export function createRateLimitBudget(now: () => number = Date.now) {
  let remaining: number | undefined;
  let resetAt: number | undefined;
  let pausedUntilMs = 0;

  return {
    /** Takes the rate-limit headers of an answer. */
    update(state: RateLimitState): void {
      if (state.remaining !== undefined) remaining = state.remaining;
      if (state.resetAt !== undefined) resetAt = state.resetAt;
    },
    /** Stops spending for `seconds` (a secondary limit's retry-after, or an exhausted window). */
    pause(seconds: number): void {
      pausedUntilMs = Math.max(pausedUntilMs, now() + seconds * 1000);
    },
    /** Seconds until a request may be sent, or 0 when one may be sent now. */
    waitSeconds(): number {
      const nowMs = now();
      if (pausedUntilMs > nowMs) return Math.max(1, Math.ceil((pausedUntilMs - nowMs) / 1000));
      if (remaining === 0 && resetAt !== undefined && resetAt * 1000 > nowMs) {
        return Math.max(1, Math.ceil(resetAt - nowMs / 1000));
      }
      return 0;
    },
    get remaining(): number | undefined {
      return remaining;
    },
    get resetAt(): number | undefined {
      return resetAt;
    },
  };
}
