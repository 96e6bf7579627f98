import { Elysia } from "elysia";
import type { Counter, Histogram } from "prom-client";
import type { Metrics } from "./registry.ts";

/** `GET /metrics`: the registry in Prometheus text format. */
export function metricsModule(metrics: Metrics) {
  return new Elysia({ name: "metrics" }).get(
    "/metrics",
    async () =>
      new Response(await metrics.registry.metrics(), {
        headers: { "content-type": metrics.registry.contentType },
      }),
    { detail: { summary: "Prometheus metrics", tags: ["operations"] } },
  );
}

/** Counts and times finished HTTP requests; label children are cached so the hot path does no label hashing. */
export type RequestRecorder = ReturnType<typeof createRequestRecorder>;

/** Creates the recorder of `http_requests_total` and `http_request_duration_seconds`. */
export function createRequestRecorder(metrics: Metrics) {
  const counters = new Map<string, ReturnType<Counter<string>["labels"]>>();
  const timers = new Map<string, ReturnType<Histogram<string>["labels"]>>();
  return {
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
