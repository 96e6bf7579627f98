import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric, type OpenMetricsContentType } from "prom-client";
import { catalog, type Cost, type MetricSpec } from "./catalog.ts";
import type { SharedTierStats } from "../fleet/connect.ts";
import { createHotCounter, createHotHistogram } from "./hot.ts";
import { rateLimitKinds } from "../github/rate-limit-rules.ts";

/** The service's prom-client instruments, one per catalog entry, in their own registry. */
export type Metrics = ReturnType<typeof createMetrics>;

/** Registers every catalog metric (and the runtime's process metrics where it supports them). */
export function createMetrics(options: { processMetrics?: boolean } = {}) {
  const registry = new Registry();
  const samplers = new Map<string, () => number>();
  const base = <L extends string>(spec: MetricSpec<L>) => ({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labels,
    registers: [registry],
  });
  const counter = <L extends string>(spec: MetricSpec<L>) => _zeroed(new Counter<L>(base(spec)), spec);
  const histogram = <L extends string>(spec: MetricSpec<L>) => new Histogram<L>({ ...base(spec), buckets: [...(spec.buckets ?? [])] });
  // Gauges that mirror a value owned elsewhere read it at scrape time instead of on every change.
  const gauge = <L extends string>(spec: MetricSpec<L>) =>
    new Gauge<L>({
      ...base(spec),
      collect() {
        const read = samplers.get(spec.name);
        if (read) this.set(read());
      },
    });
  // Counters whose total is kept elsewhere (as a plain number) are copied in at scrape time.
  const total = <L extends string>(spec: MetricSpec<L>) =>
    new Counter<L>({
      ...base(spec),
      collect() {
        const read = samplers.get(spec.name);
        if (!read) return;
        this.reset();
        this.inc(read());
      },
    });

  // The same for a counter kept elsewhere per value of its one label.
  const byLabel = new Map<string, () => Readonly<Record<string, number>>>();
  const totalByLabel = <L extends string>(spec: MetricSpec<L>) =>
    new Counter<L>({
      ...base(spec),
      collect() {
        const read = byLabel.get(spec.name);
        if (!read) return;
        this.reset();
        for (const [value, count] of Object.entries(read())) this.labels(value).inc(count);
      },
    });

  if (options.processMetrics !== false) _collectProcessMetrics(registry);
  let openMetrics: Registry<OpenMetricsContentType> | undefined;

  return {
    registry,
    httpRequests: createHotCounter(catalog.httpRequests, registry),
    httpRequestDuration: createHotHistogram(catalog.httpRequestDuration, registry),
    httpRequestsInFlight: gauge(catalog.httpRequestsInFlight),
    githubRequests: counter(catalog.githubRequests),
    githubCalls: counter(catalog.githubCalls),
    gistsAnswers: totalByLabel(catalog.gistsAnswers),
    githubRequestDuration: histogram(catalog.githubRequestDuration),
    githubRateLimitRemaining: gauge(catalog.githubRateLimitRemaining),
    githubRateLimitLimit: gauge(catalog.githubRateLimitLimit),
    githubRateLimitReset: gauge(catalog.githubRateLimitReset),
    cacheHits: total(catalog.cacheHits),
    cacheMisses: total(catalog.cacheMisses),
    cacheEntries: gauge(catalog.cacheEntries),
    cacheBytes: gauge(catalog.cacheBytes),
    cacheMaxBytes: gauge(catalog.cacheMaxBytes),
    cacheStaleServed: total(catalog.cacheStaleServed),
    cacheEvictions: total(catalog.cacheEvictions),
    cacheCoalesced: total(catalog.cacheCoalesced),
    githubInFlight: gauge(catalog.githubInFlight),
    githubQueued: gauge(catalog.githubQueued),
    githubRetries: counter(catalog.githubRetries),
    githubRateLimited: _withKinds(counter(catalog.githubRateLimited)),
    githubRequestsLastMinute: gauge(catalog.githubRequestsLastMinute),
    githubRequestsPerMinuteLimit: gauge(catalog.githubRequestsPerMinuteLimit),
    githubConcurrencyLimit: gauge(catalog.githubConcurrencyLimit),
    githubBreakerState: gauge(catalog.githubBreakerState),
    clientRateLimited: counter(catalog.clientRateLimited),
    sharedCacheState: gauge(catalog.sharedCacheState),
    sharedCacheHits: total(catalog.sharedCacheHits),
    sharedCacheMisses: total(catalog.sharedCacheMisses),
    sharedCacheDropped: total(catalog.sharedCacheDropped),
    sharedCacheErrors: counter(catalog.sharedCacheErrors),
    sharedCacheFallbacks: counter(catalog.sharedCacheFallbacks),
    sharedCacheCommandDuration: histogram(catalog.sharedCacheCommandDuration),
    sharedCacheLeaseWaits: counter(catalog.sharedCacheLeaseWaits),
    /** The registry in the OpenMetrics text format: the one that carries exemplars (trace ids on durations). */
    async openMetrics(): Promise<string> {
      openMetrics ??= _openMetricsView(registry);
      return openMetrics.metrics();
    },
    /** Makes a gauge (or a counter kept elsewhere) report `read()` whenever Prometheus scrapes. */
    sample(spec: MetricSpec, read: () => number): void {
      samplers.set(spec.name, read);
    },
    /** Reads the parts of the service that keep their own counts and states, at every scrape: all of them, here. */
    watch(sources: ServiceSources): void {
      const sample = (spec: MetricSpec, read: () => number) => samplers.set(spec.name, read);
      sample(catalog.httpRequestsInFlight, sources.inFlight);
      sample(catalog.cacheEntries, () => sources.cache().size);
      sample(catalog.cacheBytes, () => sources.cache().bytes);
      sample(catalog.cacheMaxBytes, () => sources.cache().max_bytes);
      sample(catalog.cacheHits, () => sources.cache().hits);
      sample(catalog.cacheMisses, () => sources.cache().misses);
      sample(catalog.cacheStaleServed, () => sources.cache().stale_served);
      sample(catalog.cacheEvictions, () => sources.cache().evictions);
      sample(catalog.cacheCoalesced, () => sources.cache().coalesced);
      sample(catalog.githubInFlight, () => sources.limiter.active);
      sample(catalog.githubQueued, () => sources.limiter.queued);
      sample(catalog.githubConcurrencyLimit, () => sources.limiter.max);
      sample(catalog.githubRequestsLastMinute, () => sources.pace.lastMinute);
      sample(catalog.githubRequestsPerMinuteLimit, () => sources.pace.limit);
      sample(catalog.githubBreakerState, sources.breakerState);
      sample(catalog.sharedCacheState, () => sharedStates[sources.cache().shared.state]);
      sample(catalog.sharedCacheHits, () => sources.cache().shared.hits);
      sample(catalog.sharedCacheMisses, () => sources.cache().shared.misses);
      sample(catalog.sharedCacheDropped, () => sources.cache().shared.dropped);
      byLabel.set(catalog.gistsAnswers.name, sources.answers);
    },
  };
}

/** What `watch` reads: requests in flight, the cache's own stats (both tiers), the upstream's guards. */
export interface ServiceSources {
  inFlight(): number;
  cache(): CacheReadings;
  limiter: { readonly active: number; readonly queued: number; readonly max: number };
  /** The upstream's per-minute pace: requests sent in the last minute and the bound. */
  pace: { readonly lastMinute: number; readonly limit: number };
  /** The breaker state as the gauge numbers it. */
  breakerState(): number;
  /** Gists answers so far, by cost. */
  answers(): Readonly<Record<Cost, number>>;
}

/** The parts of `/cache/stats` the metrics mirror. */
export interface CacheReadings {
  size: number;
  bytes: number;
  max_bytes: number;
  hits: number;
  misses: number;
  stale_served: number;
  evictions: number;
  coalesced: number;
  shared: SharedTierStats;
}

// Both kinds from the start, so a dashboard sees 0 rather than no series before the first limit.
function _withKinds(counter: Counter<"kind">): Counter<"kind"> {
  for (const kind of rateLimitKinds) counter.labels(kind).inc(0);
  return counter;
}

// As `shared_cache_state` numbers them.
const sharedStates: Record<SharedTierStats["state"], number> = { off: 0, up: 1, down: 2 };

// prom-client prints OpenMetrics from a registry of that type, naming a counter's family without `_total` (and
// renaming the metric object to do so): a second registry of views keeps the Prometheus-format one untouched.
function _openMetricsView(source: Registry): Registry<OpenMetricsContentType> {
  const view = new Registry<OpenMetricsContentType>();
  view.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  for (const metric of source.getMetricsAsArray()) {
    const { type, help, get } = metric as unknown as { type: string; help: string; get(): Promise<object> };
    const name = type === "counter" ? metric.name.replace(/_total$/, "") : metric.name;
    const proxy = {
      name,
      help,
      type,
      aggregator: "sum",
      get: async () => ({ ...(await get.call(metric)), name }),
      reset: () => {},
    };
    view.registerMetric(proxy as unknown as Metric);
  }
  return view;
}

// Every combination of the values the catalog fixes for the counter's labels starts at 0.
function _zeroed<L extends string>(counter: Counter<L>, spec: MetricSpec<L>): Counter<L> {
  const { values } = spec;
  if (values === undefined) return counter;
  let combinations: string[][] = [[]];
  for (const label of spec.labels) combinations = combinations.flatMap((done) => values[label].map((value) => [...done, value]));
  for (const combination of combinations) counter.labels(...combination).inc(0);
  return counter;
}

function _collectProcessMetrics(registry: Registry): void {
  try {
    collectDefaultMetrics({ register: registry });
  } catch {
    // A runtime without some process probes still serves the service's own metrics.
  }
}
