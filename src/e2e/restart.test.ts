import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runLoad, type LoadResult } from "../loadtest/engine.ts";
import { socketTransport } from "../loadtest/socket.bun.ts";
import { fetchTransport, type Transport } from "../loadtest/transport.ts";
import { failoverTransport } from "../testing/failover-transport.ts";
import { startFakeGithub, type FakeGithub } from "../testing/fake-github.ts";
import { startService, type RunningService } from "../testing/service.ts";

// A rolling restart as a client sees it: two instances under steady load from the project's load generator,
// through a client that alternates between them and, as the mesh's balancer does, sends a request to the other
// one only when it never reached the first (connection refused, or a new connection closed before a byte of the
// answer). SIGTERM one mid-run: readiness turns 503, what it accepted it answers, it exits 0, and not one
// request fails. The client ignores readiness, so it keeps opening connections until the port closes: the
// connections that arrive in that instant are closed unread by any server (the kernel resets its accept queue),
// at most one per client connection.

const loadMs = 5_000;
const sigtermAfterMs = 2_000;
const rate = Number(process.env.RESTART_RATE ?? 400);
const connections = 8;

interface RestartRun {
  result: LoadResult;
  /** The slow request that held the drain open, when there was one. */
  slow?: number | string;
  sent: Record<string, number>;
  refusedRetries: number;
  closedRetries: number;
  exitCode: number | "still running";
  readiness: Array<number | string>;
  drainMs: number;
}

/**
 * Runs steady load over `instances` and SIGTERMs the first one `sigtermAfterMs` in. With `fake`, a request that
 * GitHub holds for 2 s is in flight on it at the signal, so the drain lasts (and readiness can be seen) while
 * the load keeps arriving; without, the instance is idle between requests and closes at once.
 */
async function rollOne(instances: RunningService[], base: Transport, fake?: FakeGithub): Promise<RestartRun> {
  const origins = instances.map((i) => new URL(i.url));
  const { transport, counts } = failoverTransport(base, origins);
  const [victim] = instances;
  const readiness: Array<number | string> = [];
  let signalledAt = 0;
  let slow: Promise<number | string> | undefined;
  const restart = (async () => {
    await Bun.sleep(sigtermAfterMs);
    if (fake) {
      fake.setFault("user-slow", { kind: "latency", ms: 2_000, times: 1 });
      slow = fetch(`${victim!.url}/user-slow`).then(
        (r) => r.status,
        (e: Error) => e.message,
      );
      const waitUntil = Date.now() + 2_000;
      while (fake.requestCount("user-slow") === 0 && Date.now() < waitUntil) await Bun.sleep(10);
    }
    signalledAt = Date.now();
    victim!.signal("SIGTERM");
    // Watch readiness while it drains, until the listener is gone (bounded by the 10 s shutdown promise).
    while (Date.now() - signalledAt < 10_000 && victim!.exitCode === undefined) {
      // A fresh connection each time, so a pooled one closing under the poller is not mistaken for the service's answer.
      const seen = await fetch(`${victim!.url}/readyz`, { keepalive: false }).then(
        (r) => r.status,
        (e: Error) => (/refused/i.test(e.message) ? "refused" : e.message),
      );
      if (readiness.at(-1) !== seen) readiness.push(seen);
      if (seen === "refused") break;
      await Bun.sleep(20);
    }
    const exitCode = await Promise.race([victim!.exited, Bun.sleep(10_000).then(() => "still running" as const)]);
    return { exitCode, drainMs: Date.now() - signalledAt };
  })();
  const result = await runLoad(
    { url: new URL(`${origins[0]!.origin}/{user}`), connections, durationMs: loadMs, rate, users: 200, zipf: 1, warmupMs: 0, drainMs: 5_000 },
    transport,
  );
  const { exitCode, drainMs } = await restart;
  return {
    result,
    slow: await slow,
    sent: counts.sent,
    refusedRetries: counts.refusedRetries,
    closedRetries: counts.closedRetries,
    exitCode,
    readiness,
    drainMs,
  };
}

describe("rolling restart [binary]", () => {
  let fake: FakeGithub;
  const started: RunningService[] = [];
  const start = async () => {
    const service = await startService({ target: "binary", env: { GITHUB_API_URL: fake.url } });
    started.push(service);
    return service;
  };

  beforeAll(async () => {
    fake = await startFakeGithub({ autoUsers: { prefix: "user-", gists: 3 }, rateLimit: { limit: 10_000_000 } });
  });
  afterAll(async () => {
    await Promise.all(started.map((service) => service.stop()));
    await fake.close();
  });

  const variants = [
    { name: "raw keep-alive sockets, a slow request in flight", base: socketTransport, holdDrain: true },
    { name: "fetch with pooled keep-alive, a slow request in flight", base: fetchTransport, holdDrain: true },
    { name: "raw keep-alive sockets, idle between requests", base: socketTransport, holdDrain: false },
  ];
  for (const { name, base, holdDrain } of variants) {
    test(`SIGTERM one of two instances under ${rate} req/s (${name}): no failed request, exit 0`, async () => {
      const instances = [await start(), await start()];
      const run = await rollOne(instances, base, holdDrain ? fake : undefined);
      console.log(
        `restart (${name}): ${run.result.requests} requests, ${JSON.stringify(run.result.status)}, sent ${JSON.stringify(run.sent)}, ` +
          `${run.refusedRetries} retried after a refusal, ${run.closedRetries} after a close on arrival, readiness ${JSON.stringify(run.readiness)}, exit ${run.exitCode} after ${run.drainMs} ms, ` +
          `slow request ${run.slow ?? "none"}, p99 ${run.result.latency_ms.p99} ms`,
      );
      expect({ errors: run.result.errors, status: Object.keys(run.result.status), exitCode: run.exitCode }).toEqual({
        errors: 0,
        status: ["200"],
        exitCode: 0,
      });
      // The load really was spread over both, and really met the stopped instance's closed port.
      expect(run.result.requests).toBeGreaterThan((rate * loadMs) / 1000 - rate);
      expect(run.refusedRetries).toBeGreaterThan(0);
      // Closes on arrival happen only as the listener closes: a drain that cut connections would make more.
      expect(run.closedRetries).toBeLessThanOrEqual(connections);
      if (holdDrain) {
        // Readiness said 503 while the slow request finished, then the port closed; the slow request got its answer.
        const fromSignal = run.readiness.slice(run.readiness.indexOf(503));
        expect({ readinessAfterSignal: fromSignal.filter((r) => r !== "refused"), slow: run.slow }).toEqual({ readinessAfterSignal: [503], slow: 200 });
        expect(run.drainMs).toBeGreaterThanOrEqual(1_000);
      }
      expect(instances[1]!.exitCode).toBeUndefined();
      expect((await fetch(`${instances[1]!.url}/healthz`)).status).toBe(200);
    }, 20_000);
  }
});
