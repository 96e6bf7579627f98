import { expect, test } from "bun:test";
import { cacheStats, describeTargets, expectError, freshLogin, getGists, useStack, type Stack } from "./stack.ts";

const statsKeys = [
  "size",
  "hits",
  "misses",
  "hit_rate",
  "ttl_seconds",
  "bytes",
  "max_bytes",
  "max_entries",
  "evictions",
  "stale_served",
  "coalesced",
  "inflight",
];

/** Fresh users with `gists` gists each, known to the fake. */
function freshUsers(s: Stack, prefix: string, count: number, gists = 1): string[] {
  const logins = Array.from({ length: count }, (_, i) => freshLogin(`${prefix}${i}`));
  for (const login of logins) s.fake.setUser(login, gists);
  return logins;
}

/** The X-Cache of each user's answer, asked one after another. */
async function verdicts(s: Stack, logins: string[]): Promise<Array<string | null>> {
  const seen = [];
  for (const login of logins) {
    const reply = await getGists(s, `/${login}`);
    expect(reply.status).toBe(200);
    seen.push(reply.xCache);
  }
  return seen;
}

describeTargets("cache bounded by CACHE_MAX_ENTRIES", (target) => {
  const s = useStack(target, { CACHE_MAX_ENTRIES: "5" });

  test("GET /cache/stats reports every counter as a number, and the configured bounds", async () => {
    const stats = await cacheStats(s);
    expect(Object.keys(stats)).toEqual(expect.arrayContaining(statsKeys));
    expect(statsKeys.filter((key) => typeof stats[key] !== "number")).toEqual([]);
    expect([stats.max_entries, stats.max_bytes, stats.ttl_seconds, stats.inflight]).toEqual([5, 67_108_864, 300, 0]);
  });

  test("after 12 distinct users at most 5 entries remain, 7 were evicted, and the 5 most recent are still hits", async () => {
    const before = await cacheStats(s);
    const logins = freshUsers(s, "lru", 12);
    expect(await verdicts(s, logins)).toEqual(logins.map(() => "MISS"));
    const after = await cacheStats(s);
    expect(after.size).toBeLessThanOrEqual(5);
    expect(after.evictions - before.evictions).toBeGreaterThanOrEqual(7);
    expect(await verdicts(s, logins.slice(7))).toEqual(["HIT", "HIT", "HIT", "HIT", "HIT"]);
    expect(logins.map((login) => s.fake.requestCount(login))).toEqual(logins.map(() => 1));
    expect(await verdicts(s, logins.slice(0, 1))).toEqual(["MISS"]);
    expect(s.fake.requestCount(logins[0]!)).toBe(2);
  });

  test("the least recently used entry goes first: a page read again outlives pages stored after it", async () => {
    const [a1, a2, a3, a4, a5] = freshUsers(s, "old", 5);
    const later = freshUsers(s, "new", 3);
    await verdicts(s, [a1!, a2!, a3!, a4!, a5!]);
    expect(await verdicts(s, [a1!])).toEqual(["HIT"]);
    await verdicts(s, later);
    expect(await verdicts(s, [a1!, a5!, a2!])).toEqual(["HIT", "HIT", "MISS"]);
  });
});

describeTargets("cache bounded by CACHE_MAX_BYTES, bodies by UPSTREAM_MAX_BODY_BYTES", (target) => {
  // A page of 30 fake gists is about 50 KB from GitHub and about 28 KB once stored (21 KB of JSON, its gzip form
  // and the entry's bookkeeping), so three fit; 100 gists are about 170 KB from GitHub.
  const maxBytes = 98_304;
  const s = useStack(target, { CACHE_MAX_BYTES: String(maxBytes), UPSTREAM_MAX_BODY_BYTES: "65536" });

  test("the bytes held never exceed CACHE_MAX_BYTES, older pages are evicted, the newest is a hit", async () => {
    const logins = freshUsers(s, "bytes", 12, 30);
    const held = [];
    for (const login of logins) {
      expect((await getGists(s, `/${login}`)).status).toBe(200);
      const stats = await cacheStats(s);
      held.push({ bytes: stats.bytes, within: stats.bytes <= stats.max_bytes });
    }
    expect(held.filter((h) => !h.within)).toEqual([]);
    expect(held[0]!.bytes).toBeGreaterThan(0);
    const stats = await cacheStats(s);
    expect([stats.max_bytes, stats.max_entries]).toEqual([maxBytes, 10_000]);
    expect(stats.size).toBeLessThan(12);
    expect(stats.evictions).toBeGreaterThanOrEqual(1);
    expect(await verdicts(s, logins.slice(-1))).toEqual(["HIT"]);
    expect(await verdicts(s, logins.slice(0, 1))).toEqual(["MISS"]);
  });

  test("a GitHub body larger than UPSTREAM_MAX_BODY_BYTES is 502 and not cached; a smaller page of the user is 200", async () => {
    const login = freshLogin("huge");
    s.fake.setUser(login, 100);
    await expectError(await s.request(`/${login}?per_page=100`), 502);
    const asked = s.fake.requestCount(login);
    expect(asked).toBeGreaterThanOrEqual(1);
    await expectError(await s.request(`/${login}?per_page=100`), 502);
    expect(s.fake.requestCount(login)).toBeGreaterThan(asked);
    const small = await getGists(s, `/${login}?per_page=10`);
    expect([small.status, small.body.data.length]).toEqual([200, 10]);
  });

  test("the limit holds without a content-length too (a chunked GitHub answer)", async () => {
    const login = freshLogin("hugechunked");
    s.fake.setUser(login, 100);
    s.fake.setFault(login, { kind: "chunked" });
    await expectError(await s.request(`/${login}?per_page=100`), 502);
    const small = await getGists(s, `/${login}?per_page=10`);
    expect([small.status, small.body.data.length]).toEqual([200, 10]);
    expect(s.fake.requests.filter((r) => r.login === login).every((r) => r.responseHeaders?.["content-length"] === undefined)).toBe(true);
  });
});
