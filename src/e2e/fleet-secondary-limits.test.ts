import { describe, expect, test } from "bun:test";
import { targetsFromEnv } from "../testing/service.ts";
import { useFleet, type Fleet } from "./fleet-stack.ts";
import { freshLogin, until } from "./stack.ts";

// Pages expire at once but stay servable as STALE; a long Redis deadline keeps a busy machine's stalls from
// turning a Redis answer into a fallback (which would fetch instead of sharing).
const env = { CACHE_TTL: "600ms", CACHE_STALE_TTL: "120", BREAKER_THRESHOLD: "1000", REDIS_TIMEOUT_MS: "2000", LOG_LEVEL: "info" };

/** A GET on one replica: its status, Retry-After and X-Cache. */
async function ask(fleet: Fleet, path: string, replica: number) {
  const res = await fleet.request(path, { replica });
  await res.arrayBuffer();
  return { status: res.status, retryAfter: Number(res.headers.get("retry-after")), xCache: res.headers.get("x-cache") };
}

/** A user the fake knows and no replica has cached. */
function coldUser(fleet: Fleet, prefix: string): string {
  const login = freshLogin(prefix);
  fleet.fake.setUser(login, 2);
  return login;
}

/** A budget as a replica publishes it on the fleet's channel. */
function publishBudget(fleet: Fleet, budget: Record<string, unknown>): void {
  fleet.redis.cli("PUBLISH", "gists-api:events", JSON.stringify({ type: "budget", from: "test", ...budget }));
}

/** Every answer the replicas logged so far (access-log lines are written in batches) was below 500. */
async function expectNo5xx(fleet: Fleet): Promise<void> {
  await Bun.sleep(100);
  const statuses = fleet.replicas.flatMap((replica) =>
    replica
      .logs()
      .filter((line) => line.msg === "request")
      .map((line) => Number(line.status)),
  );
  expect(statuses.length).toBeGreaterThan(4);
  expect(statuses.filter((status) => !(status < 500))).toEqual([]);
}

for (const target of targetsFromEnv()) {
  describe(`a secondary limit shared by two replicas on one Redis [${target}]`, () => {
    const fleet = useFleet([target, target], env);

    test("one replica's secondary limit pauses both for the same minute; each answers its stale copy, logs the episode once, never a 5xx", async () => {
      const held = coldUser(fleet, "held");
      expect([(await ask(fleet, `/${held}`, 0)).status, (await ask(fleet, `/${held}`, 1)).status]).toEqual([200, 200]);
      await Bun.sleep(700);

      fleet.fake.setSecondaryLimit({ status: 403, times: 1 });
      const limited = await ask(fleet, `/${coldUser(fleet, "limited")}`, 0);
      expect([limited.status, limited.retryAfter]).toEqual([429, 60]);
      await until(() => JSON.parse(fleet.redis.cli("GET", "gists-api:budget") || "{}").secondaryStreak === 1, 5_000, "the shared budget");
      const kept = JSON.parse(fleet.redis.cli("GET", "gists-api:budget"));
      expect(kept).toMatchObject({ pauseKind: "secondary", secondaryStreak: 1 });
      expect(kept.pausedUntilMs - Date.now()).toBeWithin(55_000, 60_001);
      // Kept at least for the pause and the streak's quiet period (15 minutes), and to the window's reset: an hour at most.
      expect(Number(fleet.redis.cli("PTTL", "gists-api:budget").trim())).toBeWithin(900_000, 3_600_001);

      // Replica 1 heard it (its budget tells the episode as it merges it), and sends nothing either.
      await fleet.replicas[1]!.waitForLog((line) => line.msg === "github rate limit exhausted", 5_000);
      const sent = fleet.fake.requestCount();
      const other = await ask(fleet, `/${coldUser(fleet, "other")}`, 1);
      expect(other.status).toBe(429);
      expect(other.retryAfter).toBeWithin(55, 61);
      for (const replica of [0, 1]) expect(await ask(fleet, `/${held}`, replica)).toMatchObject({ status: 200, xCache: "STALE" });
      await Bun.sleep(200);
      expect(fleet.fake.requestCount()).toBe(sent);

      for (const replica of fleet.replicas) {
        await replica.waitForLog((line) => line.msg === "github rate limit exhausted", 2_000);
        const episodes = replica.logs().filter((line) => line.msg === "github rate limit exhausted");
        expect(episodes.map((line) => line.kind)).toEqual(["secondary"]);
      }
      await expectNo5xx(fleet);
    });
  });

  describe(`a budget from Redis or a message is bounded and ends by itself [${target}]`, () => {
    const fleet = useFleet([target, target], env);

    test("a pause with absurd companions ends on time on every replica; an absurd pause is an hour at most", async () => {
      // A short pause, with a reset years ahead, a spent count and a streak no replica could reach.
      publishBudget(fleet, { pausedUntilMs: Date.now() + 2_000, remaining: 0, resetAt: 1e12, secondaryStreak: 1e9 });
      await until(async () => (await ask(fleet, `/${coldUser(fleet, "short")}`, 0)).status === 429, 5_000, "the published pause");
      for (const replica of [0, 1]) {
        const paused = await ask(fleet, `/${coldUser(fleet, "paused")}`, replica);
        expect(paused.status).toBe(429);
        expect(paused.retryAfter).toBeWithin(1, 3);
      }
      for (const replica of [0, 1]) {
        await until(async () => (await ask(fleet, `/${coldUser(fleet, "back")}`, replica)).status === 200, 5_000, `replica ${replica} to resume`);
      }

      publishBudget(fleet, { pausedUntilMs: 1e308, pauseKind: "secondary" });
      await until(async () => (await ask(fleet, `/${coldUser(fleet, "absurd")}`, 1)).status === 429, 5_000, "the absurd pause");
      for (const replica of [0, 1]) {
        const paused = await ask(fleet, `/${coldUser(fleet, "absurd")}`, replica);
        expect([paused.status, paused.retryAfter]).toEqual([429, 3600]);
      }
      await expectNo5xx(fleet);
    });
  });
}
