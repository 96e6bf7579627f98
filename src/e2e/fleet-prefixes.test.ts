import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeGithub, type FakeGithub } from "../testing/fake-github.ts";
import { startRedis, type TestRedis } from "../testing/redis.ts";
import { startService, targetsFromEnv, type RunningService, type Target } from "../testing/service.ts";
import { freshLogin } from "./stack.ts";

// Two deployments on one Redis, the staging one's REDIS_KEY_PREFIX starting with production's: SCAN MATCH
// `gists-api:*` would take staging's keys too. A clear deletes exactly its own epoch's keys, whichever clears.

const deployments = { production: "gists-api:", staging: "gists-api:staging:" } as const;
type Deployment = keyof typeof deployments;

/** The keys of one deployment: under its prefix and not under a longer one that starts the same way. */
function keysOf(redis: TestRedis, deployment: Deployment): string[] {
  const prefix = deployments[deployment];
  const longer = Object.values(deployments).filter((other) => other.length > prefix.length && other.startsWith(prefix));
  return redis
    .cli("KEYS", `${prefix}*`)
    .split("\n")
    .filter((key) => key && !longer.some((other) => key.startsWith(other)))
    .sort();
}

for (const target of targetsFromEnv()) {
  describe(`two deployments on one Redis, one prefix nested in the other [${target}]`, () => {
    let fake: FakeGithub;
    let redis: TestRedis;
    const replicas: Partial<Record<Deployment, RunningService>> = {};
    const logins = Array.from({ length: 4 }, () => freshLogin("tenant"));

    const start = (deployment: Deployment, whose: Target) =>
      startService({ target: whose, env: { GITHUB_API_URL: fake.url, REDIS_URL: redis.url, CACHE_TTL: "300", REDIS_KEY_PREFIX: deployments[deployment] } });
    const get = async (replica: RunningService, login: string) => (await fetch(`${replica.url}/${login}`)).headers.get("x-cache");

    beforeAll(async () => {
      fake = await startFakeGithub();
      for (const login of logins) fake.setUser(login, 2);
      redis = await startRedis();
      [replicas.production, replicas.staging] = await Promise.all([start("production", target), start("staging", target)]);
    }, 60_000);

    afterAll(async () => {
      await Promise.all(Object.values(replicas).map((replica) => replica?.stop()));
      await redis?.stop();
      await fake?.close();
    });

    for (const [clearing, keeping] of [
      ["production", "staging"],
      ["staging", "production"],
    ] as const) {
      test(`DELETE /cache on ${clearing} leaves every key of ${keeping}, whose fresh replica still serves its pages from the shared tier`, async () => {
        // The same users in both: the same page names under both prefixes.
        for (const login of logins) for (const deployment of [clearing, keeping]) await get(replicas[deployment]!, login);
        const kept = keysOf(redis, keeping);
        const ours = keysOf(redis, clearing);
        for (const keys of [kept, ours]) {
          expect(keys.filter((key) => /:v2:/.test(key)).length).toBe(logins.length);
          expect(keys.filter((key) => /:(epoch|budget)$/.test(key)).length).toBe(2);
        }

        const cleared = await (await fetch(`${replicas[clearing]!.url}/cache`, { method: "DELETE" })).json();
        expect(cleared).toEqual({ message: "Cache cleared successfully", shared: "cleared" });
        expect(keysOf(redis, keeping)).toEqual(kept);
        // The clearing deployment kept its (new) epoch and GitHub's budget, and nothing of its old epoch.
        const left = keysOf(redis, clearing);
        expect(left.map((key) => key.slice(deployments[clearing].length))).toEqual(["budget", "epoch"]);

        // A replica of the kept deployment that holds nothing yet finds every page in the shared tier.
        const calls = fake.requestCount();
        const fresh = await start(keeping, target);
        try {
          const verdicts = await Promise.all(logins.map((login) => get(fresh, login)));
          expect(verdicts).toEqual(logins.map(() => "HIT"));
        } finally {
          await fresh.stop();
        }
        expect(fake.requestCount()).toBe(calls);
      }, 60_000);
    }
  });
}
