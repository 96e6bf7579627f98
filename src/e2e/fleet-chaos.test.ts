import { describe, expect, test } from "bun:test";
import { targetsFromEnv } from "../testing/service.ts";
import { useFleet } from "./fleet-stack.ts";
import { freshLogin, until, useStack } from "./stack.ts";

/** Requests from `workers` concurrent clients over the fleet until `stop()`; counts answers by status. */
function load(fleet: ReturnType<typeof useFleet>, paths: () => string, workers = 12) {
  const statuses: Record<string, number> = {};
  let running = true;
  const done = Promise.all(
    Array.from({ length: workers }, async () => {
      while (running) {
        const status = await fleet
          .request(paths())
          .then(async (res) => (await res.arrayBuffer(), String(res.status)))
          .catch(() => "error");
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  return {
    statuses,
    async stop() {
      running = false;
      await done;
      return statuses;
    },
  };
}

for (const target of targetsFromEnv()) {
  describe(`the shared tier is an accelerator, not a dependency [${target}]`, () => {
    // Redis commands get a second: long enough that a busy machine never turns an answer into a fallback.
    // A window no load of this test can spend: an exhausted budget would turn cold users into 429s (and be shared).
    // Nor a per-minute pace (UPSTREAM_MAX_PER_MINUTE=0): the load sends thousands of cold users a minute.
    const fleet = useFleet(
      [target, target],
      { CACHE_TTL: "4", REDIS_TIMEOUT_MS: "1000", UPSTREAM_MAX_PER_MINUTE: "0" },
      { rateLimit: { limit: 10_000_000, remaining: 10_000_000 } },
    );

    test("Redis killed and restarted under load: no 5xx, replicas stay ready, the tier comes back by itself", async () => {
      const warm = Array.from({ length: 20 }, () => freshLogin("warm"));
      for (const login of warm) fleet.fake.setUser(login, 3);
      for (const login of warm) await fleet.request(`/${login}`);
      let n = 0;
      const traffic = load(fleet, () => (n++ % 4 === 0 ? `/${freshLogin("cold")}` : `/${warm[n % warm.length]}`));
      fleet.fake.setUser("cold", 0);
      await Bun.sleep(1_000);
      await fleet.redis.kill();
      await until(async () => (await fleet.stats()).every((stats) => stats.shared.state === "down"), 10_000, "both replicas to notice");
      const ready = await Promise.all(fleet.replicas.map(async (replica) => (await fetch(`${replica.url}/readyz`)).status));
      await Bun.sleep(1_000);
      await fleet.redis.restart();
      const restarted = Date.now();
      await until(async () => (await fleet.stats()).every((stats) => stats.shared.state === "up"), 15_000, "both replicas to reconnect");
      console.log(`shared tier back on both replicas ${Date.now() - restarted} ms after Redis restarted`);
      await Bun.sleep(500);
      const statuses = await traffic.stop();
      console.log(`answers during the Redis outage test: ${JSON.stringify(statuses)}`);
      expect(ready).toEqual([200, 200]);
      // Cold logins the fake does not know are 404s: every answer is a 200 or a 404, none a 5xx or a dropped connection.
      expect(Object.keys(statuses).filter((status) => status !== "200" && status !== "404")).toEqual([]);
      const logs = fleet.replicas.flatMap((replica) => replica.logs());
      const downs = logs.filter((line) => line.msg === "shared cache unavailable; answering from the local cache");
      expect(downs.length).toBe(2);
      expect(JSON.stringify(downs)).not.toContain("password");
      // And the tier works again: a page stored by one replica is a hit on the other.
      const login = freshLogin("after");
      fleet.fake.setUser(login, 2);
      expect((await fleet.request(`/${login}`, { replica: 0 })).headers.get("x-cache")).toBe("MISS");
      expect((await fleet.request(`/${login}`, { replica: 1 })).headers.get("x-cache")).toBe("HIT");
    }, 60_000);

    test("a stalled Redis costs a request at most its command timeouts, never a hang", async () => {
      const login = freshLogin("stalled");
      fleet.fake.setUser(login, 2);
      fleet.redis.freeze();
      try {
        const started = Date.now();
        const res = await fleet.request(`/${login}`, { replica: 0 });
        const elapsed = Date.now() - started;
        console.log(`a cold request with Redis stalled took ${elapsed} ms`);
        expect([res.status, res.headers.get("x-cache")]).toEqual([200, "MISS"]);
        // Redis answers nothing for the whole test: without per-command deadlines this request would never end.
        // With them it costs a few of REDIS_TIMEOUT_MS (1 s here) before the breaker skips Redis.
        expect(elapsed).toBeLessThan(10_000);
        const again = await fleet.request(`/${login}`, { replica: 0 });
        expect(again.headers.get("x-cache")).toBe("HIT");
      } finally {
        fleet.redis.thaw();
      }
      await until(async () => (await fleet.stats()).every((stats) => stats.shared.state === "up"), 15_000, "the tier to recover");
    }, 30_000);

    test("an expired page held by both replicas is answered STALE by both and refreshed once for the fleet", async () => {
      const login = freshLogin("refresh");
      fleet.fake.setUser(login, 2);
      expect((await fleet.request(`/${login}`, { replica: 0 })).headers.get("x-cache")).toBe("MISS");
      expect((await fleet.request(`/${login}`, { replica: 1 })).headers.get("x-cache")).toBe("HIT");
      await Bun.sleep(4_300);
      fleet.fake.setFault(login, { kind: "latency", ms: 300, times: 1 });
      const verdicts = await Promise.all([0, 1, 0, 1].map(async (replica) => (await fleet.request(`/${login}`, { replica })).headers.get("x-cache")));
      expect(verdicts).toEqual(["STALE", "STALE", "STALE", "STALE"]);
      await until(async () => (await fleet.request(`/${login}`, { replica: 1 })).headers.get("x-cache") === "HIT", 5_000, "the refreshed copy");
      await until(async () => (await fleet.request(`/${login}`, { replica: 0 })).headers.get("x-cache") === "HIT", 5_000, "the refreshed copy");
      // The first fetch and one refresh (a conditional request, answered 304 or 200), never one per replica.
      expect(fleet.fake.requestCount(login)).toBe(2);
    });

    test("a local copy is never fresh for longer than the shared entry it came from", async () => {
      const login = freshLogin("timeline");
      fleet.fake.setUser(login, 2);
      const first = await fleet.request(`/${login}`, { replica: 0 });
      const fetchedAt = Date.now();
      expect([first.headers.get("x-cache"), first.headers.get("cache-control")]).toEqual(["MISS", "public, max-age=4"]);
      await Bun.sleep(2_200);
      // CACHE_TTL=4 from replica 0's fetch: replica 1 reads the copy two seconds later and keeps its timeline.
      const second = await fleet.request(`/${login}`, { replica: 1 });
      if (Date.now() - fetchedAt < 3_900) {
        expect(second.headers.get("x-cache")).toBe("HIT");
        expect(Number(second.headers.get("cache-control")?.split("=")[1])).toBeLessThanOrEqual(2);
      }
      await Bun.sleep(Math.max(0, fetchedAt + 4_300 - Date.now()));
      expect((await fleet.request(`/${login}`, { replica: 1 })).headers.get("x-cache")).not.toBe("HIT");
    });
  });
}

for (const target of targetsFromEnv()) {
  describe(`a replica whose Redis is unreachable from the start [${target}]`, () => {
    const s = useStack(target, { REDIS_URL: "redis://:not-logged@127.0.0.1:1/0" });

    test("starts, stays ready, answers from GitHub and its own cache, and says so once", async () => {
      const login = freshLogin("alone");
      s.fake.setUser(login, 2);
      const first = await s.request(`/${login}`);
      const second = await s.request(`/${login}`);
      expect([first.status, first.headers.get("x-cache"), second.headers.get("x-cache")]).toEqual([200, "MISS", "HIT"]);
      expect((await s.request("/readyz")).status).toBe(200);
      const stats = (await (await s.request("/cache/stats")).json()) as { shared: { state: string; fallbacks: number } };
      expect(stats.shared.state).toBe("down");
      expect(stats.shared.fallbacks).toBeGreaterThan(0);
      const downs = s.service.logs().filter((line) => String(line.msg).startsWith("shared cache"));
      expect(downs.map((line) => [line.level, line.msg, line.redis])).toEqual([
        ["warn", "shared cache unavailable; answering from the local cache", "redis://127.0.0.1:1"],
      ]);
      expect(s.service.stdout()).not.toContain("not-logged");
      expect((await s.request("/cache", { method: "DELETE" }).then((res) => res.json())).shared).toBe("unavailable");
    });
  });
}
