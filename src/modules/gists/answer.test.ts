import { describe, expect, test } from "bun:test";
import { createFreshness, type Timeline } from "../../cache/freshness.ts";
import type { Forward, Resolution, Slot } from "../../cache/policy.ts";
import { PreparedAnswer } from "../../http/way-out.ts";
import { answerFor, createGistsAnswers } from "./answer.ts";
import { parseList, readCacheStatus, type CacheStatus } from "../../testing/structured-fields.ts";
import { notFoundEntry, pageEntry, type GistsEntry } from "./entry.ts";

// Every verdict's Cache-Status, read back with a strict parser of RFC 8941 lists and checked against RFC 9211's
// parameter types, and its numbers against the answer's own Cache-Control and Age.

const freshness = createFreshness({ ttlMs: 300_000, staleMs: 3_600_000, negativeTtlMs: 60_000 });
const storedAt = 1_700_000_000_000;
const answers = (cloneTemplates: boolean) => createGistsAnswers({ freshness, cloneTemplates, grow: () => {} });

const page = (): GistsEntry =>
  pageEntry(
    {
      gists: [{ id: "a1", description: null, url: "https://gist.github.com/a1", created_at: "2020-01-01T00:00:00Z", files: {} }],
      links: {},
      etag: '"up"',
      lastModified: undefined,
    },
    { username: "Octocat", page: 1, perPage: 30 },
    freshness.ttlSeconds,
  );

const slotOf = (value: GistsEntry, timeline: Timeline | undefined = freshness.timeline(storedAt, value.negative)): Slot<GistsEntry> => ({
  key: value.negative ? "ghost:1:30" : "octocat:1:30",
  value,
  ...timeline!,
  nextRefreshAt: 0,
  answers: 0,
  bytes: value.bytes,
});

const fetched = (overrides: Partial<Forward> = {}): Forward => ({ held: false, status: 200, collapsed: false, stored: true, ...overrides });

const at = (seconds: number) => storedAt + seconds * 1000;

function answer(resolution: Resolution<GistsEntry>, now: number, ifNoneMatch: string | null = null, cloneTemplates = true): Response {
  const made = answerFor(answers(cloneTemplates), resolution, { acceptEncoding: "gzip", ifNoneMatch, now, requestId: "r1" });
  return made instanceof PreparedAnswer ? made.template : made;
}

describe("Cache-Status (RFC 9211) of each verdict", () => {
  test("HIT: hit, with the freshness left as ttl, equal to max-age; on Bun it is part of the prepared answer", () => {
    for (const cloneTemplates of [true, false]) {
      const res = answer({ slot: slotOf(page()), verdict: "HIT" }, at(100.3), null, cloneTemplates);
      expect(res.headers.get("x-cache")).toBe("HIT");
      expect(res.headers.get("cache-status")).toBe('gists-api; hit; ttl=200; key="octocat:1:30"');
      expect(_checked(res)).toMatchObject({ hit: true, ttl: 200 });
      expect(res.headers.get("cache-control")).toBe("public, max-age=200");
    }
    const slot = slotOf(page());
    const hits = createGistsAnswers({ freshness, cloneTemplates: true, grow: () => {} });
    const first = hits.HIT(slot, { acceptEncoding: null, ifNoneMatch: null, now: at(10.1) });
    const second = hits.HIT(slot, { acceptEncoding: null, ifNoneMatch: null, now: at(10.9) });
    expect(second).toBe(first);
    const nextSecond = hits.HIT(slot, { acceptEncoding: null, ifNoneMatch: null, now: at(11.2) }) as PreparedAnswer;
    expect(nextSecond.template.headers.get("cache-status")).toBe('gists-api; hit; ttl=289; key="octocat:1:30"');
  });

  test("STALE: a hit with negative ttl (the TTL minus Age) and why: while it refreshes, or in place of a failure", () => {
    const slot = slotOf(page());
    const refreshing = answer({ slot, verdict: "STALE" }, at(712.4));
    expect(refreshing.headers.get("cache-status")).toBe('gists-api; hit; ttl=-412; key="octocat:1:30"; detail="stale-while-revalidate"');
    expect(Number(refreshing.headers.get("age")) + Number(_checked(refreshing).ttl)).toBe(freshness.ttlSeconds);
    expect(refreshing.headers.get("cache-control")).toBe("public, max-age=0");
    const failed = answer({ slot, verdict: "STALE", error: new Error("GitHub answered 500") }, at(4000));
    expect(failed.headers.get("cache-status")).toBe('gists-api; hit; ttl=-3700; key="octocat:1:30"; detail="stale-if-error"');
    expect(_checked(failed)).toMatchObject({ hit: true, detail: "stale-if-error" });
  });

  test("MISS: fwd=uri-miss when nothing was held, fwd=stale when an expired copy was; GitHub's status, stored, ttl", () => {
    const cold = answer({ slot: slotOf(page(), freshness.timeline(at(0.2), false)), verdict: "MISS", forward: fetched() }, at(0.2));
    expect(cold.headers.get("cache-status")).toBe('gists-api; fwd=uri-miss; fwd-status=200; stored; ttl=300; key="octocat:1:30"');
    expect(cold.headers.get("cache-control")).toBe("public, max-age=300");
    const changed = answer({ slot: slotOf(page()), verdict: "MISS", forward: fetched({ held: true }) }, at(1));
    expect(_checked(changed)).toEqual({ name: "gists-api", fwd: "stale", "fwd-status": 200, stored: true, ttl: 299, key: "octocat:1:30" });
  });

  test("REVALIDATED: fwd=stale, fwd-status=304, stored, the renewed freshness", () => {
    const res = answer({ slot: slotOf(page()), verdict: "REVALIDATED", forward: fetched({ held: true, status: 304 }) }, at(0));
    expect(res.headers.get("x-cache")).toBe("REVALIDATED");
    expect(res.headers.get("cache-status")).toBe('gists-api; fwd=stale; fwd-status=304; stored; ttl=300; key="octocat:1:30"');
  });

  test("BYPASS: fwd=request, whatever was held, and what GitHub answered (a 304 to a held copy's validators too)", () => {
    const res = answer({ slot: slotOf(page()), verdict: "BYPASS", forward: fetched() }, at(0));
    expect(res.headers.get("cache-status")).toBe('gists-api; fwd=request; fwd-status=200; stored; ttl=300; key="octocat:1:30"');
    const renewed = answer({ slot: slotOf(page()), verdict: "BYPASS", forward: fetched({ held: true, status: 304 }) }, at(0));
    expect(_checked(renewed)).toMatchObject({ fwd: "request", "fwd-status": 304 });
  });

  test("a request that waited for another's fetch is collapsed; one that waited for another replica's has no fwd-status", () => {
    const waiter = answer({ slot: slotOf(page()), verdict: "MISS", forward: fetched({ collapsed: true }) }, at(0));
    expect(waiter.headers.get("cache-status")).toBe('gists-api; fwd=uri-miss; fwd-status=200; stored; collapsed; ttl=300; key="octocat:1:30"');
    const fleetWaiter = answer({ slot: slotOf(page()), verdict: "MISS", forward: fetched({ collapsed: true, status: undefined }) }, at(0));
    expect(_checked(fleetWaiter)).toEqual({ name: "gists-api", fwd: "uri-miss", stored: true, collapsed: true, ttl: 300, key: "octocat:1:30" });
  });

  test("a 304 to the client says how the cache answered, with GitHub's own status beside the 304", () => {
    const hit = answer({ slot: slotOf(page()), verdict: "HIT" }, at(30), page().etag);
    expect([hit.status, hit.headers.get("cache-status")]).toEqual([304, 'gists-api; hit; ttl=270; key="octocat:1:30"']);
    const miss = answer({ slot: slotOf(page()), verdict: "MISS", forward: fetched() }, at(0), page().etag);
    expect([miss.status, _checked(miss)["fwd-status"]]).toEqual([304, 200]);
    const stale = answer({ slot: slotOf(page()), verdict: "STALE" }, at(400), page().etag);
    expect([stale.status, stale.headers.get("age"), _checked(stale).ttl]).toEqual([304, "400", -100]);
  });

  test("the 404 of an unknown user: cached (hit) or just asked (fwd-status=404), with the negative window as ttl", () => {
    const slot = slotOf(notFoundEntry("ghost"));
    const cached = answer({ slot, verdict: "HIT" }, at(15));
    expect([cached.status, cached.headers.get("cache-status")]).toEqual([404, 'gists-api; hit; ttl=45; key="ghost:1:30"']);
    expect(cached.headers.get("cache-control")).toBe("public, max-age=45");
    const asked = answer({ slot, verdict: "MISS", forward: fetched({ status: 404 }) }, at(0));
    expect(asked.headers.get("cache-status")).toBe('gists-api; fwd=uri-miss; fwd-status=404; stored; ttl=60; key="ghost:1:30"');
  });

  test("a copy that was not stored (CACHE_TTL=0) claims neither stored nor a ttl", () => {
    const res = answer({ slot: slotOf(page(), freshness.unstored(at(0))), verdict: "MISS", forward: fetched({ stored: false }) }, at(0));
    expect(res.headers.get("cache-status")).toBe('gists-api; fwd=uri-miss; fwd-status=200; key="octocat:1:30"');
    expect(_checked(res)).toEqual({ name: "gists-api", fwd: "uri-miss", "fwd-status": 200, key: "octocat:1:30" });
  });
});

describe("the tests' structured-field parser and Cache-Status reader", () => {
  test("reads what RFC 8941 allows and refuses what it does not", () => {
    expect(parseList('a; hit, "B C"; ttl=-412; key="x\\"y"')).toEqual([
      { item: { token: "a" }, params: { hit: true } },
      { item: "B C", params: { ttl: -412, key: 'x"y' } },
    ]);
    for (const bad of ["a ;hit", "a; Hit", "a; ttl=1.5.", 'a; key="open', "a,", "a; ttl=1234567890123456", "1a", "a; fwd=uri miss"]) {
      expect(() => parseList(bad)).toThrow();
    }
    expect(readCacheStatus("gists-api; fwd=stale; fwd-status=304; stored; detail=x", "gists-api")).toEqual({
      name: "gists-api",
      fwd: "stale",
      "fwd-status": 304,
      stored: true,
      detail: "x",
    });
    for (const bad of ["gists-api; hit; fwd=miss", "gists-api; stored", "gists-api; fwd=nope", 'gists-api; ttl="3"', "other; hit", "gists-api, gists-api"]) {
      expect(() => readCacheStatus(bad, "gists-api")).toThrow();
    }
  });
});

/** The one Cache-Status member of `res`, checked against RFC 9211, as plain values. */
function _checked(res: Response): CacheStatus {
  return readCacheStatus(res.headers.get("cache-status"), "gists-api");
}
