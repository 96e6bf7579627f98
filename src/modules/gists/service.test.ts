import { describe, expect, test } from "bun:test";
import { createFreshness } from "../../cache/freshness.ts";
import { UpstreamError, type GistsFetch, type Validators } from "../../github/client.ts";
import type { Upstream } from "../../github/upstream.ts";
import { callReason, isCharged } from "./cost.ts";
import { cacheKeyOf, createGistsService } from "./service.ts";

// The cost of each answer: which GitHub calls were made, why, whether GitHub charged them, and whether the answer
// itself cost a charged call. GitHub is a scripted upstream whose calls a test can hold to make requests wait.

/** A scripted GitHub: per login, the next answers in order (a number of gists, 304 or 404). */
function scriptedGithub() {
  const script = new Map<string, Array<number | "304" | "404">>();
  const asked: { login: string; page: number; validators?: Validators }[] = [];
  const gate = { hold: false, release: () => {} };
  const upstream = {
    async fetchPage(login: string, page: number, _perPage: number, validators?: Validators): Promise<GistsFetch> {
      asked.push({ login, page, validators });
      if (gate.hold) await new Promise<void>((resolve) => (gate.release = resolve));
      const next = script.get(login)?.shift();
      if (next === undefined) throw new Error(`no answer scripted for ${login}`);
      if (next === "404") throw new UpstreamError("not-found", `User '${login}' not found`);
      if (next === "304") return { kind: "not-modified" };
      const gists = Array.from({ length: next }, (_, i) => ({
        id: `${login}-${page}-${i}`,
        description: null,
        url: `https://gist.github.com/${i}`,
        created_at: "2020-01-01T00:00:00Z",
        files: {},
      }));
      // A full page of 2 has a next page: complete lists follow it.
      return { kind: "page", page: { gists, links: next === 2 ? { next: page + 1 } : {}, etag: `"${login}-${asked.length}"` } };
    },
  } as unknown as Upstream;
  return { upstream, script, asked, gate };
}

function setup(options: { authenticated?: boolean; staleMs?: number } = {}) {
  let now = 1_700_000_000_000;
  const github = scriptedGithub();
  const calls: string[] = [];
  const cache = {
    ttlMs: 1_000,
    staleMs: options.staleMs ?? 0,
    negativeTtlMs: 1_000,
    maxEntries: 100,
    maxBytes: 10_000_000,
    revalidate: true,
    maxPages: 5,
    adaptive: false,
    maxTtlMs: 1_000,
  };
  const gists = createGistsService({
    upstream: github.upstream,
    cache,
    freshness: createFreshness(cache),
    authenticated: options.authenticated ?? true,
    onGithubCall: (reason, charged) => calls.push(`${reason}:${charged ? "charged" : "free"}`),
    now: () => now,
  });
  const get = (username: string, useCache = true) => gists.page({ username, page: 1, perPage: 30, useCache });
  return { gists, github, calls, get, advance: (ms: number) => (now += ms), at: () => now };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("the cost of gists answers", () => {
  test("a cold miss, a hit, a free 304, a changed page, a 404 and a bypass: each call with its reason, each answer with its cost", async () => {
    const { gists, github, calls, get, advance, at } = setup();
    github.script.set("octo", [3, "304", 4, 2]);
    github.script.set("ghost", ["404"]);
    expect((await get("octo")).verdict).toBe("MISS");
    expect((await get("octo")).verdict).toBe("HIT");
    expect(gists.freshHit(cacheKeyOf({ username: "octo", page: 1, perPage: 30 }), at())).toBeDefined();
    advance(1_500);
    expect((await get("octo")).verdict).toBe("REVALIDATED");
    advance(1_500);
    expect((await get("octo")).verdict).toBe("MISS");
    expect((await get("ghost")).slot.value.negative).toBe(true);
    expect((await get("octo", false)).verdict).toBe("BYPASS");
    expect(calls).toEqual(["cold_miss:charged", "refresh_not_modified:free", "refresh_changed:charged", "cold_miss:charged", "bypass:charged"]);
    // Charged: the cold miss, the changed page, the 404 and the bypass; free: the hit, the hit path's hit and the 304.
    expect(gists.answered).toEqual({ charged: 4, free: 3 });
  });

  test("without a token GitHub charges a 304 too", async () => {
    const { gists, github, calls, get, advance } = setup({ authenticated: false });
    github.script.set("octo", [3, "304"]);
    await get("octo");
    advance(1_500);
    expect((await get("octo")).verdict).toBe("REVALIDATED");
    expect(calls).toEqual(["cold_miss:charged", "refresh_not_modified:charged"]);
    expect(gists.answered).toEqual({ charged: 2, free: 0 });
  });

  test("requests that wait for another's call are free; only the one that made it is charged", async () => {
    const { gists, github, calls, get } = setup();
    github.script.set("herd", [3]);
    github.gate.hold = true;
    const waiting = [get("herd"), get("herd"), get("herd")];
    await settle();
    github.gate.release();
    const forwards = (await Promise.all(waiting)).map((resolution) => resolution.forward?.collapsed);
    expect(forwards).toEqual([false, true, true]);
    expect(calls).toEqual(["cold_miss:charged"]);
    expect(gists.answered).toEqual({ charged: 1, free: 2 });
  });

  test("a stale answer is free; the refresh it starts is counted as a call when it is made", async () => {
    const { gists, github, calls, get, advance } = setup({ staleMs: 60_000 });
    github.script.set("octo", [3, 3]);
    await get("octo");
    advance(1_500);
    expect((await get("octo")).verdict).toBe("STALE");
    await settle();
    expect(calls).toEqual(["cold_miss:charged", "refresh_changed:charged"]);
    expect(gists.answered).toEqual({ charged: 1, free: 1 });
  });

  test("a complete list: its pages are complete_list calls, the list answer is charged once; use_cache=false makes them bypasses", async () => {
    const { gists, github, calls, advance } = setup();
    github.script.set("lister", [2, 1, 2, 1]);
    expect((await gists.complete("lister", true)).slot.value.count).toBe(3);
    expect((await gists.complete("lister", true)).verdict).toBe("HIT");
    advance(1_500);
    await gists.complete("lister", false);
    expect(calls).toEqual(["complete_list:charged", "complete_list:charged", "bypass:charged", "bypass:charged"]);
    expect(gists.answered).toEqual({ charged: 2, free: 1 });
  });

  test("a failed call is neither counted nor an answer", async () => {
    const { gists, github, calls, get } = setup();
    github.script.set("broken", []);
    await expect(get("broken")).rejects.toThrow("no answer scripted");
    expect(calls).toEqual([]);
    expect(gists.answered).toEqual({ charged: 0, free: 0 });
  });
});

describe("cost.ts", () => {
  test("the reason puts the client's bypass first, then the complete list, then what was held and what GitHub said", () => {
    const call = { bypass: false, forList: false, held: false, status: 200 as const };
    expect(callReason(call)).toBe("cold_miss");
    expect(callReason({ ...call, held: true })).toBe("refresh_changed");
    expect(callReason({ ...call, held: true, status: 404 })).toBe("refresh_changed");
    expect(callReason({ ...call, held: true, status: 304 })).toBe("refresh_not_modified");
    expect(callReason({ ...call, forList: true, held: true, status: 304 })).toBe("complete_list");
    expect(callReason({ ...call, bypass: true, forList: true })).toBe("bypass");
  });

  test("only a 304 to a token is free", () => {
    expect([isCharged(304, true), isCharged(304, false), isCharged(200, true), isCharged(404, true)]).toEqual([false, true, true, true]);
  });
});
