import { createApp } from "./app.ts";
import { createFreshness } from "./cache/freshness.ts";
import type { Config } from "./config.ts";
import { breakerStates, createCircuitBreaker } from "./github/breaker.ts";
import { createRateLimitBudget } from "./github/rate-limit-budget.ts";
import { createGithubClient } from "./github/client.ts";
import { createClientShare } from "./github/client-share.ts";
import { createConcurrencyLimiter } from "./github/limiter.ts";
import { createRefusalSummary } from "./github/refusal-summary.ts";
import { createRequestPace } from "./github/request-pace.ts";
import { createUpstream } from "./github/upstream.ts";
import { createClientRateLimiter } from "./http/client-rate-limit.ts";
import { createCors } from "./http/cors.ts";
import { createFrontDoor } from "./http/front-door.ts";
import type { Logger } from "./logger.ts";
import { createRequestRecorder, metricsPath } from "./metrics/plugin.ts";
import { createMetrics } from "./metrics/registry.ts";
import { createGistsAnswers } from "./modules/gists/answer.ts";
import { createGistsHitPath } from "./modules/gists/hit-path.ts";
import { createGistsService } from "./modules/gists/service.ts";
import { probePaths, type Readiness } from "./modules/health/index.ts";
import { createMemoryPacer } from "./memory-pacer.ts";
import { joinFleet } from "./fleet/connect.ts";
import { createEntryCodec } from "./modules/gists/entry-codec.ts";
import { createWayOut } from "./http/way-out.ts";
import { collectGarbage, runtimeName } from "./runtime.ts";
import { createTelemetry } from "./telemetry.ts";
import { noTracing, type Tracing } from "./tracing/tracing.ts";
import { version } from "./version.ts";

/** How often fetches refused without asking GitHub are reported, as one line, while there are any. */
const refusalReportMs = 10_000;

/** The assembled service: a `fetch` to listen with, its app and the state serve needs for shutdown. */
export type Server = ReturnType<typeof createServer>;

/** Builds every part of the service from the configuration, once. */
export function createServer(config: Config, logger: Logger, options: { now?: () => number; tracing?: Tracing } = {}) {
  const now = options.now ?? Date.now;
  const tracing = options.tracing ?? noTracing;
  const metrics = createMetrics();
  const readiness: Readiness = { ready: true };
  const telemetry = createTelemetry(logger, metrics, tracing);
  // The windows follow GitHub's budget as this replica (and, with REDIS_URL, the fleet) knows it.
  const budgetLeft = () => (budget.limit && budget.remaining !== undefined ? budget.remaining / budget.limit : undefined);
  const freshness = createFreshness(config.cache, config.cache.adaptive ? { budgetLeft, maxTtlMs: config.cache.maxTtlMs } : undefined);
  // With REDIS_URL, replicas share one cache and one view of GitHub's budget; without it, each stands alone.
  const membership = config.shared
    ? joinFleet(config.shared, {
        codec: createEntryCodec(freshness.ttlSeconds),
        freshness,
        // A lease covers one upstream deadline (queueing, retries and backoff) and the write that follows it.
        leaseMs: config.upstream.timeoutMs + 1_000,
        metrics,
        logger,
        budget: () => budget,
        onLeaseWaitStarted: () => telemetry.cacheEvent("lease-wait"),
        now,
        tracing,
      })
    : undefined;
  const refusals = createRefusalSummary({ intervalMs: refusalReportMs, now, report: telemetry.refusals });
  const budget = createRateLimitBudget(now, { onChange: telemetry.budgetChanged, onLearned: membership?.budgetChanged });
  // 4 MiB of upstream bodies (about 80 GitHub pages) between full collections, or a sixteenth of a smaller cache.
  const pacer = createMemoryPacer(Math.min(4 * 1024 * 1024, config.cache.maxBytes / 16), collectGarbage);
  const github = createGithubClient({
    baseUrl: config.githubApiUrl,
    token: config.githubToken,
    userAgent: `gists-api/${version}`,
    maxBodyBytes: config.upstream.maxBodyBytes,
    now,
    observer: telemetry.github(budget, (size) => pacer.received(size)),
    tracing,
  });
  const breaker = createCircuitBreaker({
    threshold: config.upstream.breakerThreshold,
    cooldownMs: config.upstream.breakerCooldownMs,
    now,
    onChange: telemetry.breakerChanged,
  });
  const limiter = createConcurrencyLimiter(config.upstream.maxConcurrency);
  const pace = createRequestPace(config.upstream.maxPerMinute, now);
  const upstream = createUpstream({
    client: github,
    budget,
    breaker,
    limiter,
    pace,
    timeoutMs: config.upstream.timeoutMs,
    retries: config.upstream.retries,
    onRetry: telemetry.retried,
    onFailure: telemetry.upstreamFailed,
    onRefused: (reason) => refusals.count(reason),
    onQueued: telemetry.queued,
    now,
  });
  const share = createClientShare({
    share: config.clientGithubShare,
    windowLimit: () => budget.limit,
    assumedLimit: config.githubToken ? 5000 : 60,
    store: membership?.store,
    now,
  });
  const gists = createGistsService({
    upstream,
    cache: config.cache,
    freshness,
    membership,
    share,
    now,
    onBackgroundError: telemetry.backgroundFailed,
    onCacheEvent: telemetry.cacheEvent,
    authenticated: config.githubToken !== undefined,
    onGithubCall: telemetry.githubCall,
  });
  const answers = createGistsAnswers({
    freshness,
    cloneTemplates: runtimeName === "bun",
    grow: (slot, added) => gists.grow(slot, added),
  });
  const app = createApp({ gists, answers, metrics, readiness, logger, adminToken: config.adminToken, adminHosts: config.adminHosts, now });
  // Probes and scrapes: a throttled kubelet would restart a healthy pod, and their spans would drown the users'.
  const probesAndScrapes = new Set([...probePaths, metricsPath]);
  const cors = createCors(config.corsOrigins);
  const frontDoor = createFrontDoor({
    route: (request) => app.handle(request),
    hitPath: createGistsHitPath(gists, answers, now),
    cors,
    wayOut: createWayOut({ cors, draining: () => !readiness.ready }),
    recorder: createRequestRecorder(metrics),
    rateLimiter: createClientRateLimiter(config.rateLimit, now),
    accountsClients: share.enabled,
    unlimitedPaths: probesAndScrapes,
    onRateLimited: telemetry.rateLimited,
    logger,
    tracing,
    untracedPaths: probesAndScrapes,
  });

  metrics.watch({
    inFlight: () => frontDoor.inFlight,
    cache: () => gists.stats(),
    limiter,
    pace,
    breakerState: () => breakerStates[breaker.state],
    answers: () => gists.answered,
  });

  return {
    app,
    fetch: frontDoor.fetch,
    frontDoor,
    readiness,
    gists,
    metrics,
    refusals,
    /**
     * Resolves when the service is worth listening for: at once without a shared tier, else once the first
     * connection to Redis succeeded or failed (a replica that answered before it would fetch what others hold).
     */
    started: membership?.connected ?? Promise.resolve(),
    /** Closes connections the service holds open (the shared tier's), after the listener has stopped. */
    close: async () => {
      await membership?.close();
    },
  };
}
