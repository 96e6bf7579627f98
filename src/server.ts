import { createApp } from "./app.ts";
import { createTtlCache } from "./cache/ttl-cache.ts";
import type { Config } from "./config.ts";
import { createGithubClient } from "./github/client.ts";
import { createCors } from "./http/cors.ts";
import { createFetchHandler } from "./http/handler.ts";
import type { Logger } from "./logger.ts";
import { createRequestRecorder } from "./metrics/plugin.ts";
import { catalog } from "./metrics/catalog.ts";
import { createMetrics } from "./metrics/registry.ts";
import { createGistsFastPath } from "./modules/gists/fast-path.ts";
import { createGistsService, type GistsEntry } from "./modules/gists/service.ts";
import type { Readiness } from "./modules/health/index.ts";
import { version } from "./version.ts";

/** The assembled service: a `fetch` to listen with, its app and the state serve needs for shutdown. */
export type Server = ReturnType<typeof createServer>;

/** Builds every part of the service from the configuration, once. */
export function createServer(config: Config, logger: Logger, options: { now?: () => number } = {}) {
  const metrics = createMetrics();
  const readiness: Readiness = { ready: true };
  const github = createGithubClient({
    baseUrl: config.githubApiUrl,
    token: config.githubToken,
    timeoutMs: config.upstreamTimeoutMs,
    userAgent: `gists-api/${version}`,
    now: options.now,
    observer: {
      request: (status, seconds) => {
        metrics.githubRequests.labels(status).inc();
        metrics.githubRequestDuration.observe(seconds);
      },
      rateLimit: (state) => {
        if (state.remaining !== undefined) metrics.githubRateLimitRemaining.set(state.remaining);
        if (state.resetAt !== undefined) metrics.githubRateLimitReset.set(state.resetAt);
      },
    },
  });
  const cache = createTtlCache<GistsEntry>({ maxEntries: config.cacheMaxEntries, now: options.now });
  const gists = createGistsService({ github, cache, ttlSeconds: config.cacheTtlSeconds });
  const fastPath = createGistsFastPath(gists, config.cacheMaxEntries * 2);
  const app = createApp({ gists, fastPath, metrics, readiness, logger, adminToken: config.adminToken });
  const handler = createFetchHandler({
    handle: (request) => app.handle(request),
    fastPath,
    cors: createCors(config.corsOrigins),
    recorder: createRequestRecorder(metrics),
    logger,
  });
  metrics.sample(catalog.httpRequestsInFlight, () => handler.inFlight);
  metrics.sample(catalog.cacheEntries, () => cache.size);
  metrics.sample(catalog.cacheHits, () => gists.stats().hits);
  metrics.sample(catalog.cacheMisses, () => gists.stats().misses);

  return { app, fetch: handler.fetch, handler, readiness, gists, metrics };
}
