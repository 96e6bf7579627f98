import { describe, expect, test } from "bun:test";
import { pauseSeconds, readRefusal, retryAfterSeconds, usablePauseEnd, usableReset, usableStreak, type RateLimitRefusal } from "./rate-limit-rules.ts";

const nowMs = 1_700_000_000_000;
const nowSeconds = nowMs / 1000;

describe("readRefusal", () => {
  const read = (status: number, body: string, headers: Record<string, string> = {}) => {
    const remaining = headers["x-ratelimit-remaining"];
    return readRefusal(status, new Headers(headers), body, remaining === undefined ? undefined : Number(remaining), nowMs);
  };
  const secondary = '{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}';
  const primary = '{"message":"API rate limit exceeded for 203.0.113.7."}';

  test("only a 403 or a 429 can be a rate limit", () => {
    for (const status of [200, 401, 404, 500]) expect(read(status, secondary, { "retry-after": "5" })).toBeUndefined();
  });

  test("it is one by GitHub's message, a retry-after or remaining 0; any other 403 is not", () => {
    expect(read(403, primary, { "x-ratelimit-remaining": "0" })).toEqual({ kind: "primary", exhausted: true });
    expect(read(429, secondary)).toEqual({ kind: "secondary", exhausted: false });
    expect(read(403, '{"message":"You have triggered an abuse detection mechanism."}')).toEqual({ kind: "secondary", exhausted: false });
    expect(read(403, "{}", { "retry-after": "10" })).toEqual({ kind: "secondary", exhausted: false, retryAfterSeconds: 10 });
    expect(read(403, "{}", { "x-ratelimit-remaining": "0" })).toEqual({ kind: "primary", exhausted: true });
    expect(read(403, '{"message":"Must have admin rights to Repository."}', { "x-ratelimit-remaining": "10" })).toBeUndefined();
  });

  test("the kind is primary only for a spent window whose message does not name a secondary limit", () => {
    expect(read(403, secondary, { "x-ratelimit-remaining": "0" })?.kind).toBe("secondary");
    expect(read(403, primary, { "x-ratelimit-remaining": "12" })?.kind).toBe("secondary");
    expect(read(429, primary, { "x-ratelimit-remaining": "0" })?.kind).toBe("primary");
  });

  test("a usable reset is kept, an unusable one left out", () => {
    const reset = String(nowSeconds + 90);
    expect(read(403, primary, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset })?.resetAt).toBe(nowSeconds + 90);
    for (const unusable of [String(nowSeconds - 1), String(nowSeconds + 3601), "1e400", "soon", ""]) {
      expect(read(403, primary, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": unusable })).not.toHaveProperty("resetAt");
    }
  });
});

describe("pauseSeconds", () => {
  const refusal = (fields: Partial<RateLimitRefusal>): RateLimitRefusal => ({ kind: "secondary", exhausted: false, ...fields });

  test("retry-after wins whatever else GitHub said", () => {
    expect(pauseSeconds(refusal({ retryAfterSeconds: 7, exhausted: true, resetAt: nowSeconds + 600 }), 3, nowMs)).toBe(7);
  });

  test("a spent window waits for its reset, or a minute when the reset is unknown", () => {
    expect(pauseSeconds(refusal({ kind: "primary", exhausted: true, resetAt: nowSeconds + 600 }), 0, nowMs)).toBe(600);
    expect(pauseSeconds(refusal({ kind: "primary", exhausted: true, resetAt: nowSeconds + 0.2 }), 0, nowMs)).toBe(1);
    expect(pauseSeconds(refusal({ kind: "primary", exhausted: true }), 0, nowMs)).toBe(60);
    expect(pauseSeconds(refusal({ exhausted: true, resetAt: nowSeconds + 30 }), 4, nowMs)).toBe(30);
  });

  test("otherwise a secondary limit waits a minute, doubling with each one in a row, up to 15 minutes", () => {
    expect([0, 1, 2, 3, 4, 5, 50, -1].map((streak) => pauseSeconds(refusal({}), streak, nowMs))).toEqual([60, 120, 240, 480, 900, 900, 900, 60]);
  });
});

describe("bounds on what GitHub or another replica sends", () => {
  test("retry-after: seconds or an HTTP date, at least 1 and at most an hour; anything else is as if absent", () => {
    const cases: Array<[string | null, number | undefined]> = [
      ["30", 30],
      ["0", 1],
      ["2.5", 3],
      ["1e308", 3600],
      ["Infinity", 3600],
      ["86400", 3600],
      [new Date(nowMs + 45_000).toUTCString(), 45],
      [new Date(nowMs - 45_000).toUTCString(), 1],
      [new Date(nowMs + 86_400_000).toUTCString(), 3600],
      ["-1", undefined],
      ["-Infinity", undefined],
      ["soon", undefined],
      ["", undefined],
      [null, undefined],
    ];
    expect(cases.map(([value]) => retryAfterSeconds(value, nowMs))).toEqual(cases.map(([, seconds]) => seconds));
  });

  test("a reset is usable only ahead of now and at most an hour ahead", () => {
    expect(usableReset(nowSeconds + 1, nowMs)).toBe(nowSeconds + 1);
    expect(usableReset(nowSeconds + 3600, nowMs)).toBe(nowSeconds + 3600);
    for (const unusable of [nowSeconds, nowSeconds - 60, nowSeconds + 3601, nowSeconds + 1e9, Number.NaN, Number.POSITIVE_INFINITY, undefined]) {
      expect(usableReset(unusable, nowMs)).toBeUndefined();
    }
  });

  test("a shared pause ends at most an hour from now; a streak is a small whole number", () => {
    expect(usablePauseEnd(nowMs + 5_000, nowMs)).toBe(nowMs + 5_000);
    expect(usablePauseEnd(1e308, nowMs)).toBe(nowMs + 3_600_000);
    expect([nowMs - 1, Number.NaN, "soon", null].map((end) => usablePauseEnd(end, nowMs))).toEqual([0, 0, 0, 0]);
    expect([2, 2.7, -3, 1e308, Number.NaN, "3"].map(usableStreak)).toEqual([2, 2, 0, 5, 0, 0]);
  });
});
