/** The single list of the service's metrics: the registry, dashboards and alerts are all built from it. */
export type MetricType = "counter" | "gauge" | "histogram";

/** One metric: its Prometheus name, type, help text, labels and (for histograms) buckets. */
export interface MetricSpec<L extends string = string> {
  name: string;
  type: MetricType;
  help: string;
  labels: readonly L[];
  buckets?: readonly number[];
  /** Every value of each label, when the set is fixed: each combination is exported from the start, at 0. */
  values?: Readonly<Record<L, readonly string[]>>;
}

/** Why the service asked GitHub for a page (`reason` of github_api_calls_total). */
export const githubCallReasons = ["cold_miss", "refresh_changed", "refresh_not_modified", "complete_list", "bypass"] as const;

/** What a GitHub call, or an answer, cost GitHub's rate limit (`cost`). */
export const costs = ["charged", "free"] as const;

/** A reason of github_api_calls_total. */
export type GithubCallReason = (typeof githubCallReasons)[number];

/** A cost of github_api_calls_total and gists_answers_total. */
export type Cost = (typeof costs)[number];

const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

function define<L extends string>(spec: MetricSpec<L>): MetricSpec<L> {
  return spec;
}

/** Every metric the service registers, keyed by the name code uses for it. */
export const catalog = {
  httpRequests: define({
    name: "http_requests_total",
    type: "counter",
    help: "HTTP requests answered, by method, route template and status code.",
    labels: ["method", "route", "status"],
  }),
  httpRequestDuration: define({
    name: "http_request_duration_seconds",
    type: "histogram",
    help: "Time from receiving a request to having its response, by method and route template.",
    labels: ["method", "route"],
    buckets: latencyBuckets,
  }),
  httpRequestsInFlight: define({
    name: "http_requests_in_flight",
    type: "gauge",
    help: "HTTP requests being handled right now.",
    labels: [],
  }),
  githubRequests: define({
    name: "github_api_requests_total",
    type: "counter",
    help: "Requests sent to the GitHub API, by response status (timeout and error for no response).",
    labels: ["status"],
  }),
  githubCalls: define({
    name: "github_api_calls_total",
    type: "counter",
    help:
      "GitHub calls that got an answer (200, 304 or 404; retries within a call not counted again), by reason (cold_miss: nothing held; " +
      "refresh_changed: a held copy, GitHub sent a full answer; refresh_not_modified: a held copy, GitHub said 304; complete_list: a page of all=true; " +
      "bypass: use_cache=false) and cost (charged to the rate limit; free: a 304 to a GITHUB_TOKEN).",
    labels: ["reason", "cost"],
    values: { reason: githubCallReasons, cost: costs },
  }),
  gistsAnswers: define({
    name: "gists_answers_total",
    type: "counter",
    help:
      "Answers of GET /{username} (200, 304 and 404) by cost: charged when the request's own GitHub calls included one charged to the rate limit; " +
      "free for a fresh or stale copy, a wait for another request's call, or a 304 to a GITHUB_TOKEN.",
    labels: ["cost"],
    values: { cost: costs },
  }),
  githubRequestDuration: define({
    name: "github_api_request_duration_seconds",
    type: "histogram",
    help: "Time GitHub took to answer one request.",
    labels: [],
    buckets: latencyBuckets,
  }),
  githubRateLimitRemaining: define({
    name: "github_rate_limit_remaining",
    type: "gauge",
    help: "Requests left in GitHub's current rate-limit window, from the last x-ratelimit-remaining header.",
    labels: [],
  }),
  githubRateLimitLimit: define({
    name: "github_rate_limit_limit",
    type: "gauge",
    help: "Size of GitHub's rate-limit window, from the last x-ratelimit-limit header.",
    labels: [],
  }),
  githubRateLimitReset: define({
    name: "github_rate_limit_reset_timestamp_seconds",
    type: "gauge",
    help: "Unix time at which GitHub's rate-limit window resets, from the last x-ratelimit-reset header.",
    labels: [],
  }),
  cacheHits: define({
    name: "cache_hits_total",
    type: "counter",
    help: "Gists requests answered from the cache.",
    labels: [],
  }),
  cacheMisses: define({
    name: "cache_misses_total",
    type: "counter",
    help: "Gists requests that waited for GitHub (those that joined another request's fetch, counted as coalesced, included).",
    labels: [],
  }),
  cacheEntries: define({
    name: "cache_entries",
    type: "gauge",
    help: "Entries (pages, complete lists, 404s) held in the cache.",
    labels: [],
  }),
  cacheBytes: define({
    name: "cache_bytes",
    type: "gauge",
    help: "Bytes of stored answers held in the cache.",
    labels: [],
  }),
  cacheMaxBytes: define({
    name: "cache_max_bytes",
    type: "gauge",
    help: "The cache's byte bound (CACHE_MAX_BYTES).",
    labels: [],
  }),
  cacheStaleServed: define({
    name: "cache_stale_served_total",
    type: "counter",
    help: "Answers given from a stale copy (while refreshing, or because GitHub failed).",
    labels: [],
  }),
  cacheEvictions: define({
    name: "cache_evictions_total",
    type: "counter",
    help: "Entries evicted to keep the cache within its entry and byte bounds.",
    labels: [],
  }),
  cacheCoalesced: define({
    name: "cache_coalesced_total",
    type: "counter",
    help: "Requests that waited for an upstream request already in flight instead of sending their own.",
    labels: [],
  }),
  githubInFlight: define({
    name: "github_api_requests_in_flight",
    type: "gauge",
    help: "Requests to GitHub in flight (bounded by UPSTREAM_MAX_CONCURRENCY).",
    labels: [],
  }),
  githubQueued: define({
    name: "github_api_requests_queued",
    type: "gauge",
    help: "Requests waiting for an upstream slot.",
    labels: [],
  }),
  githubRateLimited: define({
    name: "github_rate_limited_total",
    type: "counter",
    help: "GitHub answers that were a rate limit, by kind: primary (the hourly window spent) or secondary.",
    labels: ["kind"],
  }),
  githubRequestsLastMinute: define({
    name: "github_api_requests_last_minute",
    type: "gauge",
    help: "Requests this replica sent to GitHub in the last minute (GitHub allows 900 points a minute per REST endpoint, a GET being 1).",
    labels: [],
  }),
  githubRequestsPerMinuteLimit: define({
    name: "github_api_requests_per_minute_limit",
    type: "gauge",
    help: "Most requests this replica sends to GitHub in a minute (UPSTREAM_MAX_PER_MINUTE; 0: not paced).",
    labels: [],
  }),
  githubConcurrencyLimit: define({
    name: "github_api_requests_in_flight_limit",
    type: "gauge",
    help: "Most requests this replica has in flight to GitHub (UPSTREAM_MAX_CONCURRENCY; GitHub allows 100).",
    labels: [],
  }),
  githubRetries: define({
    name: "github_api_retries_total",
    type: "counter",
    help: "GitHub requests sent again after a connection error or 5xx.",
    labels: [],
  }),
  githubBreakerState: define({
    name: "github_circuit_breaker_state",
    type: "gauge",
    help: "The GitHub circuit breaker: 0 closed, 1 half-open, 2 open.",
    labels: [],
  }),
  sharedCacheState: define({
    name: "shared_cache_state",
    type: "gauge",
    help: "The shared cache tier on Redis: 0 off (REDIS_URL unset), 1 up, 2 down (unreachable, failing or silent to the heartbeat: the local tier answers alone).",
    labels: [],
  }),
  sharedCacheHits: define({
    name: "shared_cache_hits_total",
    type: "counter",
    help: "Reads of the shared tier that found a copy (stored by any replica).",
    labels: [],
  }),
  sharedCacheMisses: define({
    name: "shared_cache_misses_total",
    type: "counter",
    help: "Reads of the shared tier that found nothing.",
    labels: [],
  }),
  sharedCacheDropped: define({
    name: "shared_cache_dropped_total",
    type: "counter",
    help: "Shared-tier entries that could not be read (corrupt or of another format) and were removed, never served.",
    labels: [],
  }),
  sharedCacheErrors: define({
    name: "shared_cache_errors_total",
    type: "counter",
    help: "Redis commands that failed or timed out, by operation.",
    labels: ["operation"],
  }),
  sharedCacheFallbacks: define({
    name: "shared_cache_fallbacks_total",
    type: "counter",
    help: "Redis commands not sent or failed, by operation: each time the replica went on with its local tier and its own view of GitHub's budget.",
    labels: ["operation"],
  }),
  sharedCacheCommandDuration: define({
    name: "shared_cache_command_duration_seconds",
    type: "histogram",
    help: "Time one Redis command took, by operation.",
    labels: ["operation"],
    buckets: latencyBuckets,
  }),
  sharedCacheLeaseWaits: define({
    name: "shared_cache_lease_waits_total",
    type: "counter",
    help: "Waits for another replica's load of the same page, by outcome (filled, failed, timeout).",
    labels: ["outcome"],
  }),
  clientRateLimited: define({
    name: "client_rate_limited_total",
    type: "counter",
    help: "Requests refused by the per-client rate limit.",
    labels: [],
  }),
} as const;

/** The metric keys of the catalog. */
export type MetricKey = keyof typeof catalog;

/** Labels the service's metrics may carry: each has a small, fixed set of values (never a username or path). */
export const boundedLabels = new Set(["method", "route", "status", "operation", "outcome", "reason", "cost", "kind"]);

/** Labels Prometheus and Kubernetes service discovery add to every scraped series. */
export const targetLabels = ["job", "instance", "namespace", "pod", "container", "service", "endpoint"] as const;

/** Metrics the dashboards and alerts read that the service does not define: runtime, Prometheus, Kubernetes, Istio. */
export const externalMetrics: Record<string, { type: MetricType; labels: readonly string[]; source: string }> = {
  up: { type: "gauge", labels: [], source: "Prometheus" },
  process_cpu_seconds_total: { type: "counter", labels: [], source: "runtime (prom-client)" },
  process_resident_memory_bytes: { type: "gauge", labels: [], source: "runtime (prom-client)" },
  process_open_fds: { type: "gauge", labels: [], source: "runtime (prom-client)" },
  process_max_fds: { type: "gauge", labels: [], source: "runtime (prom-client)" },
  nodejs_heap_size_used_bytes: { type: "gauge", labels: [], source: "runtime (prom-client)" },
  nodejs_heap_size_total_bytes: { type: "gauge", labels: [], source: "runtime (prom-client)" },
  nodejs_external_memory_bytes: { type: "gauge", labels: [], source: "runtime (prom-client)" },
  nodejs_eventloop_lag_p99_seconds: { type: "gauge", labels: [], source: "runtime (prom-client)" },
  kube_pod_container_status_restarts_total: { type: "counter", labels: ["namespace", "pod", "container"], source: "kube-state-metrics" },
  kube_pod_container_status_waiting_reason: { type: "gauge", labels: ["namespace", "pod", "container", "reason"], source: "kube-state-metrics" },
  istio_requests_total: {
    type: "counter",
    labels: ["reporter", "destination_workload", "destination_workload_namespace", "response_code", "source_workload"],
    source: "Istio",
  },
};
