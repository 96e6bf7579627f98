import type { Metric, Registry } from "prom-client";
import type { MetricSpec } from "./catalog.ts";

// prom-client hashes the label set on every inc/observe, even on a child from labels(); on a path that
// answers in microseconds that is a large share. These instruments keep plain numbers per label set,
// found by one map lookup, and hand prom-client the totals only when Prometheus scrapes.

interface Series {
  labels: Record<string, string>;
}

/** A counter child: `inc()` adds one. */
export interface HotCounterChild {
  inc(): void;
}

/** A histogram child: `observe(seconds)` records one value; a trace id makes it its bucket's exemplar. */
export interface HotHistogramChild {
  observe(value: number, traceId?: string): void;
}

// The latest traced observation of a bucket, shown to OpenMetrics scrapes as `# {trace_id="..."} value time`.
interface Exemplar {
  traceId: string;
  value: number;
  /** Epoch seconds. */
  at: number;
}

/** Registers a counter whose children are looked up once and then incremented as plain numbers. */
export function createHotCounter(spec: MetricSpec, registry: Registry) {
  const series = new Map<string, Series & { value: number }>();
  _register(registry, spec, "counter", () => [...series.values()].map((entry) => ({ labels: entry.labels, value: entry.value })));
  return {
    /** The child for these label values (in the catalog's label order). */
    labels(...values: string[]): HotCounterChild {
      const key = values.join("\u0000");
      let entry = series.get(key);
      if (!entry) {
        entry = { labels: _labelsOf(spec, values), value: 0 };
        series.set(key, entry);
      }
      const target = entry;
      return {
        inc: () => {
          target.value++;
        },
      };
    },
  };
}

/** Registers a histogram whose children keep bucket counts in a typed array. */
export function createHotHistogram(spec: MetricSpec, registry: Registry) {
  const bounds = [...(spec.buckets ?? [])];
  const series = new Map<string, Series & { counts: Float64Array; sum: number; count: number; exemplars?: (Exemplar | undefined)[] }>();
  _register(registry, spec, "histogram", () => {
    const values: { labels: Record<string, string | number>; value: number; metricName: string; exemplar?: unknown }[] = [];
    for (const entry of series.values()) {
      let cumulative = 0;
      bounds.forEach((bound, index) => {
        cumulative += entry.counts[index] ?? 0;
        values.push({
          labels: { ...entry.labels, le: bound },
          value: cumulative,
          metricName: `${spec.name}_bucket`,
          exemplar: _exemplar(entry.exemplars?.[index]),
        });
      });
      values.push({
        labels: { ...entry.labels, le: "+Inf" },
        value: entry.count,
        metricName: `${spec.name}_bucket`,
        exemplar: _exemplar(entry.exemplars?.[bounds.length]),
      });
      values.push({ labels: entry.labels, value: entry.sum, metricName: `${spec.name}_sum` });
      values.push({ labels: entry.labels, value: entry.count, metricName: `${spec.name}_count` });
    }
    return values;
  });
  return {
    /** The child for these label values (in the catalog's label order). */
    labels(...values: string[]): HotHistogramChild {
      const key = values.join("\u0000");
      let entry = series.get(key);
      if (!entry) {
        entry = { labels: _labelsOf(spec, values), counts: new Float64Array(bounds.length), sum: 0, count: 0 };
        series.set(key, entry);
      }
      const target = entry;
      return {
        observe: (value: number, traceId?: string) => {
          let index = 0;
          while (index < bounds.length && value > bounds[index]!) index++;
          if (index < bounds.length) target.counts[index]!++;
          target.sum += value;
          target.count++;
          if (traceId !== undefined) (target.exemplars ??= [])[index] = { traceId, value, at: Date.now() / 1000 };
        },
      };
    },
  };
}

// prom-client's shape of an exemplar (printed only in the OpenMetrics format).
function _exemplar(exemplar: Exemplar | undefined) {
  return exemplar && { labelSet: { trace_id: exemplar.traceId }, value: exemplar.value, timestamp: exemplar.at };
}

function _labelsOf(spec: MetricSpec, values: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  spec.labels.forEach((name, index) => {
    labels[name] = values[index] ?? "";
  });
  return labels;
}

function _register(registry: Registry, spec: MetricSpec, type: "counter" | "histogram", values: () => unknown[]): void {
  const metric = {
    name: spec.name,
    help: spec.help,
    type,
    aggregator: "sum",
    get: async () => ({ name: spec.name, help: spec.help, type, aggregator: "sum", values: values() }),
    reset: () => {},
  };
  registry.registerMetric(metric as unknown as Metric);
}
