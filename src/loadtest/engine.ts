import { failureReason } from "./failure.ts";
import { latencyHistogram, latencySummary, type LatencySummary } from "./latency.ts";
import type { Connection, Transport } from "./transport.ts";
import { zipfSampler } from "./zipf.ts";

/** What to run: a target, a model (closed: back to back; open: a constant arrival rate) and how long. */
export interface LoadPlan {
  /** The target; with `users`, its path holds `{user}`, replaced by user-1..user-N. */
  url: URL;
  connections: number;
  durationMs?: number;
  requests?: number;
  /** Requests per second for the open model; absent for the closed model. */
  rate?: number;
  users?: number;
  zipf: number;
  warmupMs: number;
  /** How long the run waits for answers still in flight once it is over. */
  drainMs: number;
}

/** A snapshot for the live progress line. */
export interface Progress {
  elapsedSeconds: number;
  requests: number;
  rps: number;
  errors: number;
}

/**
 * What a run measured. `requests` counts attempts: answers plus failures (`failures` says why, by reason).
 * Latencies are in milliseconds, from each request's intended send time in the open model.
 */
export interface LoadResult {
  requests: number;
  duration_s: number;
  rps: number;
  errors: number;
  status: Record<string, number>;
  /** Requests that got no answer, by reason ("connection refused", "host not found", ...). */
  failures: Record<string, number>;
  cache: { hit: number; miss: number; stale: number; revalidated: number; bypass: number; none: number };
  latency_ms: LatencySummary;
}

/** Runs the plan over `transport` and returns the measurements of the part after the warm-up. */
export async function runLoad(plan: LoadPlan, transport: Transport, onProgress?: (progress: Progress) => void): Promise<LoadResult> {
  const target = plan.url;
  const origin = new URL(target.origin);
  const pathOf = _paths(target, plan);
  const connections = Array.from({ length: plan.connections }, () => transport(origin));
  const reach: Reach = { answered: false };
  try {
    if (plan.warmupMs > 0) await _phase(plan, connections, pathOf, { durationMs: plan.warmupMs }, undefined, reach);
    const recorder = _recorder();
    const ticker = onProgress ? setInterval(() => onProgress(recorder.progress()), 1000) : undefined;
    try {
      await _phase(plan, connections, pathOf, { durationMs: plan.durationMs, requests: plan.requests }, recorder, reach);
    } finally {
      if (ticker) clearInterval(ticker);
    }
    return recorder.result();
  } finally {
    for (const connection of connections) connection.close();
  }
}

type Recorder = ReturnType<typeof _recorder>;

// Whether the target has answered at all in this run: until it has, a connection whose request fails stops.
interface Reach {
  answered: boolean;
}

// A connection whose request failed waits this long before it tries again, doubling up to the cap.
const reconnectBackoffMs = { first: 50, max: 1000 };

function _recorder() {
  const histogram = latencyHistogram();
  const statusByCode = new Map<number, number>();
  let failedRequests = 0;
  const failures: Record<string, number> = {};
  const cache = { hit: 0, miss: 0, stale: 0, revalidated: 0, bypass: 0, none: 0 };
  let errors = 0;
  let requests = 0;
  let started = performance.now();
  let ended = started;
  let lastTick = { at: started, requests: 0 };
  return {
    start() {
      started = performance.now();
      lastTick = { at: started, requests: 0 };
    },
    answered(code: number, xCache: string | null, latencyMs: number) {
      requests++;
      histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
      statusByCode.set(code, (statusByCode.get(code) ?? 0) + 1);
      if (code >= 500) errors++;
      // The service writes its verdicts in upper case: the common answers cost a comparison, not a new string.
      if (xCache === "HIT") cache.hit++;
      else if (xCache === "MISS") cache.miss++;
      else {
        const verdict = (xCache ?? "none").toLowerCase() as keyof typeof cache;
        if (verdict in cache) cache[verdict]++;
      }
    },
    failed(reason: string) {
      requests++;
      errors++;
      failedRequests++;
      failures[reason] = (failures[reason] ?? 0) + 1;
    },
    finish() {
      ended = performance.now();
    },
    progress(): Progress {
      const now = performance.now();
      const rps = ((requests - lastTick.requests) * 1000) / Math.max(1, now - lastTick.at);
      lastTick = { at: now, requests };
      return { elapsedSeconds: (now - started) / 1000, requests, rps, errors };
    },
    result(): LoadResult {
      const seconds = Math.max(0.001, (ended - started) / 1000);
      const status: Record<string, number> = Object.fromEntries([...statusByCode].sort(([a], [b]) => a - b).map(([code, count]) => [String(code), count]));
      if (failedRequests > 0) status.error = failedRequests;
      return {
        requests,
        duration_s: Math.round(seconds * 1000) / 1000,
        rps: Math.round((requests / seconds) * 10) / 10,
        errors,
        status,
        failures,
        cache,
        latency_ms: latencySummary(histogram),
      };
    },
  };
}

// One phase: every connection runs a loop until the time or the request budget is spent. In the open model
// request i is due at start + i/rate, and its latency counts from then, so a stalled server is not hidden
// by the generator waiting for it (coordinated omission). A failed request is one attempt: its connection
// stops when the target never answered, and otherwise backs off, so a dead target is not hammered in a spin.
async function _phase(
  plan: LoadPlan,
  connections: Connection[],
  pathOf: () => string,
  limits: { durationMs?: number; requests?: number },
  recorder: Recorder | undefined,
  reach: Reach,
): Promise<void> {
  recorder?.start();
  const start = performance.now();
  const end = limits.durationMs !== undefined ? start + limits.durationMs : Number.POSITIVE_INFINITY;
  const budget = limits.requests ?? Number.POSITIVE_INFINITY;
  const interval = plan.rate ? 1000 / plan.rate : 0;
  let issued = 0;
  const loop = async (connection: Connection) => {
    let backoffMs = 0;
    for (;;) {
      if (issued >= budget) return;
      const index = issued++;
      let sentAt = performance.now();
      if (interval > 0) {
        const due = start + index * interval;
        if (due >= end) return;
        // Timers may fire early by a fraction of a millisecond: wait until the request is really due.
        while (performance.now() < due) await _sleep(Math.ceil(due - performance.now()));
        sentAt = due;
      } else if (sentAt >= end) return;
      try {
        const answer = await connection.get(pathOf());
        reach.answered = true;
        backoffMs = 0;
        recorder?.answered(answer.status, answer.cache, performance.now() - sentAt);
      } catch (error) {
        recorder?.failed(failureReason(error));
        if (!reach.answered) return;
        backoffMs = Math.min(reconnectBackoffMs.max, backoffMs === 0 ? reconnectBackoffMs.first : backoffMs * 2);
        await _sleep(Math.min(backoffMs, end - performance.now()));
      }
    }
  };
  const loops = Promise.all(connections.map(loop));
  if (Number.isFinite(end)) {
    // Answers still missing this long after the end are counted as failed when their connection closes.
    let drainTimer: ReturnType<typeof setTimeout> | undefined;
    const drainOver = new Promise<false>((resolve) => (drainTimer = setTimeout(() => resolve(false), Math.max(0, end - performance.now() + plan.drainMs))));
    const drained = await Promise.race([loops.then(() => true), drainOver]);
    // A pending drain timer would keep the process alive for drainMs after the run.
    clearTimeout(drainTimer);
    if (!drained) for (const connection of connections) connection.close();
    await loops;
  } else await loops;
  recorder?.finish();
}

function _paths(target: URL, plan: LoadPlan): () => string {
  const path = `${target.pathname}${target.search}`;
  if (!plan.users) return () => path;
  const template = decodeURI(path);
  const next = zipfSampler(plan.users, plan.zipf);
  return () => template.replace("{user}", `user-${next() + 1}`);
}

function _sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

