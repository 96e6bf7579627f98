import { expect, test } from "bun:test";
import type { Fault } from "../testing/fake-github.ts";
import { describeTargets, freshLogin, getGists, timedTestMs, useStack, type GistsReply, type Stack } from "./stack.ts";

// Upstream chaos: for each way GitHub can misbehave, the service answers within its deadline with the documented
// status, a held copy stands in for the failure (X-Cache STALE), nothing bad is cached, and it recovers as soon as
// GitHub does. CACHE_STALE_TTL=0 makes every expired page go upstream in the foreground, so the stale answers
// here are stale-if-error (the copy that stands in after the failure), not stale-while-revalidate.

const deadlineMs = 800;
// Room for process and loop scheduling on a busy 2-core machine; far less than any fault below lasts.
const marginMs = 700;
const env = {
  UPSTREAM_TIMEOUT_MS: String(deadlineMs),
  UPSTREAM_RETRIES: "2",
  CACHE_TTL: "1",
  CACHE_STALE_TTL: "0",
  // Each fault is counted by the breaker; keep it closed so one fault's failures do not answer for another.
  BREAKER_THRESHOLD: "1000",
};

interface ChaosCase {
  name: string;
  fault: Fault;
  /** What a user without a cached copy gets. */
  cold: number;
  /** X-Cache of a user whose expired copy is held: STALE when the failure needs a stand-in. */
  held: "STALE" | "MISS";
}

const cases: ChaosCase[] = [
  { name: "latency within the deadline", fault: { kind: "latency", ms: 200 }, cold: 200, held: "MISS" },
  { name: "latency beyond the deadline", fault: { kind: "latency", ms: 5_000 }, cold: 504, held: "STALE" },
  { name: "connection reset", fault: { kind: "reset" }, cold: 502, held: "STALE" },
  { name: "truncated body", fault: { kind: "truncated" }, cold: 502, held: "STALE" },
  { name: "200 with an HTML body", fault: { kind: "wrong-content-type" }, cold: 502, held: "STALE" },
  // About 5 KB at 64 bytes every 50 ms: four seconds of body behind a prompt 200 head.
  { name: "body trickling past the deadline", fault: { kind: "trickle", bytes: 64, intervalMs: 50 }, cold: 504, held: "STALE" },
  { name: "5xx burst shorter than the retries", fault: { kind: "status", status: 503, times: 2 }, cold: 200, held: "MISS" },
  { name: "5xx burst longer than the retries", fault: { kind: "status", status: 500, times: 3 }, cold: 502, held: "STALE" },
  { name: "5xx that lasts", fault: { kind: "status", status: 502, body: "<html>Unicorn!</html>" }, cold: 502, held: "STALE" },
];

/** A reply reduced to what the chaos table compares, with how long it took. */
function outcome(reply: GistsReply, ms: number) {
  return {
    status: reply.status,
    xCache: reply.xCache,
    gists: Array.isArray(reply.body?.data) ? reply.body.data.length : null,
    inTime: ms <= deadlineMs + marginMs,
  };
}

async function timed(s: Stack, path: string) {
  const started = Date.now();
  const reply = await getGists(s, path);
  return { reply, ms: Date.now() - started };
}

/**
 * One fault against a cold user and a user whose copy has just expired, then the fault clears. GitHub's data
 * changes before the fault, so the held copy's revalidation meets a full answer (a 304 has no body to break).
 */
async function runCase(s: Stack, chaos: ChaosCase) {
  const cold = freshLogin("chaoscold");
  const held = freshLogin("chaosheld");
  s.fake.setUser(held, 3);
  const warm = await getGists(s, `/${held}`);
  await Bun.sleep(1_100);
  s.fake.setUser(cold, 4);
  s.fake.setUser(held, 4);
  s.fake.setFault(cold, chaos.fault);
  s.fake.setFault(held, { ...chaos.fault });
  const [during, heldDuring] = await Promise.all([timed(s, `/${cold}`), timed(s, `/${held}`)]);
  const staleIsTheWarmCopy = heldDuring.reply.xCache !== "STALE" || JSON.stringify(heldDuring.reply.body.data) === JSON.stringify(warm.body.data);
  const asked = s.fake.requestCount(cold);
  s.fake.setFault(cold, null);
  s.fake.setFault(held, null);
  const [after, heldAfter] = await Promise.all([timed(s, `/${cold}`), timed(s, `/${held}`)]);
  return {
    name: chaos.name,
    cold: outcome(during.reply, during.ms),
    held: outcome(heldDuring.reply, heldDuring.ms),
    staleIsTheWarmCopy,
    // Nothing bad was cached: the first request after the fault goes to GitHub and gets its current data.
    coldAfter: { ...outcome(after.reply, after.ms), wentUpstream: s.fake.requestCount(cold) > asked },
    heldAfter: outcome(heldAfter.reply, heldAfter.ms),
    ms: { cold: during.ms, held: heldDuring.ms },
  };
}

/** What each fault must look like: a failure answers its status (or the held copy), and the next request gets GitHub's current data. */
function expectedRow(chaos: ChaosCase) {
  const absorbed = chaos.cold === 200;
  return {
    name: chaos.name,
    cold: { status: chaos.cold, xCache: absorbed ? "MISS" : null, gists: absorbed ? 4 : null, inTime: true },
    held: { status: 200, xCache: chaos.held, gists: chaos.held === "STALE" ? 3 : 4, inTime: true },
    staleIsTheWarmCopy: true,
    coldAfter: { status: 200, xCache: absorbed ? "HIT" : "MISS", gists: 4, inTime: true, wentUpstream: !absorbed },
    heldAfter: { status: 200, xCache: chaos.held === "STALE" ? "MISS" : "HIT", gists: 4, inTime: true },
  };
}

describeTargets("upstream chaos", (target) => {
  const s = useStack(target, env);

  test(
    "every fault: the documented status within the deadline, the held copy as STALE, nothing bad cached, recovery",
    async () => {
      const rows = await Promise.all(cases.map((chaos) => runCase(s, chaos)));
      console.log(`chaos [${target}] ms to answer during the fault: ${rows.map((r) => `${r.name} ${r.ms.cold}/${r.ms.held}`).join("; ")}`);
      expect(rows.map(({ ms: _ms, ...row }) => row)).toEqual(cases.map(expectedRow));
    },
    timedTestMs,
  );
});

describeTargets("upstream chaos: GitHub's rate limits", (target) => {
  const s = useStack(target, env);

  /** A user with a copy that has just expired, and a user with none. */
  async function heldAndCold(): Promise<{ held: string; cold: string; warm: GistsReply }> {
    const held = freshLogin("limitheld");
    const cold = freshLogin("limitcold");
    s.fake.setUser(held, 2);
    s.fake.setUser(cold, 2);
    const warm = await getGists(s, `/${held}`);
    await Bun.sleep(1_100);
    return { held, cold, warm };
  }

  async function expectLimited(path: string, atMostSeconds: number): Promise<void> {
    const started = Date.now();
    const res = await s.request(path);
    expect({ status: res.status, inTime: Date.now() - started <= deadlineMs + marginMs }).toEqual({ status: 429, inTime: true });
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(atMostSeconds);
  }

  async function expectRecovered(held: string, cold: string, sinceMs: number): Promise<void> {
    s.fake.setUser(held, 3);
    s.fake.setUser(cold, 3);
    const deadline = Date.now() + 4_000;
    let reply = await getGists(s, `/${cold}`);
    while (reply.status === 429 && Date.now() < deadline) {
      await Bun.sleep(100);
      reply = await getGists(s, `/${cold}`);
    }
    expect([reply.status, reply.xCache, reply.body.data?.length]).toEqual([200, "MISS", 3]);
    const refreshed = await getGists(s, `/${held}`);
    expect([refreshed.status, refreshed.xCache, refreshed.body.data?.length]).toEqual([200, "MISS", 3]);
    expect(s.fake.requests.filter((r) => r.at >= sinceMs && r.at < sinceMs + 900).map((r) => r.login)).toEqual([]);
  }

  test(
    "primary limit spent (403, remaining 0): cold users 429 with Retry-After, held copies STALE, then recovery at the reset",
    async () => {
      const { held, cold, warm } = await heldAndCold();
      s.fake.setRateLimit({ remaining: 0, resetAt: Math.floor(Date.now() / 1000) + 2 });
      await expectLimited(`/${cold}`, 3);
      const pausedAt = Date.now();
      const stale = await getGists(s, `/${held}`);
      expect([stale.status, stale.xCache, stale.body.data]).toEqual([200, "STALE", warm.body.data]);
      s.fake.setRateLimit({ remaining: 5000, resetAt: Math.floor(Date.now() / 1000) + 3600 });
      await expectRecovered(held, cold, pausedAt);
    },
    timedTestMs,
  );

  test(
    "secondary limit (429 with retry-after 1): cold users 429, held copies STALE, nothing sent for a second, then recovery",
    async () => {
      const { held, cold, warm } = await heldAndCold();
      s.fake.setFault(cold, { kind: "secondary-rate-limit", retryAfter: 1, status: 429, times: 1 });
      await expectLimited(`/${cold}`, 1);
      const pausedAt = Date.now();
      const stale = await getGists(s, `/${held}`);
      expect([stale.status, stale.xCache, stale.body.data]).toEqual([200, "STALE", warm.body.data]);
      await expectRecovered(held, cold, pausedAt);
    },
    timedTestMs,
  );
});
