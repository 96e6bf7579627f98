import { describe, expect, test } from "bun:test";
import { targetsFromEnv } from "../testing/service.ts";
import { useFleet } from "./fleet-stack.ts";
import { freshLogin, until } from "./stack.ts";

const nowSeconds = () => Math.floor(Date.now() / 1000);

async function read(res: Response) {
  const text = await res.text();
  return { status: res.status, xCache: res.headers.get("x-cache"), etag: res.headers.get("etag"), text };
}

for (const target of targetsFromEnv()) {
  describe(`a fleet of three replicas sharing one Redis [${target}]`, () => {
    // A short upstream deadline keeps the lease (and a wait on a replica that died) short; a long Redis deadline
    // keeps a busy machine's stalled event loop from turning a Redis answer into a fallback (and an extra fetch).
    const fleet = useFleet([target, target, target], { UPSTREAM_TIMEOUT_MS: "1500", BREAKER_THRESHOLD: "1000", REDIS_TIMEOUT_MS: "2000" });

    test("29 users asked 6 times each, round robin: one GitHub request per page, and every repeat is a HIT", async () => {
      const users = Array.from({ length: 29 }, () => freshLogin("round"));
      for (const login of users) fleet.fake.setUser(login, 3);
      const verdicts: string[][] = [];
      for (let round = 0; round < 6; round++) {
        const replies = await Promise.all(users.map(async (login) => read(await fleet.request(`/${login}`))));
        expect(replies.filter((reply) => reply.status !== 200)).toEqual([]);
        verdicts.push([...new Set(replies.map((reply) => reply.xCache ?? ""))]);
      }
      expect(users.map((login) => fleet.fake.requestCount(login))).toEqual(users.map(() => 1));
      expect(verdicts).toEqual([["MISS"], ["HIT"], ["HIT"], ["HIT"], ["HIT"], ["HIT"]]);
    });

    test("a page stored by one replica is a HIT on each other one, with the same body and ETag", async () => {
      const login = freshLogin("across");
      fleet.fake.setUser(login, 5);
      const first = await read(await fleet.request(`/${login}?per_page=2`, { replica: 0 }));
      const second = await read(await fleet.request(`/${login}?per_page=2`, { replica: 1 }));
      const third = await read(await fleet.request(`/${login}?per_page=2`, { replica: 2 }));
      expect([first.xCache, second.xCache, third.xCache]).toEqual(["MISS", "HIT", "HIT"]);
      expect(second.etag).toBe(first.etag);
      expect(JSON.parse(second.text).data).toEqual(JSON.parse(first.text).data);
      expect(JSON.parse(third.text).cache.hit).toBe(true);
      expect(fleet.fake.requestCount(login)).toBe(1);
    });

    test("100 concurrent cold requests spread over the replicas make one GitHub request, and all get the page", async () => {
      const login = freshLogin("fleetherd");
      fleet.fake.setUser(login, 4);
      fleet.fake.setFault(login, { kind: "latency", ms: 400, times: 1 });
      const replies = await Promise.all(Array.from({ length: 100 }, async () => read(await fleet.request(`/${login}`))));
      expect(replies.filter((reply) => reply.status !== 200).map((reply) => reply.status)).toEqual([]);
      const ids = fleet.fake.gists(login).map((gist) => gist.id);
      expect(replies.filter((reply) => JSON.stringify(JSON.parse(reply.text).data.map((g: any) => g.id)) !== JSON.stringify(ids))).toEqual([]);
      expect(fleet.fake.requestCount(login)).toBe(1);
      const waits = (await fleet.stats()).map((stats) => stats.shared.lease_waits);
      expect(waits.filter((count) => count > 0).length).toBeGreaterThanOrEqual(1);
    });

    test("an unknown user's 404 is shared too: one GitHub request for the fleet", async () => {
      const login = freshLogin("nobody");
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await fleet.request(`/${login}`)).status);
      expect(statuses).toEqual([404, 404, 404, 404, 404, 404]);
      expect(fleet.fake.requestCount(login)).toBe(1);
    });

    test("DELETE /cache on one replica empties the shared tier and every replica, and leaves other prefixes alone, nested ones too", async () => {
      const users = Array.from({ length: 6 }, () => freshLogin("clear"));
      for (const login of users) fleet.fake.setUser(login, 2);
      for (const login of users) for (let replica = 0; replica < 3; replica++) await fleet.request(`/${login}`, { replica });
      expect((await fleet.stats()).every((stats) => stats.size >= users.length)).toBe(true);
      fleet.redis.cli("SET", "other-service:keep", "1");
      // Another deployment whose prefix starts with this one's: none of its keys may go.
      const nested = { prefix: "gists-api:staging:", epoch: "0123456789abcdef" };
      const nestedKeys = [`${nested.prefix}epoch`, `${nested.prefix}${nested.epoch}:v2:someone:1:30`, `${nested.prefix}budget`];
      fleet.redis.cli("SET", nestedKeys[0]!, nested.epoch);
      for (const key of nestedKeys.slice(1)) fleet.redis.cli("SET", key, "theirs");
      const started = Date.now();
      const res = await fleet.request("/cache", { method: "DELETE", replica: 1 });
      expect(await res.json()).toEqual({ message: "Cache cleared successfully", shared: "cleared" });
      await until(async () => (await fleet.stats()).every((stats) => stats.size === 0), 5_000, "every replica to empty its cache");
      const elapsed = Date.now() - started;
      console.log(`fleet-wide clear reached all 3 replicas in ${elapsed} ms`);
      // What is left of this deployment: its new epoch and GitHub's budget; no page, no lease. (Entries live under
      // the epoch they were written in, so a clear starts a new one and deletes exactly the old one's keys.)
      const ours = fleet.redis.cli("KEYS", "gists-api:*").trim().split("\n");
      expect(ours.filter((key) => key && !key.startsWith(nested.prefix) && key !== "gists-api:budget")).toEqual(["gists-api:epoch"]);
      expect(fleet.redis.cli("GET", "other-service:keep").trim()).toBe("1");
      for (const key of nestedKeys) expect(fleet.redis.cli("EXISTS", key).trim()).toBe("1");
      const before = fleet.fake.requestCount(users[0]!);
      const again = await read(await fleet.request(`/${users[0]}`, { replica: 2 }));
      expect([again.status, again.xCache, fleet.fake.requestCount(users[0]!)]).toEqual([200, "MISS", before + 1]);
    });

    test("once one replica sees GitHub's budget exhausted, no replica calls GitHub: cached pages answer, cold users get 429", async () => {
      const cached = freshLogin("budgetwarm");
      fleet.fake.setUser(cached, 2);
      expect((await fleet.request(`/${cached}`, { replica: 2 })).status).toBe(200);
      const resetAt = nowSeconds() + 120;
      fleet.fake.setRateLimit({ remaining: 1, resetAt });
      const spender = freshLogin("budget");
      fleet.fake.setUser(spender, 2);
      expect((await fleet.request(`/${spender}`, { replica: 0 })).status).toBe(200);
      // The replica that saw remaining 0 publishes it (and keeps it in Redis); the others take it within moments.
      await until(() => JSON.parse(fleet.redis.cli("GET", "gists-api:budget") || "{}").remaining === 0, 5_000, "the shared budget");
      await Bun.sleep(200);
      const sent = fleet.fake.requestCount();
      for (const replica of [1, 2]) {
        const cold = freshLogin("budgetcold");
        fleet.fake.setUser(cold, 1);
        const res = await fleet.request(`/${cold}`, { replica });
        expect(res.status).toBe(429);
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
        expect((await fleet.request(`/${cached}`, { replica })).status).toBe(200);
      }
      expect(fleet.fake.requestCount()).toBe(sent);
      // A later window replaces an exhausted one on every replica, as a reset seen by any replica would.
      const renewed = { type: "budget", remaining: 5000, resetAt: nowSeconds() + 3600, pausedUntilMs: 0, from: "test" };
      fleet.fake.setRateLimit({ remaining: 5000, resetAt: renewed.resetAt });
      fleet.redis.cli("PUBLISH", "gists-api:events", JSON.stringify(renewed));
      const check = freshLogin("budgetback");
      fleet.fake.setUser(check, 1);
      await until(async () => (await fleet.request(`/${check}`, { replica: 1 })).status === 200, 5_000, "the renewed budget");
    });

    test("garbage at a key and an entry of another format version are dropped, never served", async () => {
      for (const [label, value] of [
        ["garbage", "not an entry at all"],
        ["foreign", `GAPI\x09${"x".repeat(40)}`],
      ] as const) {
        const login = freshLogin(label);
        fleet.fake.setUser(login, 2);
        expect((await fleet.request(`/${login}`, { replica: 0 })).status).toBe(200);
        fleet.redis.cli("SET", fleet.redis.keysOf(`${login.toLowerCase()}:1:30`).entry, value);
        const before = (await fleet.stats())[1]!.shared.dropped;
        const reply = await read(await fleet.request(`/${login}`, { replica: 1 }));
        expect([reply.status, reply.xCache]).toEqual([200, "MISS"]);
        expect(JSON.parse(reply.text).data.map((g: any) => g.id)).toEqual(fleet.fake.gists(login).map((g) => g.id));
        expect((await fleet.stats())[1]!.shared.dropped).toBe(before + 1);
        expect(fleet.fake.requestCount(login)).toBe(2);
      }
    });

    test("when the replica holding a lease dies mid-fetch, a waiting replica fetches itself: no hang, no 5xx", async () => {
      const login = freshLogin("orphan");
      fleet.fake.setUser(login, 2);
      fleet.fake.setFault(login, { kind: "latency", ms: 1_000, times: 1 });
      const holder = fleet.request(`/${login}`, { replica: 0 }).catch(() => undefined);
      await until(() => fleet.fake.inFlight === 1, 5_000, "the holder's GitHub request");
      const waiter = fleet.request(`/${login}`, { replica: 1 });
      await Bun.sleep(100);
      fleet.replicas[0]!.signal("SIGKILL");
      const reply = await read(await waiter);
      expect([reply.status, reply.xCache]).toEqual([200, "MISS"]);
      await holder;
      expect(fleet.fake.requestCount(login)).toBe(2);
      expect((await fetch(`${fleet.replicas[1]!.url}/cache/stats`).then((r) => r.json())).shared.lease_waits).toBeGreaterThan(0);
    });
  });
}

describe("a mixed fleet: the compiled binary and Deno read each other's entries", () => {
  const fleet = useFleet(["binary", "deno"]);

  test("a page stored by either runtime is a HIT on the other", async () => {
    const one = freshLogin("mixed");
    const two = freshLogin("mixed");
    fleet.fake.setUser(one, 3);
    fleet.fake.setUser(two, 3);
    const answers = [
      await read(await fleet.request(`/${one}`, { replica: 0 })),
      await read(await fleet.request(`/${one}`, { replica: 1 })),
      await read(await fleet.request(`/${two}`, { replica: 1 })),
      await read(await fleet.request(`/${two}`, { replica: 0 })),
    ];
    expect(answers.map((answer) => answer.xCache)).toEqual(["MISS", "HIT", "MISS", "HIT"]);
    expect(answers[1]!.etag).toBe(answers[0]!.etag);
    expect(answers[3]!.etag).toBe(answers[2]!.etag);
    expect([fleet.fake.requestCount(one), fleet.fake.requestCount(two)]).toEqual([1, 1]);
  });
});
