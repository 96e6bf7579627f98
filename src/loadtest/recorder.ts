import { latencyHistogram, latencySummary, type LatencySummary } from "./latency.ts";

/** A snapshot for the live progress line. */
export interface Progress {
  elapsedSeconds: number;
  requests: number;
  rps: number;
  errors: number;
}

/** How the service's cache answered, counted by its X-Cache header ("none" when absent). */
export interface CacheCounts {
  hit: number;
  miss: number;
  stale: number;
  revalidated: number;
  bypass: number;
  none: number;
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
  cache: CacheCounts;
  latency_ms: LatencySummary;
}

/** What one measured phase counts: answers by status and X-Cache, failures by reason, latencies. */
export interface Recorder {
  start(): void;
  answered(status: number, cache: string | null, latencyMs: number): void;
  failed(reason: string): void;
  finish(): void;
  progress(): Progress;
  result(): LoadResult;
}

/** A recorder whose counting per answer is a few array writes and one histogram record, with no allocation. */
export function createRecorder(): Recorder {
  const histogram = latencyHistogram();
  // Statuses are three digits: an array indexed by the code counts them without a map lookup.
  const statusCounts = new Float64Array(1000);
  const failures: Record<string, number> = {};
  const cache: CacheCounts = { hit: 0, miss: 0, stale: 0, revalidated: 0, bypass: 0, none: 0 };
  let failedRequests = 0;
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
    answered(status, xCache, latencyMs) {
      requests++;
      histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
      statusCounts[status >= 0 && status < 1000 ? status : 0]!++;
      if (status >= 500) errors++;
      // The transport hands the service's verdicts over as the same upper-case strings: a comparison each.
      if (xCache === "HIT") cache.hit++;
      else if (xCache === "MISS") cache.miss++;
      else if (xCache === null) cache.none++;
      else {
        const verdict = xCache.toLowerCase() as keyof CacheCounts;
        if (verdict in cache) cache[verdict]++;
      }
    },
    failed(reason) {
      requests++;
      errors++;
      failedRequests++;
      failures[reason] = (failures[reason] ?? 0) + 1;
    },
    finish() {
      ended = performance.now();
    },
    progress() {
      const now = performance.now();
      const rps = ((requests - lastTick.requests) * 1000) / Math.max(1, now - lastTick.at);
      lastTick = { at: now, requests };
      return { elapsedSeconds: (now - started) / 1000, requests, rps, errors };
    },
    result() {
      const seconds = Math.max(0.001, (ended - started) / 1000);
      const status: Record<string, number> = {};
      statusCounts.forEach((count, code) => {
        if (count > 0) status[String(code)] = count;
      });
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
