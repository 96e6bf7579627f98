/**
 * GitHub's documented rules for a rate-limited answer ("Rate limits for the REST API", "Exceeding the rate
 * limit"; "Best practices for using the REST API", "Handle rate limit errors appropriately"), as pure functions
 * of what GitHub sent and the time: which answers are rate limits, of which kind, and how long to pause.
 */

/** Which of GitHub's limits refused a request: the hourly window (`primary`) or a secondary limit. */
export type RateLimitKind = "primary" | "secondary";

/** The kinds, as the metric labels and the log name them. */
export const rateLimitKinds: readonly RateLimitKind[] = ["primary", "secondary"];

/** A 403 or 429 GitHub sent because a limit was hit, as its headers and body describe it. */
export interface RateLimitRefusal {
  kind: RateLimitKind;
  /** `retry-after` read as seconds (a number or an HTTP date), within [1, maxPauseSeconds]; absent or unreadable: undefined. */
  retryAfterSeconds?: number;
  /** `x-ratelimit-remaining` was 0. */
  exhausted: boolean;
  /** `x-ratelimit-reset` (epoch seconds) when it is usable (see usableReset). */
  resetAt?: number;
}

/** The longest pause anything GitHub sends can cause: its primary window lasts an hour. */
export const maxPauseSeconds = 3600;

/** The pause after a limit that says nothing usable about its end: GitHub's "wait for at least one minute". */
export const minimumPauseSeconds = 60;

/** The longest pause the doubling after repeated secondary limits reaches: 60, 120, 240, 480, then 900 s. */
export const maxSecondaryBackoffSeconds = 900;

/**
 * How long after a pause ends a further secondary limit still counts as "continuing to fail" and doubles the
 * next pause; past it (or after a successful answer once the pause is over), the doubling starts again at 60 s.
 */
export const secondaryQuietMs = maxSecondaryBackoffSeconds * 1000;

/** Most secondary limits in a row that still change the pause (60 × 2^4 > 900). */
export const maxSecondaryStreak = 5;

/**
 * Reads a 403 or 429 as a rate limit, or undefined when it is another refusal. It is one when GitHub's message
 * says so, when `retry-after` is present, or when `x-ratelimit-remaining` is 0. Its kind is primary when the
 * window is spent (and the message does not name a secondary limit), else secondary.
 */
export function readRefusal(status: number, headers: Headers, body: string, remaining: number | undefined, nowMs: number): RateLimitRefusal | undefined {
  if (status !== 403 && status !== 429) return undefined;
  // GitHub's messages come first in a short JSON body; a long body is not read past its start.
  const text = body.slice(0, 4096);
  const saysSecondary = /secondary rate limit|abuse detection/i.test(text);
  const exhausted = remaining === 0;
  if (!saysSecondary && !exhausted && !headers.has("retry-after") && !/rate limit/i.test(text)) return undefined;
  const refusal: RateLimitRefusal = { kind: exhausted && !saysSecondary ? "primary" : "secondary", exhausted };
  const retryAfter = retryAfterSeconds(headers.get("retry-after"), nowMs);
  const resetAt = usableReset(_number(headers.get("x-ratelimit-reset")), nowMs);
  if (retryAfter !== undefined) refusal.retryAfterSeconds = retryAfter;
  if (resetAt !== undefined) refusal.resetAt = resetAt;
  return refusal;
}

/**
 * The seconds to pause for a refusal, by GitHub's rules in order: `retry-after` when present; else, with the
 * window spent, until `x-ratelimit-reset` (a minute when the reset is unusable); else at least a minute,
 * doubling for each secondary limit in a row before it (`streak`), up to maxSecondaryBackoffSeconds.
 */
export function pauseSeconds(refusal: RateLimitRefusal, streak: number, nowMs: number): number {
  if (refusal.retryAfterSeconds !== undefined) return refusal.retryAfterSeconds;
  if (refusal.exhausted) {
    if (refusal.resetAt === undefined) return minimumPauseSeconds;
    return _bounded(refusal.resetAt - nowMs / 1000);
  }
  const doublings = Math.min(maxSecondaryStreak, Math.max(0, Math.floor(streak)));
  return Math.min(maxSecondaryBackoffSeconds, minimumPauseSeconds * 2 ** doublings);
}

/**
 * `retry-after` as whole seconds within [1, maxPauseSeconds]: delay-seconds (`1e308` is an hour) or an HTTP date
 * (one past is 1 s); absent, empty, negative or unreadable: undefined, as if GitHub had not sent it.
 */
export function retryAfterSeconds(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (!Number.isNaN(seconds)) return seconds >= 0 ? _bounded(seconds) : undefined;
  // Only text that is not a number is read as a date: Date.parse("12") would be the year 2012.
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : _bounded((at - nowMs) / 1000);
}

/**
 * A window's reset (epoch seconds) that can be believed: ahead of now and at most an hour ahead (GitHub's
 * window). One in the past or further away, or not a number, is unknown (undefined).
 */
export function usableReset(resetAt: number | undefined, nowMs: number): number | undefined {
  if (resetAt === undefined || !Number.isFinite(resetAt)) return undefined;
  const nowSeconds = nowMs / 1000;
  return resetAt > nowSeconds && resetAt <= Math.floor(nowSeconds) + maxPauseSeconds ? resetAt : undefined;
}

/** A pause end (epoch ms) another replica sent, bounded to an hour from now; unusable or over: 0. */
export function usablePauseEnd(pausedUntilMs: unknown, nowMs: number): number {
  if (typeof pausedUntilMs !== "number" || !Number.isFinite(pausedUntilMs) || pausedUntilMs <= nowMs) return 0;
  return Math.min(pausedUntilMs, nowMs + maxPauseSeconds * 1000);
}

/** A streak another replica sent, as a whole number within [0, maxSecondaryStreak]; unusable: 0. */
export function usableStreak(streak: unknown): number {
  if (typeof streak !== "number" || !Number.isFinite(streak)) return 0;
  return Math.min(maxSecondaryStreak, Math.max(0, Math.floor(streak)));
}

// Whole seconds, at least 1 (a refusal always pauses) and at most an hour.
function _bounded(seconds: number): number {
  return Math.min(maxPauseSeconds, Math.max(1, Math.ceil(seconds)));
}

function _number(text: string | null): number | undefined {
  if (text === null || text.trim() === "") return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
