import type { RateLimitState } from "./client.ts";
import {
  maxPauseSeconds,
  maxSecondaryStreak,
  pauseSeconds,
  rateLimitKinds,
  secondaryQuietMs,
  usablePauseEnd,
  usableReset,
  usableStreak,
  type RateLimitKind,
  type RateLimitRefusal,
} from "./rate-limit-rules.ts";

/** GitHub's rate-limit window as last reported, and whether the service may spend from it. */
export type RateLimitBudget = ReturnType<typeof createRateLimitBudget>;

/** What a budget knows, as replicas share it: the window's remaining requests and reset, and any pause. */
export interface BudgetSnapshot {
  remaining?: number;
  resetAt?: number;
  pausedUntilMs: number;
  /** The limit behind the pause. */
  pauseKind?: RateLimitKind;
  /** Secondary limits in a row: the next one without `retry-after` pauses 60 s × 2^streak (at most 900 s). */
  secondaryStreak?: number;
}

/** Whether the budget lets requests go: "exhausted" until the window resets or the pause ends. */
export type BudgetState = "available" | "exhausted";

/** Who hears about the budget. */
export interface BudgetListeners {
  /** Each move between available and exhausted, once: the seconds to wait with "exhausted", and the limit's kind. */
  onChange?: (state: BudgetState, waitSeconds: number, kind: RateLimitKind) => void;
  /** What this process learned from GitHub (not what `merge` brought in), so it can be shared. */
  onLearned?: (snapshot: BudgetSnapshot) => void;
}

/**
 * Tracks x-ratelimit-remaining/-reset and the pauses GitHub's rate limits call for (src/github/rate-limit-rules.ts);
 * nothing read from GitHub or another replica can pause it for more than an hour. `now` is injectable for tests.
 */
export function createRateLimitBudget(now: () => number = Date.now, listeners: BudgetListeners = {}) {
  let remaining: number | undefined;
  let limit: number | undefined;
  let resetAt: number | undefined;
  let pausedUntilMs = 0;
  let pauseKind: RateLimitKind = "secondary";
  let secondaryStreak = 0;
  // When the streak was last extended or shared: it is forgotten a quiet period after the pause that ended then.
  let streakPauseEndMs = 0;
  let state: BudgetState = "available";
  let stateKind: RateLimitKind = "primary";
  const snapshot = (): BudgetSnapshot => ({ remaining, resetAt, pausedUntilMs, pauseKind, secondaryStreak });

  const wait = (): number => {
    const nowMs = now();
    if (pausedUntilMs > nowMs) return Math.max(1, Math.ceil((pausedUntilMs - nowMs) / 1000));
    if (remaining === 0 && resetAt !== undefined && resetAt * 1000 > nowMs) {
      return Math.max(1, Math.ceil(resetAt - nowMs / 1000));
    }
    return 0;
  };
  const kind = (): RateLimitKind => (pausedUntilMs > now() ? pauseKind : "primary");
  const observe = (): number => {
    const seconds = wait();
    const next: BudgetState = seconds > 0 ? "exhausted" : "available";
    if (next !== state) {
      state = next;
      // "available" names the kind of the episode that ended.
      if (next === "exhausted") stateKind = kind();
      listeners.onChange?.(next, seconds, stateKind);
    }
    return seconds;
  };
  // The streak is forgotten once a quiet period has passed since the last pause ended.
  const forgetQuietStreak = (nowMs: number) => {
    if (nowMs >= Math.max(pausedUntilMs, streakPauseEndMs) + secondaryQuietMs) secondaryStreak = 0;
  };

  return {
    /**
     * Takes the rate-limit headers of an answer. A count comes with its window's reset: one in the past or over an
     * hour ahead (or none) leaves the reset unknown, so an earlier window's reset cannot hold a spent count.
     * It tells no change: the next request's `waitSeconds`, or `limited` for a refusal, does (with its kind).
     */
    update(update: RateLimitState): void {
      const reset = usableReset(update.resetAt, now());
      const count = _count(update.remaining);
      if (count !== undefined) (remaining = count), (resetAt = reset);
      else if (reset !== undefined) resetAt = reset;
      if (update.limit !== undefined && update.limit > 0) limit = update.limit;
      if (count !== undefined || reset !== undefined) listeners.onLearned?.(snapshot());
    },
    /**
     * Pauses for a rate limit GitHub answered, by GitHub's rules, and returns the seconds until a request may be
     * sent. A secondary limit doubles the next one's pause, unless it arrives during a pause (a request that was
     * already in flight when the pause began): one episode counts once.
     */
    limited(refusal: RateLimitRefusal): number {
      const nowMs = now();
      forgetQuietStreak(nowMs);
      const sameEpisode = pausedUntilMs > nowMs;
      const seconds = pauseSeconds(refusal, sameEpisode ? Math.max(0, secondaryStreak - 1) : secondaryStreak, nowMs);
      if (refusal.kind === "secondary" && !sameEpisode) secondaryStreak = Math.min(maxSecondaryStreak, secondaryStreak + 1);
      const until = nowMs + seconds * 1000;
      if (until > pausedUntilMs) {
        pausedUntilMs = until;
        pauseKind = refusal.kind;
      }
      const waitSeconds = observe();
      listeners.onLearned?.(snapshot());
      return waitSeconds;
    },
    /** An answer that was not a rate limit: once the pause is over, the doubling starts again from a minute. */
    answered(): void {
      if (now() >= pausedUntilMs) secondaryStreak = 0;
    },
    /**
     * Takes another replica's view of the same token's budget: a later window replaces this one, the same
     * window keeps the lower remaining count (GitHub only counts down within a window), an exhausted window
     * that has not reset yet is always taken (spending nothing is the safe side), pauses add up, the longer
     * streak wins. Each value is bounded as one read from GitHub is: a pause or a reset over an hour ahead, a
     * reset in the past or a value that is not a number cannot lock the budget.
     */
    merge(other: BudgetSnapshot): void {
      const nowMs = now();
      const otherReset = usableReset(other.resetAt, nowMs);
      const otherRemaining = _count(other.remaining);
      if (otherReset !== undefined && otherRemaining !== undefined) {
        if (resetAt === undefined || otherReset > resetAt || otherRemaining === 0) {
          resetAt = otherReset;
          remaining = otherRemaining;
        } else if (otherReset === resetAt && (remaining === undefined || otherRemaining < remaining)) {
          remaining = otherRemaining;
        }
      }
      const otherPause = usablePauseEnd(other.pausedUntilMs, nowMs);
      if (otherPause > pausedUntilMs) {
        pausedUntilMs = otherPause;
        pauseKind = rateLimitKinds.includes(other.pauseKind as RateLimitKind) ? (other.pauseKind as RateLimitKind) : "secondary";
      }
      // A streak counts from its own pause's end, even one already over (a replica that joins after the pause).
      const otherStreak = usableStreak(other.secondaryStreak);
      const otherPauseEnd = Math.min(Number(other.pausedUntilMs) || 0, nowMs + maxPauseSeconds * 1000);
      if (otherStreak > 0 && otherPauseEnd + secondaryQuietMs > nowMs) {
        forgetQuietStreak(nowMs);
        secondaryStreak = Math.max(secondaryStreak, otherStreak);
        streakPauseEndMs = Math.max(streakPauseEndMs, otherPauseEnd);
      }
      observe();
    },
    /** The budget as it stands, for sharing. */
    snapshot,
    /** Seconds until a request may be sent, or 0 when one may be sent now. */
    waitSeconds(): number {
      return observe();
    },
    /** The kind of limit the budget waits for (primary when it does not wait). */
    kind,
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
    get secondaryStreak(): number {
      return secondaryStreak;
    },
  };
}

// A count of requests: a whole number of zero or more; anything else is unknown.
function _count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
}
