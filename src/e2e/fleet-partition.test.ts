import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { catalog } from "../metrics/catalog.ts";
import { startFakeGithub, type FakeGithub } from "../testing/fake-github.ts";
import { createNamespace, namespaceSupport, type TestNamespace } from "../testing/netns.ts";
import { parsePrometheusText, sampleSum } from "../testing/prometheus-text.ts";
import { startRedis, type TestRedis } from "../testing/redis.ts";
import { startService, targetsFromEnv, type RunningService } from "../testing/service.ts";
import { freshLogin, until } from "./stack.ts";

// A replica cut off from Redis by dropped packets, as a real partition does (nothing refuses the connection; it
// hangs), while another replica clears the fleet's cache. The replica runs in a network namespace of its own, its
// Redis traffic dropped both ways inside it; Redis, the fake GitHub and the other replica stay in the root one.

const redisTimeoutMs = 500;
// What the design promises (src/fleet/redis-link.ts, connect.ts): a heartbeat each second, and two without an answer
// in a row mark the tier down; the second is sent at most 2 s after the cut and given up REDIS_TIMEOUT_MS later.
const detectionBoundMs = 2 * 1_000 + redisTimeoutMs;
// After the path heals: a connection attempt under way gives up after its connect timeout, max(1000, 4 x
// REDIS_TIMEOUT_MS); the next one starts within the retry delay (1 s at most); its first heartbeat reads the new
// epoch within REDIS_TIMEOUT_MS and the local cache goes with the old one. (The cut outlasts the 2 s ioredis gives
// an abandoned connection to close, which a heal within two seconds of the detection would add.)
const healBoundMs = Math.max(1_000, 4 * redisTimeoutMs) + 1_000 + redisTimeoutMs;
// What a busy 2-core machine may add to either (timers late, a process descheduled), never a design's worth.
const slackMs = 1_500;

const support = namespaceSupport();
if (!support.ok) {
  console.warn(`fleet partition tests skipped: ${support.reason}`);
  // CI runs as root: there a machine that refuses namespaces fails this file instead of passing it unseen.
  if (process.env.CI === "true") {
    test("network namespaces, which CI must allow", () => {
      throw new Error(support.reason);
    });
  } else test.skip(`a partition needs network namespaces: ${support.reason}`, () => {});
}

interface Reply {
  status: number;
  xCache: string | null;
  gists: number;
}

async function getGists(base: string, login: string): Promise<Reply> {
  const res = await fetch(`${base}/${login}`);
  const text = await res.text();
  const gists = res.status === 200 ? (JSON.parse(text).data as unknown[]).length : -1;
  return { status: res.status, xCache: res.headers.get("x-cache"), gists };
}

const sharedStats = async (replica: RunningService) => ((await (await fetch(`${replica.url}/cache/stats`)).json()) as { shared: Record<string, any> }).shared;

const sharedStateMetric = async (replica: RunningService) =>
  sampleSum(parsePrometheusText(await (await fetch(`${replica.url}/metrics`)).text()), catalog.sharedCacheState.name);

const linesSaying = (replica: RunningService, msg: string) => replica.logs().filter((line) => line.msg === msg).length;

for (const target of targetsFromEnv()) {
  describe.if(support.ok)(`a replica partitioned from Redis by dropped packets [${target}]`, () => {
    let namespace: TestNamespace | undefined;
    let fake: FakeGithub;
    let redis: TestRedis;
    let cutOff: RunningService;
    let other: RunningService;

    beforeAll(async () => {
      namespace = createNamespace();
      fake = await startFakeGithub({ host: namespace.hostAddress });
      redis = await startRedis({ address: namespace.hostAddress });
      const env = { GITHUB_API_URL: fake.url, REDIS_URL: redis.url, CACHE_TTL: "300", REDIS_TIMEOUT_MS: String(redisTimeoutMs) };
      [cutOff, other] = await Promise.all([
        startService({ target, wrapper: namespace.exec, env: { ...env, HOST: namespace.innerAddress } }),
        startService({ target, env }),
      ]);
      await until(async () => (await sharedStats(cutOff)).state === "up" && (await sharedStats(other)).state === "up", 10_000, "both replicas on Redis");
    }, 60_000);

    afterAll(async () => {
      await Promise.all([cutOff?.stop(), other?.stop()]);
      await redis?.stop();
      await fake?.close();
      namespace?.remove();
    });

    test("notices within seconds, keeps answering, and after the heal serves nothing from before a clear it missed", async () => {
      const cached = [freshLogin("held"), freshLogin("held")];
      for (const login of cached) fake.setUser(login, 2);
      for (const login of cached) expect(await getGists(cutOff.url, login)).toEqual({ status: 200, xCache: "MISS", gists: 2 });
      expect(await getGists(other.url, cached[0]!)).toEqual({ status: 200, xCache: "HIT", gists: 2 });

      // Traffic on the cut-off replica all along: its cached pages, which never ask Redis (so the heartbeat alone
      // must find the cut), and once it has, users it has never seen.
      const answers: Record<string, number> = {};
      let running = true;
      let noticed = false;
      // It ends with the test's timeout at the latest: a failure must not leave it asking a stopped replica forever.
      const trafficUntil = Date.now() + 60_000;
      const traffic = (async () => {
        for (let n = 0; running && Date.now() < trafficUntil; n++) {
          const cold = noticed && n % 3 === 0;
          const login = cold ? freshLogin("cold") : cached[n % 2]!;
          if (cold) fake.setUser(login, 1);
          const reply = await getGists(cutOff.url, login).catch((error: Error) => ({ status: error.message, xCache: null, gists: -1 }));
          answers[String(reply.status)] = (answers[String(reply.status)] ?? 0) + 1;
          await Bun.sleep(50);
        }
      })();

      const cutAt = Date.now();
      namespace!.cut(redis.port);
      await until(async () => (await sharedStats(cutOff)).state === "down", 15_000, "the cut-off replica to notice");
      const detectionMs = Date.now() - cutAt;
      noticed = true;
      expect(await sharedStateMetric(cutOff)).toBe(2);

      // The other replica clears the fleet's cache, and GitHub's data changes: an answer from before is recognisable.
      const cleared = await (await fetch(`${other.url}/cache`, { method: "DELETE" })).json();
      expect(cleared).toEqual({ message: "Cache cleared successfully", shared: "cleared" });
      for (const login of cached) fake.setUser(login, 5);
      // Cut off, it cannot know: its own copies still answer. Reconnection attempts go on meanwhile, each hanging
      // until its connect timeout: a cut of varying length lets the heal land anywhere in that cycle.
      const cutForMs = 3_000 + Math.floor(Math.random() * 2_000);
      await Bun.sleep(cutForMs);
      for (const login of cached) expect(await getGists(cutOff.url, login)).toEqual({ status: 200, xCache: "HIT", gists: 2 });
      expect((await sharedStats(cutOff)).state).toBe("down");

      const healedAt = Date.now();
      namespace!.heal(redis.port);
      const before: Reply[] = [];
      let first: Reply | undefined;
      while (!first) {
        const reply = await getGists(cutOff.url, cached[0]!);
        if (reply.gists === 5) first = reply;
        else before.push(reply);
        if (Date.now() - healedAt > 15_000) throw new Error(`still pre-clear data 15 s after the heal: ${JSON.stringify(before.slice(-3))}`);
        if (!first) await Bun.sleep(25);
      }
      const postClearMs = Date.now() - healedAt;
      await until(async () => (await sharedStats(cutOff)).state === "up", 5_000, "the tier back up");
      const upMs = Date.now() - healedAt;
      // Nothing from before the clear after that, on either page.
      const after: Reply[] = [];
      for (let round = 0; round < 5; round++) for (const login of cached) after.push(await getGists(cutOff.url, login));
      running = false;
      await traffic;

      console.log(
        `[${target}] partition noticed ${detectionMs} ms after the cut (bound ${detectionBoundMs} + ${slackMs} ms); healed ${cutForMs} ms after the clear; ` +
          `post-clear data ${postClearMs} ms after the heal (bound ${healBoundMs} + ${slackMs} ms), tier up after ${upMs} ms; ` +
          `${before.length} pre-clear answers meanwhile; answers during the test: ${JSON.stringify(answers)}`,
      );
      expect(detectionMs).toBeLessThan(detectionBoundMs + slackMs);
      expect(postClearMs).toBeLessThan(healBoundMs + slackMs);
      // Before the heal took effect, only its own (pre-clear) copy; then a fresh fetch from GitHub.
      expect(before.filter((reply) => reply.status !== 200 || reply.xCache !== "HIT" || reply.gists !== 2)).toEqual([]);
      expect([first.status, first.xCache]).toEqual([200, "MISS"]);
      expect(after.filter((reply) => reply.status !== 200 || reply.gists !== 5)).toEqual([]);
      expect(Object.keys(answers)).toEqual(["200"]);
      expect(await sharedStateMetric(cutOff)).toBe(1);
      // One line when it went (found by the heartbeat: its cached pages never asked Redis), one when it came back
      // (after the one at start); the other replica never lost Redis.
      await until(() => linesSaying(cutOff, "shared cache connected") >= 2, 2_000, "the reconnection's log line");
      const downs = cutOff.logs().filter((line) => line.msg === "shared cache unavailable; answering from the local cache");
      expect(downs.map((line) => line.reason)).toEqual(["no answer to the heartbeat"]);
      expect(linesSaying(cutOff, "shared cache connected")).toBe(2);
      expect(linesSaying(other, "shared cache unavailable; answering from the local cache")).toBe(0);
    }, 60_000);
  });
}
