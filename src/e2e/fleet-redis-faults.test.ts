import { describe, expect, test } from "bun:test";
import { targetsFromEnv, type RunningService } from "../testing/service.ts";
import { useFleet, type Fleet } from "./fleet-stack.ts";
import { freshLogin, until } from "./stack.ts";

// What Redis can do to the fleet short of a partition (fleet-partition.test.ts): lose its data, hold keys of the
// wrong type where the service's would be, and run out of memory with an eviction policy that refuses writes.

const redisTimeoutMs = 500;
// What a busy 2-core machine may add to a bound (timers late, a process descheduled), never a design's worth.
const slackMs = 1_500;

interface Reply {
  status: number;
  xCache: string | null;
  gists: number;
}

async function getGists(fleet: Fleet, login: string, replica: number): Promise<Reply> {
  const res = await fleet.request(`/${login}`, { replica });
  const text = await res.text();
  const gists = res.status === 200 ? (JSON.parse(text).data as unknown[]).length : -1;
  return { status: res.status, xCache: res.headers.get("x-cache"), gists };
}

const linesSaying = (replica: RunningService, start: string) => replica.logs().filter((line) => String(line.msg).startsWith(start)).length;
const unavailable = "shared cache unavailable";

for (const target of targetsFromEnv()) {
  describe(`Redis restarted empty [${target}]`, () => {
    const fleet = useFleet([target, target], { CACHE_TTL: "300", REDIS_TIMEOUT_MS: String(redisTimeoutMs) });

    test("a replica that held pages serves none of them once it reconnects, though no clear message ever reached it", async () => {
      const logins = Array.from({ length: 5 }, () => freshLogin("kept"));
      for (const login of logins) fleet.fake.setUser(login, 2);
      for (const login of logins) {
        expect(await getGists(fleet, login, 0)).toEqual({ status: 200, xCache: "MISS", gists: 2 });
        expect(await getGists(fleet, login, 1)).toEqual({ status: 200, xCache: "HIT", gists: 2 });
      }
      await fleet.redis.kill();
      await until(async () => (await fleet.stats()).every((stats) => stats.shared.state === "down"), 10_000, "both replicas to notice");
      // A clear while Redis is down reaches no other replica: its message is lost, and Redis's data with it.
      const cleared = (await (await fleet.request("/cache", { method: "DELETE", replica: 0 })).json()) as { shared: string };
      expect(cleared.shared).toBe("unavailable");
      for (const login of logins) fleet.fake.setUser(login, 4);
      // Replica 1 cannot know yet: its own copies answer.
      expect(await getGists(fleet, logins[0]!, 1)).toEqual({ status: 200, xCache: "HIT", gists: 2 });

      await fleet.redis.restart();
      const restartedAt = Date.now();
      const before: Reply[] = [];
      let first: Reply | undefined;
      while (!first) {
        const reply = await getGists(fleet, logins[0]!, 1);
        if (reply.gists === 4) first = reply;
        else before.push(reply);
        if (Date.now() - restartedAt > 15_000) throw new Error(`still pre-restart data 15 s after Redis came back: ${JSON.stringify(before.slice(-3))}`);
        if (!first) await Bun.sleep(25);
      }
      const elapsedMs = Date.now() - restartedAt;
      // A refused connection is retried within 1 s at most (ioredis's retry strategy); the new connection's first
      // heartbeat finds no epoch, starts one, and this replica empties its cache, within REDIS_TIMEOUT_MS.
      const boundMs = 1_000 + redisTimeoutMs;
      console.log(
        `[${target}] after Redis restarted empty, replica 1 served fresh data in ${elapsedMs} ms (bound ${boundMs} + ${slackMs} ms); ${before.length} older answers meanwhile`,
      );
      expect(elapsedMs).toBeLessThan(boundMs + slackMs);
      expect(before.filter((reply) => reply.status !== 200 || reply.xCache !== "HIT" || reply.gists !== 2)).toEqual([]);
      expect([first.status, first.xCache]).toEqual([200, "MISS"]);
      // Not one page from before, on either replica.
      const after = await Promise.all(logins.flatMap((login) => [0, 1].map((replica) => getGists(fleet, login, replica))));
      expect(after.filter((reply) => reply.status !== 200 || reply.gists !== 4)).toEqual([]);
      // Both back on the tier (replica 0, asked nothing since, retries on its own schedule).
      await until(async () => (await fleet.stats()).every((stats) => stats.shared.state === "up"), boundMs + slackMs, "both replicas back up");
    }, 60_000);
  });

  describe(`keys of the wrong type where a page's entry and lease would be [${target}]`, () => {
    // A lease lasts UPSTREAM_TIMEOUT_MS + 1 s: 11 s here, so a wait on a lease nobody holds would show.
    const upstreamTimeoutMs = 10_000;
    const fleet = useFleet([target, target], { CACHE_TTL: "300", REDIS_TIMEOUT_MS: "1000", UPSTREAM_TIMEOUT_MS: String(upstreamTimeoutMs) });

    test("a miss of that page is answered at once, 200 on every replica, and the page is shared again", async () => {
      const cases: Array<[string, (keys: { entry: string; lease: string }) => void]> = [
        ["none (baseline)", () => {}],
        ["a hash at the lease", (keys) => fleet.redis.cli("HSET", keys.lease, "field", "value")],
        ["a list at the entry", (keys) => fleet.redis.cli("RPUSH", keys.entry, "a", "b")],
        [
          "a set at the entry and a list with a day's expiry at the lease",
          (keys) => {
            fleet.redis.cli("SADD", keys.entry, "a");
            fleet.redis.cli("RPUSH", keys.lease, "a");
            fleet.redis.cli("EXPIRE", keys.lease, "86400");
          },
        ],
      ];
      const timings: string[] = [];
      // A first page on each replica, so the baseline below is not a cold process's first request.
      const warm = freshLogin("foreign");
      fleet.fake.setUser(warm, 1);
      for (const replica of [0, 1]) expect((await getGists(fleet, warm, replica)).status).toBe(200);
      for (const [label, plant] of cases) {
        const login = freshLogin("foreign");
        fleet.fake.setUser(login, 2);
        plant(fleet.redis.keysOf(`${login.toLowerCase()}:1:30`));
        // Both replicas at once: one of them would otherwise wait on the other's lease.
        const started = Date.now();
        const replies = await Promise.all([0, 1, 0, 1].map((replica) => getGists(fleet, login, replica)));
        const elapsedMs = Date.now() - started;
        timings.push(`${label}: ${elapsedMs} ms`);
        expect(replies.filter((reply) => reply.status !== 200 || reply.gists !== 2)).toEqual([]);
        // Well under the lease (11 s): nobody waited for a holder that does not exist.
        expect(elapsedMs).toBeLessThan(2_000);
        expect(fleet.fake.requestCount(login)).toBeLessThanOrEqual(2);
        // The entry is the service's again (SET replaces any type): a replica that holds nothing reads it.
        expect(fleet.redis.cli("TYPE", fleet.redis.keysOf(`${login.toLowerCase()}:1:30`).entry).trim()).toBe("string");
      }
      console.log(`[${target}] four concurrent misses of a page, by what was at its keys: ${timings.join("; ")}`);
      // A reply error is Redis answering: the tier stayed up, and nothing said otherwise.
      expect((await fleet.stats()).map((stats) => stats.shared.state)).toEqual(["up", "up"]);
      expect(fleet.replicas.map((replica) => linesSaying(replica, unavailable))).toEqual([0, 0]);
    }, 60_000);
  });

  describe(`a full Redis under maxmemory-policy noeviction [${target}]`, () => {
    const maxmemoryBytes = 4 * 1024 * 1024;
    const fleet = useFleet(
      [target, target],
      { CACHE_TTL: "300", REDIS_TIMEOUT_MS: "1000" },
      // Any login starting with `full-` exists: a stream of cold pages with no setup.
      { autoUsers: { prefix: "full-", gists: 1 }, rateLimit: { limit: 1_000_000, remaining: 1_000_000 } },
      { args: ["--maxmemory", String(maxmemoryBytes), "--maxmemory-policy", "noeviction"] },
    );
    const policyWarning = "shared cache: Redis has maxmemory-policy noeviction";
    const fullLine = "shared cache full";
    const writesAgain = "shared cache takes writes again";

    test("answers every cold page 200, says so once each way, fetches each page once per replica, and shares again once there is room", async () => {
      await Promise.all(fleet.replicas.map((replica) => replica.waitForLog((line) => String(line.msg).startsWith(policyWarning), 5_000)));
      // A single value past the limit: Redis takes a write while under it, then refuses every other one.
      // And a page whose entry no replica can read: its removal, which a full Redis allows, is no sign of room.
      const unreadable = freshLogin("full");
      fleet.redis.cli("SET", fleet.redis.keysOf(`${unreadable}:1:30`).entry, "not an entry");
      fleet.redis.cli("SETRANGE", "filler", String(maxmemoryBytes + 1024 * 1024), "x");

      // Cold pages for five seconds: a new login every 100 ms, each asked for by several clients on both replicas.
      const statuses: Record<string, number> = {};
      const logins: string[] = [];
      const loadStarted = Date.now();
      let fullSeen = false;
      const workers = Array.from({ length: 8 }, async (_, worker) => {
        while (Date.now() - loadStarted < 5_000) {
          const index = Math.floor((Date.now() - loadStarted) / 100);
          const login = (logins[index] ??= freshLogin("full"));
          const reply = await getGists(fleet, login, worker % 2).catch((error: Error) => ({ status: error.message, xCache: null, gists: -1 }));
          statuses[String(reply.status)] = (statuses[String(reply.status)] ?? 0) + 1;
          // Steady, not flat out: the machine is shared with other test files.
          await Bun.sleep(5);
        }
      });
      const watch = (async () => {
        while (Date.now() - loadStarted < 4_500) {
          if ((await fleet.stats()).every((stats) => stats.shared.full === true)) fullSeen = true;
          await Bun.sleep(200);
        }
      })();
      await Promise.all([...workers, watch]);
      const dropped = (await fleet.stats())[0]!.shared.dropped;
      expect((await getGists(fleet, unreadable, 0)).status).toBe(200);
      for (const replica of [0, 1]) expect((await getGists(fleet, freshLogin("full"), replica)).status).toBe(200);
      await Bun.sleep(200);
      expect((await fleet.stats())[0]!.shared.dropped).toBe(dropped + 1);
      const asked = logins.filter(Boolean);
      const calls = asked.map((login) => fleet.fake.requestCount(login));
      const stats = await fleet.stats();

      const fullLines = fleet.replicas.map((replica) => linesSaying(replica, fullLine));
      const againLines = fleet.replicas.map((replica) => linesSaying(replica, writesAgain));
      console.log(
        `[${target}] 5 s of cold pages on a full Redis: answers ${JSON.stringify(statuses)}, ${asked.length} pages, ` +
          `${calls.reduce((a, b) => a + b, 0)} GitHub calls (most for one page: ${Math.max(...calls)}); "full" lines ${JSON.stringify(fullLines)}, ` +
          `"takes writes again" lines ${JSON.stringify(againLines)}`,
      );
      expect(Object.keys(statuses)).toEqual(["200"]);
      expect(fullSeen).toBe(true);
      expect(stats.map((replica) => [replica.shared.state, replica.shared.full])).toEqual([
        ["up", true],
        ["up", true],
      ]);
      expect(fullLines).toEqual([1, 1]);
      expect(againLines).toEqual([0, 0]);
      // Nothing is shared, and leases cannot be taken, but each replica still loads a page once for all its clients.
      expect(calls.filter((count) => count > 2)).toEqual([]);

      // Room again: the next write goes through and says so, once, and pages are shared again.
      fleet.redis.cli("DEL", "filler");
      for (const replica of [0, 1]) {
        await until(
          async () => (await getGists(fleet, freshLogin("full"), replica)).status === 200 && (await fleet.stats())[replica]!.shared.full === false,
          5_000,
          "writes again",
        );
      }
      const shared = freshLogin("full");
      expect((await getGists(fleet, shared, 0)).xCache).toBe("MISS");
      expect((await getGists(fleet, shared, 1)).xCache).toBe("HIT");
      // The line may still be on its way through the pipe when the stats say so.
      await Promise.all(fleet.replicas.map((replica) => replica.waitForLog((line) => String(line.msg).startsWith(writesAgain))));
      await Bun.sleep(200);
      const afterLines = fleet.replicas.map((replica) => [
        linesSaying(replica, fullLine),
        linesSaying(replica, writesAgain),
        linesSaying(replica, policyWarning),
      ]);
      console.log(`[${target}] after freeing memory: ["full", "takes writes again", policy warning] lines per replica ${JSON.stringify(afterLines)}`);
      expect(afterLines).toEqual([
        [1, 1, 1],
        [1, 1, 1],
      ]);
      expect(fleet.replicas.map((replica) => linesSaying(replica, unavailable))).toEqual([0, 0]);
    }, 60_000);
  });
}
