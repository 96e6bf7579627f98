import { afterAll, beforeAll, expect, test } from "bun:test";
import { startFakeGithub, type FakeGithub } from "../testing/fake-github.ts";
import { startService, type LogLine, type RunningService, type Target } from "../testing/service.ts";
import { describeTargets, freshLogin, timedTestMs } from "./stack.ts";

const requests = 400;
const concurrency = 16;

/** Sends `requests` GETs for users never asked for before, `concurrency` at a time; returns the statuses seen. */
async function loadColdUsers(service: RunningService): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < requests) {
      next++;
      const res = await fetch(`${service.url}/${freshLogin("outage")}`);
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

/** The warn lines of a stopped service, grouped by message. */
function warnings(service: RunningService): Record<string, LogLine[]> {
  const byMessage: Record<string, LogLine[]> = {};
  for (const line of service.logs().filter((l) => l.level === "warn")) (byMessage[String(line.msg)] ??= []).push(line);
  return byMessage;
}

/** The refusals the summary lines add up to, per reason. */
function refusedTotals(lines: LogLine[] = []): Record<string, number> {
  const totals = { rate_limited: 0, breaker_open: 0, queue_timeout: 0 };
  for (const line of lines) for (const reason of Object.keys(totals) as (keyof typeof totals)[]) totals[reason] += Number(line[reason]);
  return totals;
}

describeTargets("the warnings of a GitHub outage under load", (target: Target) => {
  let fake: FakeGithub;
  beforeAll(async () => {
    fake = await startFakeGithub();
  });
  afterAll(() => fake.close());

  // No retries and a cooldown longer than the test: every fetch that reached GitHub is exactly one request.
  // LOG_LEVEL=info (the start is known by its "listening" line); only the warn lines are counted.
  const start = () =>
    startService({
      target,
      env: { GITHUB_API_URL: fake.url, LOG_LEVEL: "info", UPSTREAM_RETRIES: "0", BREAKER_THRESHOLD: "3", BREAKER_COOLDOWN_MS: "600000" },
    });

  // One service through the load of cold users: what it answered, what reached GitHub, what it warned.
  const outage = async () => {
    const service = await start();
    let statuses: Record<number, number>;
    try {
      statuses = await loadColdUsers(service);
    } finally {
      await service.stop();
    }
    return { statuses, sent: fake.requestCount(), logged: warnings(service) };
  };

  test(
    "every failure at GitHub is logged once, the breaker opening once, and refused requests only as summaries",
    async () => {
      fake.reset();
      fake.setFault("*", { kind: "status", status: 500 });
      const { statuses, sent, logged } = await outage();
      expect(statuses).toEqual({ 502: requests });
      expect(Object.keys(logged).sort()).toEqual(["circuit breaker", "github request failed", "github requests refused"]);
      expect(logged["github request failed"]!.length).toBe(sent);
      expect(logged["circuit breaker"]!.map((l) => l.state)).toEqual(["open"]);
      expect(refusedTotals(logged["github requests refused"])).toEqual({ rate_limited: 0, breaker_open: requests - sent, queue_timeout: 0 });
      // Bounded by GitHub's failures and the clock, not by the traffic: a fraction of the requests at most.
      const summaries = logged["github requests refused"]!.length;
      expect(sent + 1 + summaries).toBeLessThan(requests / 4);
    },
    timedTestMs,
  );

  test(
    "an exhausted rate limit is logged once, and the requests it refuses only as summaries",
    async () => {
      fake.reset();
      // A reset far away, so the whole load meets the exhausted window however slow the machine is.
      fake.setRateLimit({ remaining: 0, resetAt: Math.ceil(Date.now() / 1000) + 3600, exceededStatus: 403 });
      const { statuses, sent, logged } = await outage();
      expect(statuses).toEqual({ 429: requests });
      expect(Object.keys(logged).sort()).toEqual(["github rate limit exhausted", "github request failed", "github requests refused"]);
      expect(logged["github rate limit exhausted"]!.length).toBe(1);
      // The requests GitHub itself refused are real failures; every other one was refused here.
      expect(logged["github request failed"]!.length).toBe(sent);
      expect(refusedTotals(logged["github requests refused"])).toEqual({ rate_limited: requests - sent, breaker_open: 0, queue_timeout: 0 });
    },
    timedTestMs,
  );
});
