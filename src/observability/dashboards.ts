import { RowBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import { catalog } from "../metrics/catalog.ts";
import { breakerStates } from "../github/breaker.ts";
import { costPanels } from "./github-cost.ts";
import { dashboard, q, stat, timeseries } from "./panels.ts";
import { defaultObjectives, sliRecord, sloPeriod, sloRoute, unavailableStatus, type Objectives } from "./slo.ts";

/** A built dashboard, as Grafana's JSON model. */
export type DashboardJson = ReturnType<ReturnType<typeof dashboard>["build"]>;

/** Every dashboard of the service, keyed by its fixed uid (also its file name). */
export function buildDashboards(objectives: Objectives = defaultObjectives): Record<string, DashboardJson> {
  const boards = [service(), cacheAndUpstream(), slo(objectives), runtime()];
  return Object.fromEntries(boards.map((board) => [board.uid!, board]));
}

/** The dashboards as files: `<uid>.json` → pretty JSON, exactly as committed in grafana/dashboards/. */
export function renderDashboards(objectives: Objectives = defaultObjectives): Record<string, string> {
  return Object.fromEntries(Object.entries(buildDashboards(objectives)).map(([uid, board]) => [`${uid}.json`, `${JSON.stringify(board, null, 2)}\n`]));
}

const byRoute = "route";
const api = sloRoute;

function service(): DashboardJson {
  return dashboard("gists-api-service", "gists-api / Service", "Requests, errors and latency of the gists API (RED), by route.")
    .withRow(new RowBuilder("Traffic"))
    .withPanel(timeseries("Request rate by route", "reqps", [{ expr: q.sumRate(catalog.httpRequests, byRoute), legend: "{{route}}" }]))
    .withPanel(timeseries("Answers by status", "reqps", [{ expr: q.sumRate(catalog.httpRequests, "status"), legend: "{{status}}" }], { stack: true }))
    .withRow(new RowBuilder("Errors"))
    .withPanel(
      timeseries("Error ratio by route (5xx)", "percentunit", [{ expr: q.ratio(catalog.httpRequests, 'status=~"5.."', byRoute), legend: "{{route}}" }]),
    )
    .withPanel(
      timeseries("Unavailable ratio of GET /{username} (5xx and 429)", "percentunit", [
        { expr: q.ratio(catalog.httpRequests, unavailableStatus, undefined, api), legend: "unavailable" },
      ]),
    )
    .withRow(new RowBuilder("Latency"))
    .withPanel(
      timeseries(
        "Latency by route: p50, p95, p99",
        "s",
        [0.5, 0.95, 0.99].map((quantile) => ({
          expr: q.quantile(quantile, catalog.httpRequestDuration, byRoute),
          legend: `p${quantile * 100} {{route}}`,
          // The slowest requests' traces, one dot each (when the service is traced and Prometheus keeps exemplars).
          exemplar: quantile === 0.99,
        })),
        { span: 16 },
      ),
    )
    .withPanel(timeseries("Requests in flight", "short", [{ expr: `sum (${q.series(catalog.httpRequestsInFlight)})`, legend: "in flight" }], { span: 8 }))
    .build();
}

function cacheAndUpstream(): DashboardJson {
  const cacheRate = (spec: typeof catalog.cacheHits) => `sum (${q.rate(spec)})`;
  const answered = `(${cacheRate(catalog.cacheHits)} + ${cacheRate(catalog.cacheStaleServed)} + ${cacheRate(catalog.cacheMisses)})`;
  const board = dashboard("gists-api-cache", "gists-api / Cache & upstream", "The cache in front of GitHub and what reaches GitHub.")
    .withRow(new RowBuilder("Cache"))
    .withPanel(
      timeseries(
        "Hit, stale and miss ratio",
        "percentunit",
        [
          { expr: `${cacheRate(catalog.cacheHits)} / ${answered}`, legend: "hit" },
          { expr: `${cacheRate(catalog.cacheStaleServed)} / ${answered}`, legend: "stale" },
          { expr: `${cacheRate(catalog.cacheMisses)} / ${answered}`, legend: "miss" },
        ],
        { stack: true, span: 8 },
      ),
    )
    .withPanel(
      timeseries(
        "Cache bytes and bound",
        "bytes",
        [
          { expr: `sum by (pod) (${q.series(catalog.cacheBytes)})`, legend: "{{pod}} held" },
          { expr: `max (${q.series(catalog.cacheMaxBytes)})`, legend: "bound" },
        ],
        { span: 8 },
      ),
    )
    .withPanel(timeseries("Cache entries", "short", [{ expr: `sum by (pod) (${q.series(catalog.cacheEntries)})`, legend: "{{pod}}" }], { span: 8 }))
    .withPanel(
      timeseries("Evictions and coalesced requests", "ops", [
        { expr: `sum (${q.rate(catalog.cacheEvictions)})`, legend: "evicted" },
        { expr: `sum (${q.rate(catalog.cacheCoalesced)})`, legend: "coalesced" },
      ]),
    )
    .withPanel(
      timeseries("Answers from cache vs GitHub", "reqps", [
        { expr: cacheRate(catalog.cacheHits), legend: "fresh copy" },
        { expr: cacheRate(catalog.cacheStaleServed), legend: "stale copy" },
        { expr: cacheRate(catalog.cacheMisses), legend: "asked GitHub" },
      ]),
    )
    .withRow(new RowBuilder("Shared tier (Redis)"))
    .withPanel(
      stat(
        "Shared tier",
        "none",
        { expr: `max (${q.series(catalog.sharedCacheState)})` },
        {
          span: 4,
          description: "off: REDIS_URL unset; down on any pod: that pod answers from its local tier alone.",
          mappings: { "0": "off", "1": "up", "2": "down" },
        },
      ),
    )
    .withPanel(
      timeseries(
        "Shared tier reads",
        "reqps",
        [
          { expr: `sum (${q.rate(catalog.sharedCacheHits)})`, legend: "found" },
          { expr: `sum (${q.rate(catalog.sharedCacheMisses)})`, legend: "not found" },
          { expr: `sum (${q.rate(catalog.sharedCacheDropped)})`, legend: "unreadable, dropped" },
        ],
        { span: 10 },
      ),
    )
    .withPanel(
      timeseries(
        "Redis command latency p99 by operation",
        "s",
        [{ expr: q.quantile(0.99, catalog.sharedCacheCommandDuration, "operation"), legend: "{{operation}}" }],
        { span: 10 },
      ),
    )
    .withPanel(
      timeseries(
        "Redis errors and fallbacks by operation",
        "reqps",
        [
          { expr: q.sumRate(catalog.sharedCacheErrors, "operation"), legend: "error {{operation}}" },
          { expr: q.sumRate(catalog.sharedCacheFallbacks, "operation"), legend: "fallback {{operation}}" },
        ],
        { span: 12 },
      ),
    )
    .withPanel(
      timeseries("Waits for another replica's load", "reqps", [{ expr: q.sumRate(catalog.sharedCacheLeaseWaits, "outcome"), legend: "{{outcome}}" }], {
        span: 12,
        description: "filled: served by the replica holding the lease; failed or timeout: the waiter asked GitHub itself.",
      }),
    )
    .withRow(new RowBuilder("GitHub"))
    .withPanel(
      timeseries(
        "GitHub requests by status (304 = revalidated for free)",
        "reqps",
        [{ expr: q.sumRate(catalog.githubRequests, "status"), legend: "{{status}}" }],
        { stack: true },
      ),
    )
    .withPanel(
      timeseries(
        "GitHub latency: p50, p95, p99",
        "s",
        [0.5, 0.95, 0.99].map((quantile) => ({ expr: q.quantile(quantile, catalog.githubRequestDuration), legend: `p${quantile * 100}` })),
      ),
    )
    .withPanel(
      timeseries(
        "GitHub requests in flight and queued",
        "short",
        [
          { expr: `sum (${q.series(catalog.githubInFlight)})`, legend: "in flight" },
          { expr: `sum (${q.series(catalog.githubQueued)})`, legend: "queued" },
          { expr: `sum (${q.rate(catalog.githubRetries)})`, legend: "retries/s" },
        ],
        { span: 8 },
      ),
    )
    .withPanel(
      timeseries(
        "Rate limit remaining",
        "short",
        [
          { expr: `min (${q.series(catalog.githubRateLimitRemaining)})`, legend: "remaining" },
          { expr: `max (${q.series(catalog.githubRateLimitLimit)})`, legend: "window" },
        ],
        { span: 8 },
      ),
    )
    .withPanel(
      timeseries("Time to rate-limit reset", "s", [{ expr: `max (${q.series(catalog.githubRateLimitReset)}) - time()`, legend: "seconds to reset" }], {
        span: 8,
      }),
    )
    .withPanel(
      stat(
        "Circuit breaker",
        "none",
        { expr: `max (${q.series(catalog.githubBreakerState)})` },
        {
          span: 8,
          mappings: Object.fromEntries(Object.entries(breakerStates).map(([name, value]) => [String(value), name])),
        },
      ),
    )
    .withPanel(
      timeseries("Clients refused by the per-client rate limit", "reqps", [{ expr: `sum (${q.rate(catalog.clientRateLimited)})`, legend: "refused" }], {
        span: 16,
      }),
    )
    .withRow(new RowBuilder("What answers cost GitHub"));
  for (const panel of costPanels()) board.withPanel(panel);
  return board.build();
}

function slo(objectives: Objectives): DashboardJson {
  const availabilityBudget = 1 - objectives.availability;
  const latencyBudget = 1 - objectives.latency;
  const sliOverRange = (part: string, all: string) => `1 - (${part} / ${all})`;
  const total = (range: string) => `sum (increase(${q.selector(catalog.httpRequests.name, api)}[${range}]))`;
  const failed = (range: string) => `sum (increase(${q.selector(catalog.httpRequests.name, `${api}, ${unavailableStatus}`)}[${range}]))`;
  const fast = (range: string) =>
    `sum (increase(${q.selector(`${catalog.httpRequestDuration.name}_bucket`, `${api}, le="${objectives.latencySeconds}"`)}[${range}]))`;
  const timed = (range: string) => `sum (increase(${q.selector(`${catalog.httpRequestDuration.name}_count`, api)}[${range}]))`;
  const availability = (range: string) => sliOverRange(failed(range), total(range));
  const latency = (range: string) => `${fast(range)} / ${timed(range)}`;
  // The SLIs follow the dashboard's time range; the budget is the SLO period's, whatever range is shown.
  const shown = "$__range";
  // The SLI recording rules are kept per namespace and job (the SLO is the service's, not a pod's): no pod matcher.
  const burn = (record: (window: string) => string, budget: number) =>
    ["5m", "1h", "6h", "1d"].map((window) => ({
      expr: `max (${record(window)}{namespace=~"$namespace", job=~"$job"}) / ${Number(budget.toPrecision(6))}`,
      legend: window,
    }));
  return dashboard(
    "gists-api-slo",
    "gists-api / SLO",
    `Availability (${objectives.availability * 100}%) and latency (${objectives.latency * 100}% under ${objectives.latencySeconds}s) of GET /{username}.`,
  )
    .withRow(new RowBuilder("Objectives over the dashboard's time range"))
    .withPanel(stat("Availability SLI", "percentunit", { expr: availability(shown) }, { description: `Objective ${objectives.availability * 100}%` }))
    .withPanel(
      stat(
        `Latency SLI (under ${objectives.latencySeconds}s)`,
        "percentunit",
        { expr: latency(shown) },
        { description: `Objective ${objectives.latency * 100}%` },
      ),
    )
    .withRow(new RowBuilder(`Error budget left over the SLO period (${sloPeriod})`))
    .withPanel(
      stat("Availability error budget left", "percentunit", {
        expr: `1 - ((1 - (${availability(sloPeriod)})) / ${Number(availabilityBudget.toPrecision(6))})`,
      }),
    )
    .withPanel(stat("Latency error budget left", "percentunit", { expr: `1 - ((1 - (${latency(sloPeriod)})) / ${Number(latencyBudget.toPrecision(6))})` }))
    .withRow(new RowBuilder("Burn rates (1 = spending the budget exactly over the SLO period)"))
    .withPanel(timeseries("Availability burn rate", "short", burn(sliRecord.availability, availabilityBudget)))
    .withPanel(timeseries("Latency burn rate", "short", burn(sliRecord.latency, latencyBudget)))
    .build();
}

function runtime(): DashboardJson {
  const perPod = (name: string) => `sum by (pod) (${q.series(name)})`;
  return (
    dashboard("gists-api-runtime", "gists-api / Runtime & platform", "The process, its pods and the mesh around it.")
      .withRow(new RowBuilder("Process"))
      .withPanel(
        timeseries("CPU", "percentunit", [{ expr: `sum by (pod) (rate(${q.series("process_cpu_seconds_total")}[$__rate_interval]))`, legend: "{{pod}}" }], {
          span: 8,
        }),
      )
      .withPanel(timeseries("Resident memory", "bytes", [{ expr: perPod("process_resident_memory_bytes"), legend: "{{pod}}" }], { span: 8 }))
      .withPanel(
        timeseries(
          "Heap",
          "bytes",
          [
            { expr: perPod("nodejs_heap_size_used_bytes"), legend: "{{pod}} used" },
            { expr: perPod("nodejs_heap_size_total_bytes"), legend: "{{pod}} total" },
          ],
          { span: 8 },
        ),
      )
      .withPanel(
        timeseries("Event-loop lag p99", "s", [{ expr: `max by (pod) (${q.series("nodejs_eventloop_lag_p99_seconds")})`, legend: "{{pod}}" }], { span: 8 }),
      )
      .withPanel(timeseries("Open file descriptors", "short", [{ expr: perPod("process_open_fds"), legend: "{{pod}}" }], { span: 8 }))
      .withPanel(timeseries("Scrape targets up", "short", [{ expr: `sum (up{job=~"$job", namespace=~"$namespace"})`, legend: "up" }], { span: 8 }))
      // kube-state-metrics and Envoy scrape under jobs of their own: the pods the job variable chose pick them out.
      .withRow(new RowBuilder("Kubernetes and Istio (when present)"))
      .withPanel(
        timeseries("Pod restarts", "short", [
          {
            expr: `sum by (pod) (increase(kube_pod_container_status_restarts_total{namespace=~"$namespace", pod=~"$pod", container="gists-api"}[1h]))`,
            legend: "{{pod}}",
          },
        ]),
      )
      .withPanel(
        timeseries("Istio requests to gists-api by response code", "reqps", [
          {
            expr: `sum by (response_code) (rate(istio_requests_total{reporter="destination", namespace=~"$namespace", pod=~"$pod"}[$__rate_interval]))`,
            legend: "{{response_code}}",
          },
        ]),
      )
      .build()
  );
}
