import type { Freshness } from "../cache/freshness.ts";
import type { SharedTierConfig } from "../config.ts";
import type { BudgetSnapshot, RateLimitBudget } from "../github/rate-limit-budget.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics/registry.ts";
import type { Tracing } from "../tracing/tracing.ts";
import { createFleet, type Fleet, type FleetValue } from "./fleet.ts";
import { shareBudget } from "./rate-limit-sharing.ts";
import { createRedisLink } from "./redis-link.ts";
import { createRedisStore, type EntryCodec } from "./redis-store.ts";
import type { SharedStore } from "./shared-store.ts";

/** What the service shows of the shared tier in /cache/stats. */
export interface SharedTierStats {
  state: "off" | "up" | "down";
  /** Redis refuses writes for want of memory: copies are read but no longer shared. */
  full: boolean;
  hits: number;
  misses: number;
  dropped: number;
  errors: number;
  fallbacks: number;
  lease_waits: number;
}

/** This replica's membership of the fleet: the seam for the cache policy, the budget's sharing, state and counters. */
export interface FleetMembership<V extends FleetValue> {
  fleet: Fleet<V>;
  /** The store the fleet runs on, for what else the replicas count together (each client's share of GitHub's budget). */
  store: SharedStore<V>;
  /** Give to the rate-limit budget as its `onLearned`: what this replica learns from GitHub, the fleet learns. */
  budgetChanged(snapshot: BudgetSnapshot): void;
  stats(): SharedTierStats;
  /** Resolves once this replica knows the shared tier's epoch, or its first connection to Redis failed. */
  connected: Promise<void>;
  close(): Promise<void>;
}

/** The counters of a service without a shared tier. */
export const sharedTierOff: SharedTierStats = { state: "off", full: false, hits: 0, misses: 0, dropped: 0, errors: 0, fallbacks: 0, lease_waits: 0 };

/** How often a replica looks at the shared tier's epoch: the longest it serves pre-clear copies unaware, once Redis answers. */
export const heartbeatMs = 1_000;

/** Connects this replica to the fleet through Redis and wires the fleet to the metrics and the log. */
export function joinFleet<V extends FleetValue>(
  config: SharedTierConfig,
  deps: {
    codec: EntryCodec<V>;
    freshness: Freshness;
    leaseMs: number;
    metrics: Metrics;
    logger: Logger;
    budget: () => RateLimitBudget;
    onLeaseWaitStarted?: () => void;
    now?: () => number;
    tracing?: Tracing;
  },
): FleetMembership<V> {
  const { metrics, logger } = deps;
  const redis = _where(config.url);
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
        if (up) logger.info("shared cache connected", { redis });
        else logger.warn("shared cache unavailable; answering from the local cache", { redis, reason });
      },
      fullChanged(full) {
        if (full) logger.warn("shared cache full: Redis refuses writes, so pages are no longer shared until it has room", { redis });
        else logger.info("shared cache takes writes again", { redis });
      },
    },
    deps.tracing,
  );
  const store = createRedisStore({ link, codec: deps.codec, keyPrefix: config.keyPrefix });
  const fleet = createFleet({
    store,
    freshness: deps.freshness,
    leaseMs: deps.leaseMs,
    now: deps.now,
    onLeaseWaitStarted: deps.onLeaseWaitStarted,
    onLeaseWait: (outcome) => metrics.sharedCacheLeaseWaits.labels(outcome).inc(),
  });
  const budget = shareBudget(store, deps.budget, deps.now);
  // A new connection looks at the epoch at once (a clear may have passed while it was away) and at the budget
  // the fleet kept, and once per process at Redis's eviction policy. The replica has joined once it knows the
  // epoch (until then it would answer every request from GitHub), or once Redis failed to answer at all.
  let joined: () => void = () => {};
  const connected = new Promise<void>((resolve) => (joined = resolve));
  void link.settled.then(() => {
    if (!link.up) joined();
  });
  let policyChecked = false;
  link.onConnect(() => {
    void Promise.all([fleet.heartbeat(), budget.recall()]).finally(joined);
    if (policyChecked) return;
    policyChecked = true;
    void link
      .run("config", (client) => client.config("GET", "maxmemory*") as Promise<string[]>)
      .then((pairs) => {
        const settings = _pairs(pairs);
        if (settings["maxmemory-policy"] === "noeviction" && Number(settings.maxmemory) > 0) {
          logger.warn("shared cache: Redis has maxmemory-policy noeviction, so a full Redis refuses writes; allkeys-lru or volatile-lru keeps it usable", {
            redis,
          });
        }
      });
  });
  const beat = setInterval(() => void fleet.heartbeat(), heartbeatMs);
  (beat as { unref?: () => void }).unref?.();
  const stats = (): SharedTierStats => ({
    state: link.up ? "up" : "down",
    full: link.full,
    hits: fleet.counters.hits,
    misses: fleet.counters.misses,
    dropped: store.dropped,
    errors,
    fallbacks,
    lease_waits: fleet.counters.leaseWaits.filled + fleet.counters.leaseWaits.failed + fleet.counters.leaseWaits.timeout,
  });
  return {
    fleet,
    store,
    budgetChanged: budget.learned,
    stats,
    connected,
    close: async () => {
      clearInterval(beat);
      await link.close();
    },
  };
}

// Where Redis is, for the log: host and port only, never the password.
function _where(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
}

// CONFIG GET's flat [name, value, ...] answer as an object; nothing when Redis refused the command (managed Redis often does).
function _pairs(pairs: string[] | undefined): Record<string, string> {
  const settings: Record<string, string> = {};
  for (let index = 0; index + 1 < (pairs?.length ?? 0); index += 2) settings[pairs![index]!] = pairs![index + 1]!;
  return settings;
}
