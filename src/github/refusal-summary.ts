import type { RefusalReason } from "./upstream.ts";

/** Fetches refused per reason since the last report. */
export type RefusalCounts = Record<RefusalReason, number>;

/** How refusals are reported: at most once per `intervalMs`, and only when there were some. */
export interface RefusalSummaryOptions {
  intervalMs: number;
  report: (counts: RefusalCounts, seconds: number) => void;
  now?: () => number;
  /** Runs `task` after `ms` and returns a cancel; setTimeout unless a test steps time itself. */
  schedule?: (task: () => void, ms: number) => () => void;
}

/** Counts refused fetches and reports them as one line per interval, instead of one line per request. */
export type RefusalSummary = ReturnType<typeof createRefusalSummary>;

/** Creates an empty summary; the first refusal starts its interval, so a healthy service runs no timer. */
export function createRefusalSummary(options: RefusalSummaryOptions) {
  const now = options.now ?? Date.now;
  const schedule = options.schedule ?? _schedule;
  let counts = _empty();
  let total = 0;
  let since = 0;
  let cancel: (() => void) | undefined;

  const flush = () => {
    cancel?.();
    cancel = undefined;
    if (total === 0) return;
    const reported = counts;
    const seconds = (now() - since) / 1000;
    counts = _empty();
    total = 0;
    options.report(reported, seconds);
  };

  return {
    /** Counts one refused fetch. */
    count(reason: RefusalReason): void {
      if (total === 0) {
        since = now();
        cancel = schedule(flush, options.intervalMs);
      }
      counts[reason]++;
      total++;
    },
    /** Reports what was counted now (at shutdown), if anything was. */
    flush,
  };
}

function _empty(): RefusalCounts {
  return { "rate-limited": 0, "breaker-open": 0, "queue-timeout": 0 };
}

function _schedule(task: () => void, ms: number): () => void {
  const timer = setTimeout(task, ms);
  // A pending report must not keep a finished process (or a test run) alive.
  (timer as { unref?: () => void }).unref?.();
  return () => clearTimeout(timer);
}
