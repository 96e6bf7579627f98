import { describe, expect, test } from "bun:test";
import { createFreshness, type Timeline } from "../../cache/freshness.ts";
import type { Forward, Resolution, Slot } from "../../cache/policy.ts";
import { PreparedAnswer } from "../../http/way-out.ts";
import { answerFor, createGistsAnswers } from "./answer.ts";
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

describe("the test's structured-field parser", () => {
  test("reads what RFC 8941 allows and refuses what it does not", () => {
    expect(_parseList('a; hit, "B C"; ttl=-412; key="x\\"y"')).toEqual([
      { item: { token: "a" }, params: { hit: true } },
      { item: "B C", params: { ttl: -412, key: 'x"y' } },
    ]);
    for (const bad of ["a ;hit", "a; Hit", "a; ttl=1.5.", 'a; key="open', "a,", "a; ttl=1234567890123456", "1a", "a; fwd=uri miss"]) {
      expect(() => _parseList(bad)).toThrow();
    }
  });
});

type Bare = string | number | boolean | { token: string };

// RFC 9211 §2: the parameters it defines and their types; hit and fwd never together, the fwd details only with fwd.
const fwdReasons = new Set(["bypass", "method", "uri-miss", "vary-miss", "miss", "request", "stale", "partial"]);

/** The one Cache-Status member of `res`, checked against RFC 9211, as plain values. */
function _checked(res: Response): Record<string, string | number | boolean> {
  const header = res.headers.get("cache-status");
  if (header === null) throw new Error("no Cache-Status");
  const members = _parseList(header);
  expect(members).toHaveLength(1);
  const { item, params } = members[0]!;
  expect(item).toEqual({ token: "gists-api" });
  const plain: Record<string, string | number | boolean> = { name: "gists-api" };
  for (const [name, value] of Object.entries(params)) {
    const kind = typeof value === "object" ? "token" : typeof value;
    const allowed: Record<string, string[]> = {
      hit: ["boolean"],
      fwd: ["token"],
      "fwd-status": ["number"],
      ttl: ["number"],
      stored: ["boolean"],
      collapsed: ["boolean"],
      key: ["string"],
      detail: ["string", "token"],
    };
    expect({ name, kind, allowed: allowed[name]?.includes(kind) ?? false }).toEqual({ name, kind, allowed: true });
    plain[name] = typeof value === "object" ? value.token : value;
  }
  expect("hit" in params && "fwd" in params).toBe(false);
  if (!("fwd" in params)) expect(["fwd-status", "stored", "collapsed"].filter((name) => name in params)).toEqual([]);
  if ("fwd" in params) expect(fwdReasons.has(String(plain.fwd))).toBe(true);
  for (const name of ["fwd-status", "ttl"]) if (name in plain) expect(Number.isInteger(plain[name])).toBe(true);
  return plain;
}

/** A strict parser of an RFC 8941 List of Items with Parameters (no inner lists, decimals or byte sequences needed here). */
function _parseList(input: string): { item: Bare; params: Record<string, Bare> }[] {
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at ${at} in ${JSON.stringify(input)}`);
  };
  const skip = (chars: RegExp) => {
    while (at < input.length && chars.test(input[at]!)) at++;
  };
  const bare = (): Bare => {
    const char = input[at] ?? "";
    if (char === "-" || /\d/.test(char)) {
      const match = /^-?\d{1,15}/.exec(input.slice(at));
      if (!match || input[at + match[0].length] === ".") fail("an integer (no decimals here)");
      at += match![0].length;
      return Number(match![0]);
    }
    if (char === '"') {
      let text = "";
      for (at++; ; at++) {
        const next = input[at];
        if (next === undefined) fail("an unterminated string");
        if (next === '"') break;
        if (next === "\\") {
          at++;
          if (input[at] !== '"' && input[at] !== "\\") fail('an escape other than \\" or \\\\');
          text += input[at];
        } else if (next! < " " || next! > "~") fail("a character outside printable ASCII");
        else text += next;
      }
      at++;
      return text;
    }
    if (/[A-Za-z*]/.test(char)) {
      const match = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/.exec(input.slice(at))!;
      at += match[0].length;
      return { token: match[0] };
    }
    if (char === "?") {
      const value = input[at + 1];
      if (value !== "0" && value !== "1") fail("a boolean");
      at += 2;
      return value === "1";
    }
    return fail("a bare item");
  };
  const members: { item: Bare; params: Record<string, Bare> }[] = [];
  skip(/ /);
  while (at < input.length) {
    const item = bare();
    const params: Record<string, Bare> = {};
    while (input[at] === ";") {
      at++;
      skip(/ /);
      const key = /^[a-z*][a-z0-9_\-.*]*/.exec(input.slice(at));
      if (!key) fail("a parameter key");
      at += key![0].length;
      if (input[at] === "=") {
        at++;
        params[key![0]] = bare();
      } else params[key![0]] = true;
    }
    members.push({ item, params });
    skip(/[ \t]/);
    if (at >= input.length) break;
    if (input[at] !== ",") fail("a comma between members");
    at++;
    skip(/[ \t]/);
    if (at >= input.length) fail("a member after the comma");
  }
  return members;
}
