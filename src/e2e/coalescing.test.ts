import { expect, test } from "bun:test";
import { cacheStats, describeTargets, freshLogin, getGists, until, useStack } from "./stack.ts";

const waiters = 100;

describeTargets("coalescing", (target) => {
  // A high breaker threshold: the failing test must not leave the breaker open for the next.
  const s = useStack(target, { BREAKER_THRESHOLD: "1000" });

  test(`${waiters} concurrent cold requests for one user make exactly one upstream request, and all get 200`, async () => {
    const login = freshLogin("herd");
    s.fake.setUser(login, 3);
    s.fake.setFault(login, { kind: "latency", ms: 500, times: 1 });
    const before = await cacheStats(s);
    const pending = Array.from({ length: waiters }, () => getGists(s, `/${login}`));
    await until(() => s.fake.inFlight === 1, 5_000, "the one upstream request");
    const during = await cacheStats(s);
    const replies = await Promise.all(pending);
    expect(replies.filter((r) => r.status !== 200).map((r) => r.status)).toEqual([]);
    const expectedIds = s.fake.gists(login).map((g) => g.id);
    expect(replies.filter((r) => JSON.stringify(r.body.data.map((g: any) => g.id)) !== JSON.stringify(expectedIds))).toEqual([]);
    expect(s.fake.requestCount(login)).toBe(1);
    expect(during.inflight).toBe(1);
    const after = await cacheStats(s);
    expect(after.coalesced - before.coalesced).toBeGreaterThanOrEqual(waiters - 1);
    expect(after.coalesced - before.coalesced).toBeLessThanOrEqual(waiters);
    expect(after.inflight).toBe(0);
  });

  test("when that one upstream request fails every waiter gets the same 502, and the failure is not cached", async () => {
    const login = freshLogin("herdfail");
    s.fake.setUser(login, 3);
    s.fake.setFault(login, { kind: "status", status: 500, delayMs: 300 });
    s.fake.clearRequests();
    const replies = await Promise.all(Array.from({ length: waiters }, () => getGists(s, `/${login}`)));
    const statuses = replies.map((r) => r.status);
    expect(statuses).toEqual(statuses.map(() => 502));
    expect(replies.filter((r) => typeof r.body.detail !== "string")).toEqual([]);
    // Retries of the one fetch are allowed (UPSTREAM_RETRIES=2), never a second fetch beside it.
    expect(s.fake.requestCount(login)).toBeGreaterThanOrEqual(1);
    expect(s.fake.requestCount(login)).toBeLessThanOrEqual(3);
    expect(s.fake.maxInFlight).toBe(1);
    s.fake.setFault(login, null);
    const recovered = await getGists(s, `/${login}`);
    expect([recovered.status, recovered.xCache]).toEqual([200, "MISS"]);
  });

  test("coalescing is per page: concurrent requests for two pages of one user make two upstream requests", async () => {
    const login = freshLogin("herdpages");
    s.fake.setUser(login, 45);
    s.fake.setFault(login, { kind: "latency", ms: 300 });
    const paths = Array.from({ length: 40 }, (_, i) => `/${login}?page=${(i % 2) + 1}`);
    const replies = await Promise.all(paths.map((path) => getGists(s, path)));
    s.fake.setFault(login, null);
    expect(replies.map((r) => [r.status, r.body.data.length])).toEqual(paths.map((_, i) => [200, i % 2 === 0 ? 30 : 15]));
    expect(s.fake.requestCount(login)).toBe(2);
  });
});
