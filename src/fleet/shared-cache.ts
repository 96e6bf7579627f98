import type { CachedValue } from "../cache/policy.ts";
import type { SharedTierConfig } from "../config.ts";
import type { BudgetSnapshot, RateLimitBudget } from "../github/budget.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics/registry.ts";
import { shareBudget } from "./budget.ts";
import { createRedisLink } from "./redis.ts";
import { createRedisTier, type EntryCodec, type RedisTier } from "./tier.ts";
import type { Tracing } from "../tracing/tracing.ts";

/** What the service shows of the shared tier in /cache/stats. */
export interface SharedCacheStats {
  state: "off" | "up" | "down";
  hits: number;
  misses: number;
  dropped: number;
  errors: number;
  fallbacks: number;
  lease_waits: number;
}

/** The fleet's shared cache: the tier for the cache policy, the budget's sharing, its state and counters. */
export interface SharedCache<V extends CachedValue> {
  tier: RedisTier<V>;
  /** Give to the rate-limit budget as its `onChange`: what this replica learns from GitHub, the fleet learns. */
  budgetChanged(snapshot: BudgetSnapshot): void;
  stats(): SharedCacheStats;
  /** Resolves once the first connection to Redis has succeeded or failed. */
  connected: Promise<void>;
  close(): Promise<void>;
}

/** The counters of a service without a shared tier. */
export const sharedCacheOff: SharedCacheStats = { state: "off", hits: 0, misses: 0, dropped: 0, errors: 0, fallbacks: 0, lease_waits: 0 };

/** Connects the shared tier on Redis and wires it to the metrics and the log. */
export function createSharedCache<V extends CachedValue>(
  config: SharedTierConfig,
  deps: {
    codec: EntryCodec<V>;
    leaseMs: number;
    metrics: Metrics;
    logger: Logger;
    budget: () => RateLimitBudget;
    now?: () => number;
    tracing?: Tracing;
  },
): SharedCache<V> {
  const { metrics, logger } = deps;
  let errors = 0;
  let fallbacks = 0;
  const link = createRedisLink(
    config,
    {
      command(operation, seconds, ok) {
        metrics.sharedCacheCommandDuration.labels(operation).observe(seconds);
        if (ok) return;
        errors++;
        fallbacks++;
        metrics.sharedCacheErrors.labels(operation).inc();
        metrics.sharedCacheFallbacks.labels(operation).inc();
      },
      skipped(operation) {
        fallbacks++;
        metrics.sharedCacheFallbacks.labels(operation).inc();
      },
      stateChanged(up, reason) {
        if (up) logger.info("shared cache connected", { redis: _where(config.url) });
        else logger.warn("shared cache unavailable; answering from the local cache", { redis: _where(config.url), reason });
      },
    },
    deps.tracing,
  );
  const tier = createRedisTier({
    link,
    codec: deps.codec,
    keyPrefix: config.keyPrefix,
    leaseMs: deps.leaseMs,
    now: deps.now,
    onLeaseWait: (outcome) => metrics.sharedCacheLeaseWaits.labels(outcome).inc(),
  });
  const budgetChanged = shareBudget(link, config.keyPrefix, deps.budget, deps.now);
  const stats = (): SharedCacheStats => ({
    state: link.up ? "up" : "down",
    hits: tier.counters.hits,
    misses: tier.counters.misses,
    dropped: tier.counters.dropped,
    errors,
    fallbacks,
    lease_waits: tier.counters.leaseWaits.filled + tier.counters.leaseWaits.failed + tier.counters.leaseWaits.timeout,
  });
  return { tier, budgetChanged, stats, connected: link.settled, close: () => link.close() };
}

// Where Redis is, for the log: host and port only, never the password.
function _where(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
}
