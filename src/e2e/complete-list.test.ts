import { expect, test } from "bun:test";
import { describeTargets, expectError, freshLogin, getGists, until, upstreamRequests, useStack, type Stack } from "./stack.ts";

const maxPages = 3;

/** The (page, per_page) of each upstream request for a login, page 1 when GitHub's default was left implicit. */
function pagesAsked(s: Stack, login: string): Array<[string, string | null]> {
  return upstreamRequests(s, login).map((r) => [r.query.get("page") ?? "1", r.query.get("per_page")]);
}

const hundreds = (n: number): Array<[string, string]> => Array.from({ length: n }, (_, i) => [String(i + 1), "100"]);

describeTargets("complete lists (?all=true)", (target) => {
  const s = useStack(target, { GISTS_MAX_PAGES: String(maxPages), BREAKER_THRESHOLD: "1000" });

  test("follow GitHub's Link rel=next with per_page=100: 250 gists are 250 items in GitHub's order from 3 requests", async () => {
    const login = freshLogin("all");
    s.fake.setUser(login, 250);
    const reply = await getGists(s, `/${login}?all=true`);
    expect(reply.status).toBe(200);
    const ids = reply.body.data.map((g: any) => g.id);
    expect(ids).toEqual(s.fake.gists(login).map((g) => g.id));
    expect(new Set(ids).size).toBe(250);
    expect(reply.body.pagination).toMatchObject({ count: 250, truncated: false });
    expect(pagesAsked(s, login)).toEqual(hundreds(3));
  });

  test("a second ?all=true within CACHE_TTL makes no upstream request and answers the same list", async () => {
    const login = freshLogin("allcached");
    s.fake.setUser(login, 150);
    const first = await getGists(s, `/${login}?all=true`);
    const second = await getGists(s, `/${login.toUpperCase()}?all=true`);
    expect(second.status).toBe(200);
    expect(second.body.data).toEqual(first.body.data);
    expect(second.body.pagination).toEqual(first.body.pagination);
    expect(s.fake.requestCount(login)).toBe(2);
  });

  test(`GISTS_MAX_PAGES=${maxPages} caps the walk: 350 gists are the first 300 and truncated:true`, async () => {
    const login = freshLogin("alltrunc");
    s.fake.setUser(login, 350);
    const reply = await getGists(s, `/${login}?all=true`);
    expect(reply.status).toBe(200);
    expect(reply.body.data.map((g: any) => g.id)).toEqual(
      s.fake
        .gists(login)
        .slice(0, 300)
        .map((g) => g.id),
    );
    expect(reply.body.pagination).toMatchObject({ count: 300, truncated: true });
    expect(pagesAsked(s, login)).toEqual(hundreds(3));
  });

  test(`exactly ${maxPages} full pages is complete: truncated comes from the Link header, not the count`, async () => {
    const login = freshLogin("allexact");
    s.fake.setUser(login, 300);
    const reply = await getGists(s, `/${login}?all=true`);
    expect(reply.body.data).toHaveLength(300);
    expect(reply.body.pagination).toMatchObject({ count: 300, truncated: false });
  });

  test("one page or none: 100 gists and 0 gists each take one request", async () => {
    const hundred = freshLogin("all100");
    const none = freshLogin("all0");
    s.fake.setUser(hundred, 100);
    s.fake.setUser(none, 0);
    const full = await getGists(s, `/${hundred}?all=true`);
    const empty = await getGists(s, `/${none}?all=true`);
    expect([full.status, full.body.data.length, full.body.pagination.truncated]).toEqual([200, 100, false]);
    expect([empty.status, empty.body.data, empty.body.pagination.truncated]).toEqual([200, [], false]);
    expect([pagesAsked(s, hundred), pagesAsked(s, none)]).toEqual([hundreds(1), hundreds(1)]);
  });

  test("all=false is the ordinary page; an unknown user is 404", async () => {
    const login = freshLogin("allfalse");
    s.fake.setUser(login, 45);
    const page = await getGists(s, `/${login}?all=false`);
    expect([page.status, page.body.data.length, page.body.pagination.has_next]).toEqual([200, 30, true]);
    await expectError(await s.request(`/${freshLogin("allghost")}?all=true`), 404);
  });

  test("a page that fails midway fails the whole answer (502); nothing partial is cached", async () => {
    const login = freshLogin("allfail");
    s.fake.setUser(login, 250);
    s.fake.setFault(login, { kind: "latency", ms: 300, times: 1 });
    const pending = s.request(`/${login}?all=true`);
    await until(() => s.fake.requestCount(login) === 1, 3_000, "the first page to be asked for");
    s.fake.setFault(login, { kind: "status", status: 500 });
    await expectError(await pending, 502);
    s.fake.setFault(login, null);
    const reply = await getGists(s, `/${login}?all=true`);
    expect([reply.status, reply.body.data.length, reply.body.pagination.truncated]).toEqual([200, 250, false]);
  });

  test("all must be true or false: anything else is 422 at query.all, with no upstream call", async () => {
    s.fake.setUser("octocat", 5);
    s.fake.clearRequests();
    const answers = [];
    for (const value of ["yes", "1", "maybe", ""]) {
      const res = await s.request(`/octocat?all=${value}`);
      const body = res.status === 422 ? ((await expectError(res, 422)) as any) : undefined;
      answers.push({ value, status: res.status, loc: body?.detail?.[0]?.loc });
    }
    expect(answers).toEqual(["yes", "1", "maybe", ""].map((value) => ({ value, status: 422, loc: ["query", "all"] })));
    expect(s.fake.requestCount()).toBe(0);
  });
});
