import { describe, expect, test } from "bun:test";
import { createFreshness, popularAnswers } from "./freshness.ts";

const windows = { ttlMs: 300_000, staleMs: 3_600_000, negativeTtlMs: 60_000 };

describe("createFreshness", () => {
  test("a page is fresh for the TTL, then servable stale for the stale window; a 404 lives by its own window and never stale", () => {
    const rule = createFreshness(windows);
    const page = rule.timeline(1_000, false)!;
    expect(page).toEqual({ storedAt: 1_000, freshUntil: 301_000, staleUntil: 3_901_000 });
    expect([rule.isFresh(page, 300_999), rule.isFresh(page, 301_000)]).toEqual([true, false]);
    expect([rule.servesStale(page, 3_900_999), rule.servesStale(page, 3_901_000)]).toEqual([true, false]);
    const missing = rule.timeline(1_000, true)!;
    expect(missing).toEqual({ storedAt: 1_000, freshUntil: 61_000, staleUntil: 61_000 });
    expect(rule.servesStale(missing, 61_000)).toBe(false);
    expect([rule.standsInForError(false), rule.standsInForError(true)]).toEqual([true, false]);
  });

  test("CACHE_TTL=0 stores nothing, 404s included, whatever the stale window says", () => {
    const off = createFreshness({ ...windows, ttlMs: 0 });
    expect(off.caching).toBe(false);
    expect([off.timeline(1_000, false), off.timeline(1_000, true)]).toEqual([undefined, undefined]);
    expect(createFreshness({ ...windows, negativeTtlMs: 0 }).timeline(1_000, true)).toBeUndefined();
    expect(off.unstored(5)).toEqual({ storedAt: 5, freshUntil: 5, staleUntil: 5 });
  });

  test("what an answer says of its copy: max-age rounded up, age rounded down, the shared tier's expiry", () => {
    const rule = createFreshness(windows);
    const page = rule.timeline(1_000, false)!;
    expect([rule.maxAgeSeconds(page, 1_000), rule.maxAgeSeconds(page, 300_001), rule.maxAgeSeconds(page, 400_000)]).toEqual([300, 1, 0]);
    expect([rule.ageSeconds(page, 1_999), rule.ageSeconds(page, 2_000), rule.ageSeconds(page, 0)]).toEqual([0, 1, 0]);
    expect(rule.expiryMs(page, 1_000)).toBe(3_900_000);
    expect(rule.ttlSeconds).toBe(300);
    expect(createFreshness({ ...windows, ttlMs: 1_500 }).ttlSeconds).toBe(1.5);
  });

  test("freshness left (Cache-Status ttl): max-age while fresh, then the TTL minus the age, never -0", () => {
    const rule = createFreshness(windows);
    const page = rule.timeline(1_000, false)!;
    for (const at of [1_000, 150_500, 300_999]) expect(rule.freshnessLeftSeconds(page, at)).toBe(rule.maxAgeSeconds(page, at));
    for (const at of [301_000, 301_400, 302_000, 713_999]) expect(rule.freshnessLeftSeconds(page, at)).toBe(rule.ttlSeconds - rule.ageSeconds(page, at));
    expect(Object.is(rule.freshnessLeftSeconds(page, 301_400), 0)).toBe(true);
    expect(rule.freshnessLeftSeconds(page, 713_999)).toBe(-412);
  });

  test("a failed refresh is tried again after the TTL, at least a second and at most 30 s later", () => {
    expect(createFreshness(windows).nextRefreshAfterFailure(0)).toBe(30_000);
    expect(createFreshness({ ...windows, ttlMs: 5_000 }).nextRefreshAfterFailure(0)).toBe(5_000);
    expect(createFreshness({ ...windows, ttlMs: 200 }).nextRefreshAfterFailure(0)).toBe(1_000);
  });

  test("a timeline read from another replica is held to this replica's windows and clock", () => {
    const rule = createFreshness(windows);
    const now = 10_000_000;
    // Another replica with a longer TTL, or a hostile writer: never fresh longer than this replica's TTL.
    expect(rule.bounded({ storedAt: now - 1_000, freshUntil: 9e15, staleUntil: 9e15 }, false, now)).toEqual({
      storedAt: now - 1_000,
      freshUntil: now + 299_000,
      staleUntil: now + 3_899_000,
    });
    // Stored "in the future" (a clock ahead of this one): counted from now.
    expect(rule.bounded({ storedAt: now + 60_000, freshUntil: now + 360_000, staleUntil: now + 360_000 }, false, now)).toEqual({
      storedAt: now,
      freshUntil: now + 300_000,
      staleUntil: now + 360_000,
    });
    // A 404 from a replica that caches them longer lives by this replica's negative window.
    expect(rule.bounded({ storedAt: now, freshUntil: now + 600_000, staleUntil: now + 600_000 }, true, now)?.staleUntil).toBe(now + 60_000);
    expect(rule.bounded({ storedAt: now, freshUntil: now - 1, staleUntil: now }, false, now)).toBeUndefined();
    expect(createFreshness({ ...windows, ttlMs: 0 }).bounded({ storedAt: now, freshUntil: now + 1, staleUntil: now + 1 }, false, now)).toBeUndefined();
  });

  test("with budget awareness, the less of GitHub's window is left, the longer a page stays fresh, up to CACHE_MAX_TTL", () => {
    let left: number | undefined;
    const rule = createFreshness({ ttlMs: 300_000, staleMs: 600_000, negativeTtlMs: 60_000 }, { budgetLeft: () => left, maxTtlMs: 1_800_000 });
    const freshFor = () => rule.timeline(0, false)!.freshUntil;
    const steps: Array<[number | undefined, number]> = [
      [undefined, 300_000],
      [1, 300_000],
      [0.5, 300_000],
      [0.49, 600_000],
      [0.2, 600_000],
      [0.19, 1_200_000],
      [0.04, 1_800_000],
    ];
    for (const [share, fresh] of steps) {
      left = share;
      expect([share, freshFor()]).toEqual([share, fresh]);
    }
    // The stale window after it is CACHE_STALE_TTL still; a 404's window stretches alike.
    expect(rule.timeline(0, false)!.staleUntil).toBe(1_800_000 + 600_000);
    expect(rule.timeline(0, true)!.freshUntil).toBe(480_000);
  });

  test("with budget awareness, background refreshes thin out: every page, popular pages only, then none", () => {
    let left = 1;
    const rule = createFreshness(windows, { budgetLeft: () => left, maxTtlMs: 3_600_000 });
    const refreshes = () => [0, popularAnswers - 1, popularAnswers].map((answers) => rule.refreshesInBackground(answers));
    expect(refreshes()).toEqual([true, true, true]);
    left = 0.3;
    expect(refreshes()).toEqual([true, true, true]);
    left = 0.1;
    expect(refreshes()).toEqual([false, false, true]);
    left = 0.01;
    expect(refreshes()).toEqual([false, false, false]);
    expect(createFreshness(windows).refreshesInBackground(0)).toBe(true);
  });

  test("a floor a page brings (x-poll-interval) keeps it fresh at least that long, an hour at most", () => {
    const rule = createFreshness({ ttlMs: 60_000, staleMs: 0, negativeTtlMs: 60_000 });
    expect(rule.timeline(0, false, 120_000)!.freshUntil).toBe(120_000);
    expect(rule.timeline(0, false, 30_000)!.freshUntil).toBe(60_000);
    expect(rule.timeline(0, false, 86_400_000)!.freshUntil).toBe(3_600_000);
  });

  test("a copy another replica stretched for a low budget is accepted up to what this replica could give", () => {
    const rule = createFreshness(windows, { budgetLeft: () => 1, maxTtlMs: 1_200_000 });
    const now = 10_000_000;
    expect(rule.bounded({ storedAt: now, freshUntil: now + 2_400_000, staleUntil: now + 6_000_000 }, false, now)).toEqual({
      storedAt: now,
      freshUntil: now + 1_200_000,
      staleUntil: now + 4_800_000,
    });
  });
});
