import { afterAll, beforeAll } from "bun:test";
import { startFakeGithub, type FakeGithub, type FakeGithubOptions } from "../testing/fake-github.ts";
import { startRedis, type TestRedis, type TestRedisOptions } from "../testing/redis.ts";
import { startService, type RunningService, type Target } from "../testing/service.ts";

/** A fake GitHub, a real Redis and several replicas of the service sharing it, as a balancer would see them. */
export interface Fleet {
  readonly fake: FakeGithub;
  readonly redis: TestRedis;
  readonly replicas: RunningService[];
  /** Fetches a path from the next replica in turn (round robin), or from replica `index`. */
  request(path: string, init?: RequestInit & { replica?: number }): Promise<Response>;
  /** `/cache/stats` of every replica, in order. */
  stats(): Promise<Array<Record<string, any>>>;
}

/** Starts the fleet before the block's tests and stops it after them; `targets` gives each replica's runtime. */
export function useFleet(targets: Target[], env: Record<string, string> = {}, fakeOptions: FakeGithubOptions = {}, redisOptions: TestRedisOptions = {}): Fleet {
  let fake: FakeGithub | undefined;
  let redis: TestRedis | undefined;
  const replicas: RunningService[] = [];
  let turn = 0;
  beforeAll(async () => {
    fake = await startFakeGithub(fakeOptions);
    redis = await startRedis(redisOptions);
    const started = await Promise.all(
      targets.map((target) => startService({ target, env: { GITHUB_API_URL: fake!.url, CACHE_TTL: "300", REDIS_URL: redis!.url, ...env } })),
    );
    replicas.push(...started);
  });
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await redis?.stop();
    await fake?.close();
  });
  const fleet: Fleet = {
    get fake() {
      return fake!;
    },
    get redis() {
      return redis!;
    },
    replicas,
    request(path, init = {}) {
      const index = init.replica ?? turn++ % replicas.length;
      return fetch(`${replicas[index]!.url}${path}`, init);
    },
    async stats() {
      return Promise.all(replicas.map(async (replica) => (await fetch(`${replica.url}/cache/stats`)).json() as Promise<Record<string, any>>));
    },
  };
  return fleet;
}
