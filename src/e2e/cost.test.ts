import { expect, test } from "bun:test";
import { catalog, costs, githubCallReasons } from "../metrics/catalog.ts";
import { sampleSum } from "../testing/prometheus-text.ts";
import { readCacheStatus, type CacheStatus } from "../testing/structured-fields.ts";
import { describeTargets, freshLogin, pastShortTtl, scrapeMetrics, shortTtl, timedTestMs, until, useStack, type Stack } from "./stack.ts";

// What each answer cost GitHub, as a client reads it (Cache-Status, RFC 9211) and as an operator does
// (github_api_calls_total by reason and cost, gists_answers_total by cost), checked against what the fake GitHub
// itself charged: like GitHub, it charges every answer but a 304 to a request with a token.

const name = "gists-api";
// A high breaker threshold: the failure on purpose must not make the next test fail fast.
const env = { BREAKER_THRESHOLD: "1000" };

/** What a gists answer said about the cache and what it cost. */
interface Told {
  status: number;
  xCache: string | null;
  cacheStatus: CacheStatus;
  maxAge: number | undefined;
  age: number | undefined;
  etag: string | null;
}

async function ask(s: Stack, path: string, headers: Record<string, string> = {}): Promise<Told> {
  const res = await s.request(path, { headers });
  await res.arrayBuffer();
  const maxAge = /max-age=(\d+)/.exec(res.headers.get("cache-control") ?? "")?.[1];
  const age = res.headers.get("age");
  return {
    status: res.status,
    xCache: res.headers.get("x-cache"),
    cacheStatus: readCacheStatus(res.headers.get("cache-status"), name),
    maxAge: maxAge === undefined ? undefined : Number(maxAge),
    age: age === null ? undefined : Number(age),
    etag: res.headers.get("etag"),
  };
}

/** The counters of the cost, and what the fake GitHub charged, as one flat record ("<reason> <cost>", "answers <cost>"). */
async function spend(s: Stack): Promise<Record<string, number>> {
  const scrape = await scrapeMetrics(s);
  const record: Record<string, number> = { "github charged": s.fake.rateLimit.limit - s.fake.rateLimit.remaining };
  for (const reason of githubCallReasons) {
    for (const cost of costs) record[`${reason} ${cost}`] = sampleSum(scrape, catalog.githubCalls.name, { reason, cost });
  }
  for (const cost of costs) record[`answers ${cost}`] = sampleSum(scrape, catalog.gistsAnswers.name, { cost });
  return record;
}

/** What moved in `spend` while `body` ran: only the entries that changed. */
async function spentOn(s: Stack, body: () => Promise<void>): Promise<Record<string, number>> {
  const before = await spend(s);
  await body();
  const after = await spend(s);
  return Object.fromEntries(Object.entries(after).flatMap(([key, value]) => (value === before[key] ? [] : [[key, value - before[key]!]])));
}

describeTargets("the cost of each answer, with a token", (target) => {
  const s = useStack(target, { ...env, GITHUB_TOKEN: "ghp_costSuiteToken0123456789", CACHE_TTL: shortTtl, CACHE_STALE_TTL: "0" });

  test(
    "a cold miss, hits, a 304 to the client, a free revalidation and a changed page",
    async () => {
      const login = freshLogin("cost");
      const key = `${login}:1:30`;
      s.fake.setUser(login, 3);
      const told: Told[] = [];
      expect(
        await spentOn(s, async () => {
          told.push(await ask(s, `/${login}`), await ask(s, `/${login}`));
          told.push(await ask(s, `/${login}`, { "if-none-match": told[1]!.etag! }));
        }),
      ).toEqual({ "cold_miss charged": 1, "answers charged": 1, "answers free": 2, "github charged": 1 });
      const [miss, hit, notModified] = told;
      expect([miss!.xCache, miss!.cacheStatus]).toEqual(["MISS", { name, fwd: "uri-miss", "fwd-status": 200, stored: true, ttl: miss!.maxAge!, key }]);
      expect([hit!.xCache, hit!.cacheStatus]).toEqual(["HIT", { name, hit: true, ttl: hit!.maxAge!, key }]);
      expect([notModified!.status, notModified!.cacheStatus.hit]).toEqual([304, true]);

      await pastShortTtl();
      let renewed: Told | undefined;
      expect(await spentOn(s, async () => void (renewed = await ask(s, `/${login}`)))).toEqual({ "refresh_not_modified free": 1, "answers free": 1 });
      expect([renewed!.xCache, renewed!.cacheStatus]).toEqual([
        "REVALIDATED",
        { name, fwd: "stale", "fwd-status": 304, stored: true, ttl: renewed!.maxAge!, key },
      ]);

      s.fake.setUser(login, 4);
      await pastShortTtl();
      let changed: Told | undefined;
      expect(await spentOn(s, async () => void (changed = await ask(s, `/${login}`)))).toEqual({
        "refresh_changed charged": 1,
        "answers charged": 1,
        "github charged": 1,
      });
      expect([changed!.xCache, changed!.cacheStatus]).toEqual(["MISS", { name, fwd: "stale", "fwd-status": 200, stored: true, ttl: changed!.maxAge!, key }]);
    },
    timedTestMs,
  );

  test("use_cache=false: fwd=request; GitHub's 304 to the held copy's validators is free, a changed page is not", async () => {
    const login = freshLogin("bypass");
    s.fake.setUser(login, 2);
    await ask(s, `/${login}`);
    let same: Told | undefined;
    expect(await spentOn(s, async () => void (same = await ask(s, `/${login}?use_cache=false`)))).toEqual({ "bypass free": 1, "answers free": 1 });
    expect([same!.xCache, same!.cacheStatus]).toEqual([
      "BYPASS",
      { name, fwd: "request", "fwd-status": 304, stored: true, ttl: same!.maxAge!, key: `${login}:1:30` },
    ]);
    s.fake.setUser(login, 5);
    let changed: Told | undefined;
    expect(await spentOn(s, async () => void (changed = await ask(s, `/${login}?use_cache=false`)))).toEqual({
      "bypass charged": 1,
      "answers charged": 1,
      "github charged": 1,
    });
    expect(changed!.cacheStatus).toMatchObject({ fwd: "request", "fwd-status": 200 });
  });

  test("an unknown user: fwd-status=404, charged and stored; then a hit for the negative window", async () => {
    const ghost = freshLogin("ghost");
    const told: Told[] = [];
    expect(
      await spentOn(s, async () => {
        told.push(await ask(s, `/${ghost}`), await ask(s, `/${ghost}`));
      }),
    ).toEqual({ "cold_miss charged": 1, "answers charged": 1, "answers free": 1, "github charged": 1 });
    const key = `${ghost}:1:30`;
    expect(told.map((t) => [t.status, t.xCache])).toEqual([
      [404, "MISS"],
      [404, "HIT"],
    ]);
    expect(told[0]!.cacheStatus).toEqual({ name, fwd: "uri-miss", "fwd-status": 404, stored: true, ttl: told[0]!.maxAge!, key });
    expect(told[1]!.cacheStatus).toEqual({ name, hit: true, ttl: told[1]!.maxAge!, key });
  });

  test("all=true: each page a complete_list call, one charged answer keyed by the list", async () => {
    const login = freshLogin("lister");
    s.fake.setUser(login, 150);
    let all: Told | undefined;
    expect(await spentOn(s, async () => void (all = await ask(s, `/${login}?all=true`)))).toEqual({
      "complete_list charged": 2,
      "answers charged": 1,
      "github charged": 2,
    });
    expect(all!.cacheStatus).toEqual({ name, fwd: "uri-miss", "fwd-status": 200, stored: true, ttl: all!.maxAge!, key: `${login}:all` });
  });

  test("requests that waited for another's call are collapsed and free; the one that made it is charged", async () => {
    const login = freshLogin("herd");
    s.fake.setUser(login, 2);
    s.fake.setFault(login, { kind: "latency", ms: 800, times: 1 });
    let told: Told[] = [];
    const moved = await spentOn(s, async () => {
      told = await Promise.all(Array.from({ length: 10 }, () => ask(s, `/${login}`)));
    });
    expect(moved).toEqual({ "cold_miss charged": 1, "answers charged": 1, "answers free": 9, "github charged": 1 });
    const statuses = told.map((t) => t.cacheStatus);
    expect(statuses.filter((status) => status.collapsed === true)).toHaveLength(9);
    expect(statuses.filter((status) => status.collapsed === undefined)).toEqual([
      { name, fwd: "uri-miss", "fwd-status": 200, stored: true, ttl: told[0]!.maxAge!, key: `${login}:1:30` },
    ]);
  });

  test("a held copy standing in for a GitHub failure: a stale hit with detail stale-if-error, and nothing charged", async () => {
    const login = freshLogin("sie");
    s.fake.setUser(login, 2);
    await ask(s, `/${login}`);
    await pastShortTtl();
    s.fake.setFault(login, { kind: "status", status: 500 });
    let standIn: Told | undefined;
    expect(await spentOn(s, async () => void (standIn = await ask(s, `/${login}`)))).toEqual({ "answers free": 1 });
    s.fake.setFault(login, null);
    expect([standIn!.status, standIn!.xCache]).toEqual([200, "STALE"]);
    expect(standIn!.cacheStatus).toMatchObject({ hit: true, key: `${login}:1:30`, detail: "stale-if-error" });
    expect(standIn!.cacheStatus.ttl as number).toBeLessThanOrEqual(0);
  });
});

describeTargets("the cost of each answer, without a token", (target) => {
  // Whole seconds, so a stale answer's ttl is exactly CACHE_TTL minus its Age.
  const s = useStack(target, { ...env, CACHE_TTL: "1", CACHE_STALE_TTL: "60" });

  test(
    "a stale answer: a hit with ttl = CACHE_TTL - Age and detail stale-while-revalidate; its background 304 is charged",
    async () => {
      const login = freshLogin("swr");
      s.fake.setUser(login, 2);
      await ask(s, `/${login}`);
      await Bun.sleep(2_100);
      let stale: Told | undefined;
      let asked = 0;
      const moved = await spentOn(s, async () => {
        stale = await ask(s, `/${login}`);
        asked++;
        await until(async () => (asked++, (await ask(s, `/${login}`)).xCache === "HIT"), 5_000, "the refreshed page");
      });
      expect([stale!.xCache, stale!.maxAge]).toEqual(["STALE", 0]);
      expect(stale!.cacheStatus).toEqual({ name, hit: true, ttl: 1 - stale!.age!, key: `${login}:1:30`, detail: "stale-while-revalidate" });
      expect(stale!.cacheStatus.ttl as number).toBeLessThan(0);
      expect(moved).toEqual({ "refresh_not_modified charged": 1, "answers free": asked, "github charged": 1 });
    },
    timedTestMs,
  );
});
