import type { BreakerState } from "./github/breaker.ts";
import type { BudgetState, RateLimitBudget } from "./github/rate-limit-budget.ts";
import { UpstreamError, type GithubObserver } from "./github/client.ts";
import type { RateLimitKind } from "./github/rate-limit-rules.ts";
import type { RefusalCounts } from "./github/refusal-summary.ts";
import type { UpstreamFailureReport } from "./github/upstream.ts";
import type { Logger } from "./logger.ts";
import type { GithubCallReason } from "./metrics/catalog.ts";
import type { Metrics } from "./metrics/registry.ts";
import type { CacheEvent } from "./cache/policy.ts";
import type { Tracing } from "./tracing/tracing.ts";

/**
 * How the service's parts report to the log, the metrics and the traces, in one place: each part takes plain
 * callbacks, and these are the ones the service gives them. GitHub failing is logged once per failed fetch and
 * once per state change, refused fetches as a periodic summary. Trace events land on the span of the request
 * whose work hit them (the active span), when it is sampled.
 */
export function createTelemetry(logger: Logger, metrics: Metrics, tracing: Tracing) {
  return {
    /** What the GitHub client tells about each request, and what it read: metrics, the budget, the memory pacer. */
    github(budget: RateLimitBudget, received: (size: number) => void): GithubObserver {
      return {
        request: (status, seconds) => {
          metrics.githubRequests.labels(status).inc();
          metrics.githubRequestDuration.observe(seconds);
        },
        received,
        rateLimited: (kind) => metrics.githubRateLimited.labels(kind).inc(),
        rateLimit: (state) => {
          budget.update(state);
          if (state.limit !== undefined) metrics.githubRateLimitLimit.set(state.limit);
          if (state.remaining !== undefined) metrics.githubRateLimitRemaining.set(state.remaining);
          if (state.resetAt !== undefined) metrics.githubRateLimitReset.set(state.resetAt);
        },
      };
    },
    /** GitHub's budget moving between available and exhausted: one line as an episode starts, one as it ends. */
    budgetChanged(state: BudgetState, waitSeconds: number, kind: RateLimitKind): void {
      if (state === "exhausted") logger.warn("github rate limit exhausted", { kind, pause_seconds: waitSeconds });
      else logger.warn("github rate limit available again", { kind });
    },
    /** The circuit breaker changing state. */
    breakerChanged(state: BreakerState): void {
      logger.warn("circuit breaker", { state });
      if (state === "open") tracing.event("circuit breaker opened");
    },
    /** A GitHub request that waited for a slot at UPSTREAM_MAX_CONCURRENCY. */
    queued(waitedMs: number): void {
      tracing.event("queued at the upstream limit", { "gists_api.wait_ms": Math.round(waitedMs * 10) / 10 });
    },
    /** How the cache answered, where a trace shows why a request took the time it did. */
    cacheEvent(event: CacheEvent): void {
      tracing.event(cacheEventNames[event]);
    },
    /** A fetch that failed at GitHub, after its retries. */
    upstreamFailed({ username, page, error, attempts }: UpstreamFailureReport): void {
      logger.warn("github request failed", { user: username, page, failure: error.kind, attempts, error: error.message });
    },
    /** The periodic line of fetches refused without asking GitHub. */
    refusals(counts: RefusalCounts, seconds: number): void {
      logger.warn("github requests refused", {
        rate_limited: counts["rate-limited"],
        breaker_open: counts["breaker-open"],
        queue_timeout: counts["queue-timeout"],
        seconds: Math.round(seconds * 10) / 10,
      });
    },
    /** A background refresh that failed for a reason the upstream did not already log or count. */
    backgroundFailed(key: string, error: unknown): void {
      if (!(error instanceof UpstreamError)) logger.warn("background refresh failed", { key, error: String(error) });
    },
    /** A GitHub call that got an answer, by why it was made and whether GitHub charged it. */
    githubCall(reason: GithubCallReason, charged: boolean): void {
      metrics.githubCalls.labels(reason, charged ? "charged" : "free").inc();
    },
    retried: () => metrics.githubRetries.inc(),
    rateLimited: () => metrics.clientRateLimited.inc(),
  };
}

// Trace event names of the cache's events.
const cacheEventNames: Record<CacheEvent, string> = {
  coalesced: "waited for a fetch in flight",
  "lease-wait": "waited for another replica's fetch",
  stale: "answered stale",
  "stale-after-error": "answered stale after an upstream failure",
};
