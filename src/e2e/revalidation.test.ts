import { expect, test } from "bun:test";
import { sampleSum } from "../testing/prometheus-text.ts";
import { describeTargets, freshLogin, getGists, pastShortTtl as pastTtl, scrapeMetrics, shortTtl, upstreamRequests, useStack } from "./stack.ts";

// No stale window: an expired page is asked for in the foreground, so the answer shows what GitHub said.
describeTargets("conditional revalidation", (target) => {
  const s = useStack(target, { CACHE_TTL: shortTtl, CACHE_STALE_TTL: "0" });

  test("an expired page is asked for with GitHub's ETag and Last-Modified; a 304 renews it with the full data", async () => {
    const login = freshLogin("reval");
    s.fake.setUser(login, 5);
    const first = await getGists(s, `/${login}`);
    expect([first.status, first.xCache]).toEqual([200, "MISS"]);
    const [fetched] = upstreamRequests(s, login);
    expect(fetched!.headers["if-none-match"]).toBeUndefined();
    const notModifiedBefore = sampleSum(await scrapeMetrics(s), "github_api_requests_total", { status: "304" });

    await pastTtl();
    const renewed = await getGists(s, `/${login}`);
    expect([renewed.status, renewed.xCache]).toEqual([200, "REVALIDATED"]);
    expect(renewed.body.data).toEqual(first.body.data);
    expect(renewed.body.pagination).toEqual(first.body.pagination);
    const asked = upstreamRequests(s, login);
    expect(asked).toHaveLength(2);
    expect(asked[1]!.headers["if-none-match"]).toBe(fetched!.responseHeaders!.etag!);
    expect(asked[1]!.headers["if-modified-since"]).toBe(fetched!.responseHeaders!["last-modified"]!);
    expect(asked[1]!.status).toBe(304);
    const notModifiedAfter = sampleSum(await scrapeMetrics(s), "github_api_requests_total", { status: "304" });
    expect(notModifiedAfter - notModifiedBefore).toBe(1);

    const again = await getGists(s, `/${login}`);
    expect([again.status, again.xCache]).toEqual([200, "HIT"]);
    expect(again.body.data).toEqual(first.body.data);
    expect(upstreamRequests(s, login)).toHaveLength(2);
  });

  test("a renewed page is revalidated again with the same ETag once it expires again", async () => {
    const login = freshLogin("reval2");
    s.fake.setUser(login, 2);
    await getGists(s, `/${login}`);
    await pastTtl();
    expect((await getGists(s, `/${login}`)).xCache).toBe("REVALIDATED");
    await pastTtl();
    expect((await getGists(s, `/${login}`)).xCache).toBe("REVALIDATED");
    const asked = upstreamRequests(s, login);
    expect(asked.map((r) => r.status)).toEqual([200, 304, 304]);
    expect(asked[2]!.headers["if-none-match"]).toBe(asked[0]!.responseHeaders!.etag!);
  });

  test("a list that changed comes back whole: 200 upstream, X-Cache MISS, the new data, then HIT", async () => {
    const login = freshLogin("changed");
    s.fake.setUser(login, 2);
    await getGists(s, `/${login}`);
    s.fake.setUser(login, 3);
    await pastTtl();
    const changed = await getGists(s, `/${login}`);
    expect([changed.status, changed.xCache]).toEqual([200, "MISS"]);
    expect(changed.body.data.map((g: any) => g.id)).toEqual(s.fake.gists(login).map((g) => g.id));
    const asked = upstreamRequests(s, login);
    expect(asked.map((r) => r.status)).toEqual([200, 200]);
    expect(asked[1]!.headers["if-none-match"]).toBe(asked[0]!.responseHeaders!.etag!);
    const after = await getGists(s, `/${login}`);
    expect([after.xCache, after.body.data.length]).toEqual(["HIT", 3]);
  });

  test("use_cache=false asks GitHub even for a fresh page and answers what GitHub has now: BYPASS", async () => {
    const login = freshLogin("bypass");
    s.fake.setUser(login, 2);
    await getGists(s, `/${login}`);
    s.fake.setUser(login, 4);
    const bypass = await getGists(s, `/${login}?use_cache=false`);
    expect([bypass.status, bypass.xCache, bypass.body.data.length]).toEqual([200, "BYPASS", 4]);
    expect(upstreamRequests(s, login).map((r) => r.status)).toEqual([200, 200]);
  });
});

describeTargets("CACHE_REVALIDATE=false", (target) => {
  const s = useStack(target, { CACHE_TTL: shortTtl, CACHE_STALE_TTL: "0", CACHE_REVALIDATE: "false" });

  test("an expired page is fetched whole: no If-None-Match, a 200 upstream, X-Cache MISS", async () => {
    const login = freshLogin("noreval");
    s.fake.setUser(login, 3);
    const first = await getGists(s, `/${login}`);
    await pastTtl();
    const second = await getGists(s, `/${login}`);
    expect([second.status, second.xCache]).toEqual([200, "MISS"]);
    expect(second.body.data).toEqual(first.body.data);
    const asked = upstreamRequests(s, login);
    expect(asked.map((r) => [r.headers["if-none-match"], r.status])).toEqual([
      [undefined, 200],
      [undefined, 200],
    ]);
  });
});
