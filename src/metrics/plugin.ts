import { Elysia } from "elysia";
import type { HotCounterChild, HotHistogramChild } from "./hot.ts";
import type { Metrics } from "./registry.ts";

/** Where Prometheus scrapes. */
export const metricsPath = "/metrics";

/** The media type of the OpenMetrics text format, which Prometheus asks for first and which carries exemplars. */
const openMetricsType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/** `GET /metrics`: the registry in Prometheus text format, or OpenMetrics (with exemplars) to a scraper asking for it. */
export function metricsModule(metrics: Metrics) {
  return new Elysia({ name: "metrics" }).get(
    metricsPath,
    async ({ request }) => {
      if (request.headers.get("accept")?.includes("application/openmetrics-text")) {
        return new Response(await metrics.openMetrics(), { headers: { "content-type": openMetricsType } });
      }
      return new Response(await metrics.registry.metrics(), {
        headers: { "content-type": metrics.registry.contentType },
      });
    },
    {
      detail: {
        summary: "Prometheus metrics",
        description:
          "The catalog's metrics (src/metrics/catalog.ts) and the runtime's process metrics, in Prometheus text format; in OpenMetrics (with trace ids as exemplars on request durations) when `Accept` asks for `application/openmetrics-text`.",
        tags: ["operations"],
        responses: {
          200: {
            description: "Prometheus text exposition format, or OpenMetrics",
            content: { "text/plain": { schema: { type: "string" } }, "application/openmetrics-text": { schema: { type: "string" } } },
          },
        },
      },
    },
  );
}

/** Counts and times finished HTTP requests; children are found by one map lookup. */
export type RequestRecorder = ReturnType<typeof createRequestRecorder>;

/** Creates the recorder of `http_requests_total` and `http_request_duration_seconds`. */
export function createRequestRecorder(metrics: Metrics) {
  // method → route → the route's timer and its counters by status: lookups without building a key string.
  const byMethod = new Map<string, Map<string, { timer: HotHistogramChild; counters: Map<number, HotCounterChild> }>>();
  // The children of the last answer recorded: a run of cache hits asks for the same ones every time.
  let last = { method: "", route: "", status: 0, timer: undefined as HotHistogramChild | undefined, counter: undefined as HotCounterChild | undefined };
  return {
    /** Records one answered request; a sampled one's trace id becomes the duration's exemplar. */
    record(method: string, route: string, status: number, seconds: number, traceId?: string): void {
      if (status !== last.status || route !== last.route || method !== last.method) {
        let routes = byMethod.get(method);
        if (!routes) byMethod.set(method, (routes = new Map()));
        let children = routes.get(route);
        if (!children) routes.set(route, (children = { timer: metrics.httpRequestDuration.labels(method, route), counters: new Map() }));
        let counter = children.counters.get(status);
        if (!counter) children.counters.set(status, (counter = metrics.httpRequests.labels(method, route, String(status))));
        last = { method, route, status, timer: children.timer, counter };
      }
      last.counter!.inc();
      last.timer!.observe(seconds, traceId);
    },
  };
}
