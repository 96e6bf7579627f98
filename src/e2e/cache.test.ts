import { expect, test } from "bun:test";
import { describeTargets, expectError, freshLogin, pastShortTtl, shortTtl, type Stack, useStack } from "./stack.ts";

const adminToken = "e2e-admin-token-42";

async function stats(s: Stack): Promise<Record<string, number>> {
  const res = await s.request("/cache/stats");
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, number>;
}

async function gistsAnswer(s: Stack, path: string) {
  const res = await s.request(path);
  expect(res.status).toBe(200);
  const body = (await res.json()) as any;
  return { xCache: res.headers.get("x-cache"), hit: body.cache.hit as boolean, ttl: body.cache.ttl_seconds as number };
}

describeTargets("cache", (target) => {
  const s = useStack(target);

  test("the key is the canonical request: /Name then /name?page=1&per_page=30 is one upstream call", async () => {
    const login = freshLogin("canon");
    const shouted = login.toUpperCase().replace(/^CANON/, "Canon");
    s.fake.setUser(login, 4);
    const first = await gistsAnswer(s, `/${shouted}`);
    const second = await gistsAnswer(s, `/${login}?page=1&per_page=30`);
    const third = await gistsAnswer(s, `/${login}?use_cache=true&per_page=30`);
    expect([first, second, third].map((a) => [a.xCache, a.hit])).toEqual([
      ["MISS", false],
      ["HIT", true],
      ["HIT", true],
    ]);
    expect(second.ttl).toBeGreaterThan(0);
    expect(second.ttl).toBeLessThanOrEqual(300);
    expect(s.fake.requestCount(login)).toBe(1);
  });

  test("another page or page size is another entry", async () => {
    const login = freshLogin("keys");
    s.fake.setUser(login, 40);
    for (const path of [`/${login}`, `/${login}?page=2`, `/${login}?per_page=10`]) {
      expect((await gistsAnswer(s, path)).hit).toBe(false);
    }
    expect(s.fake.requestCount(login)).toBe(3);
  });

  test("use_cache=false always asks GitHub", async () => {
    const login = freshLogin("bypass");
    s.fake.setUser(login, 2);
    await gistsAnswer(s, `/${login}`);
    for (const _ of [1, 2]) {
      const answer = await gistsAnswer(s, `/${login}?use_cache=false`);
      expect(["MISS", "BYPASS"]).toContain(answer.xCache!);
      expect(answer.hit).toBe(false);
    }
    expect(s.fake.requestCount(login)).toBe(3);
  });

  test("GET /cache/stats reports size, hits, misses, hit_rate and ttl_seconds", async () => {
    const before = await stats(s);
    expect(Object.keys(before)).toEqual(expect.arrayContaining(["hit_rate", "hits", "misses", "size", "ttl_seconds"]));
    const { shared, ...local } = before as Record<string, unknown> & { shared: Record<string, unknown> };
    for (const value of Object.values(local)) expect(typeof value).toBe("number");
    // The shared tier's part: its state ("off" without REDIS_URL), whether Redis is full, and its counters.
    const { state, full, ...counters } = shared;
    expect([state, full]).toEqual(["off", false]);
    for (const value of Object.values(counters)) expect(typeof value).toBe("number");
    expect(before.ttl_seconds).toBe(300);
    const login = freshLogin("stats");
    s.fake.setUser(login, 1);
    await gistsAnswer(s, `/${login}`);
    const afterMiss = await stats(s);
    await gistsAnswer(s, `/${login}`);
    const afterHit = await stats(s);
    expect([afterMiss.misses - before.misses, afterMiss.hits - before.hits]).toEqual([1, 0]);
    expect([afterHit.misses - afterMiss.misses, afterHit.hits - afterMiss.hits]).toEqual([0, 1]);
    expect(afterMiss.size).toBe(before.size + 1);
    expect(afterHit.hit_rate).toBeGreaterThan(0);
    expect(afterHit.hit_rate).toBeLessThanOrEqual(1);
    const fromCache = afterHit.hits + afterHit.stale_served!;
    expect(afterHit.hit_rate).toBeCloseTo(fromCache / (fromCache + afterHit.misses), 3);
  });

  test("DELETE /cache empties it: the next request is a miss that asks GitHub", async () => {
    const login = freshLogin("clear");
    s.fake.setUser(login, 2);
    await gistsAnswer(s, `/${login}`);
    expect((await gistsAnswer(s, `/${login}`)).hit).toBe(true);
    const res = await s.request("/cache", { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ message: "Cache cleared successfully" });
    expect((await stats(s)).size).toBe(0);
    const after = await gistsAnswer(s, `/${login}`);
    expect([after.xCache, after.hit]).toEqual(["MISS", false]);
    expect(s.fake.requestCount(login)).toBe(2);
  });
});

describeTargets("cache admin token", (target) => {
  const s = useStack(target, { ADMIN_TOKEN: adminToken });

  test("DELETE /cache without the admin token is 401", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong-token" },
      { authorization: `Bearer ${adminToken}x` },
      { authorization: adminToken },
      { authorization: `Basic ${btoa(`admin:${adminToken}`)}` },
    ];
    for (const headers of attempts) await expectError(await s.request("/cache", { method: "DELETE", headers }), 401);
  });

  test("DELETE /cache with Authorization: Bearer <ADMIN_TOKEN> clears the cache", async () => {
    const login = freshLogin("admin");
    s.fake.setUser(login, 1);
    await gistsAnswer(s, `/${login}`);
    const res = await s.request("/cache", { method: "DELETE", headers: { authorization: `Bearer ${adminToken}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ message: "Cache cleared successfully" });
    expect((await gistsAnswer(s, `/${login}`)).hit).toBe(false);
    expect(s.fake.requestCount(login)).toBe(2);
  });

  test("the admin token never shows in logs or answers", () => {
    expect(s.service.stdout()).not.toContain(adminToken);
    expect(s.service.stderr()).not.toContain(adminToken);
    expect(s.bodies.filter((body) => body.includes(adminToken))).toEqual([]);
  });
});

describeTargets("cache expiry", (target) => {
  const s = useStack(target, { CACHE_TTL: shortTtl, CACHE_STALE_TTL: "0" });

  test("without a stale window, an entry older than CACHE_TTL is fetched again", async () => {
    const login = freshLogin("expiry");
    s.fake.setUser(login, 1);
    const first = await gistsAnswer(s, `/${login}`);
    const second = await gistsAnswer(s, `/${login}`);
    expect([first.hit, second.hit, second.ttl]).toEqual([false, true, 0.6]);
    await pastShortTtl();
    expect((await gistsAnswer(s, `/${login}`)).hit).toBe(false);
    expect(s.fake.requestCount(login)).toBe(2);
  });
});

// CACHE_TTL=0 turns the cache off, whatever CACHE_STALE_TTL says (its default, 3600, here).
describeTargets("caching off", (target) => {
  const s = useStack(target, { CACHE_TTL: "0", CACHE_NEGATIVE_TTL: "60" });

  test("CACHE_TTL=0: every request asks GitHub, nothing is answered stale or from a stored 404, nothing is stored", async () => {
    const login = freshLogin("nocache");
    s.fake.setUser(login, 2);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await gistsAnswer(s, `/${login}`));
    expect(answers.map((answer) => [answer.xCache, answer.hit, answer.ttl])).toEqual([
      ["MISS", false, 0],
      ["MISS", false, 0],
      ["MISS", false, 0],
    ]);
    const ghost = freshLogin("nocacheghost");
    for (let i = 0; i < 2; i++) expect((await s.request(`/${ghost}`)).headers.get("x-cache")).toBe("MISS");
    expect([s.fake.requestCount(login), s.fake.requestCount(ghost)]).toEqual([3, 2]);
    const stats = await s.request("/cache/stats").then((res) => res.json() as Promise<Record<string, number>>);
    expect([stats.size, stats.hits, stats.stale_served, stats.ttl_seconds]).toEqual([0, 0, 0, 0]);
  });
});
