import { Elysia } from "elysia";
import type { HotCounterChild, HotHistogramChild } from "./hot.ts";
import type { Metrics } from "./registry.ts";

/** `GET /metrics`: the registry in Prometheus text format. */
export function metricsModule(metrics: Metrics) {
  return new Elysia({ name: "metrics" }).get(
    "/metrics",
    async () =>
      new Response(await metrics.registry.metrics(), {
        headers: { "content-type": metrics.registry.contentType },
      }),
    {
      detail: {
        summary: "Prometheus metrics",
        description: "The catalog's metrics (src/metrics/catalog.ts) and the runtime's process metrics, in Prometheus text format.",
        tags: ["operations"],
        responses: { 200: { description: "Prometheus text exposition format", content: { "text/plain": { schema: { type: "string" } } } } },
      },
    },
  );
}

/** Counts and times finished HTTP requests; children are found by one map lookup. */
export type RequestRecorder = ReturnType<typeof createRequestRecorder>;

/** Creates the recorder of `http_requests_total` and `http_request_duration_seconds`. */
export function createRequestRecorder(metrics: Metrics) {
  const counters = new Map<string, HotCounterChild>();
  const timers = new Map<string, HotHistogramChild>();
  return {
    /** A recorder fixed to one method, route and status, for the path that answers most requests. */
    bind(method: string, route: string, status: number): (seconds: number) => void {
      const counter = metrics.httpRequests.labels(method, route, String(status));
      const timer = metrics.httpRequestDuration.labels(method, route);
      return (seconds) => {
        counter.inc();
        timer.observe(seconds);
      };
    },
    /** Records one answered request. */
    record(method: string, route: string, status: number, seconds: number): void {
      const routeKey = `${method} ${route}`;
      const countKey = `${routeKey} ${status}`;
      let counter = counters.get(countKey);
      if (!counter) {
        counter = metrics.httpRequests.labels(method, route, String(status));
        counters.set(countKey, counter);
      }
      let timer = timers.get(routeKey);
      if (!timer) {
        timer = metrics.httpRequestDuration.labels(method, route);
        timers.set(routeKey, timer);
      }
      counter.inc();
      timer.observe(seconds);
    },
  };
}
