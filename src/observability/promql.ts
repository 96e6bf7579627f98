import type { MetricSpec } from "../metrics/catalog.ts";

/** Builds PromQL over the catalog's metrics with one base selector, so no query names a metric by hand. */
export type Queries = ReturnType<typeof createQueries>;

/**
 * Creates query helpers. `base` holds the matchers every series is selected by (dashboard variables, or the
 * alerting job); `window` is the range of rates (`$__rate_interval` in dashboards).
 */
export function createQueries(base: string, window: string) {
  const selector = (name: string, extra?: string) => `${name}{${[base, extra].filter(Boolean).join(", ")}}`;
  const rate = (spec: MetricSpec, extra?: string, range = window) => `rate(${selector(spec.name, extra)}[${range}])`;
  const sumRate = (spec: MetricSpec, by?: string, extra?: string, range = window) => `sum${by ? ` by (${by})` : ""} (${rate(spec, extra, range)})`;
  return {
    base,
    window,
    /** `name{base, extra}`. */
    selector,
    /** A gauge or counter selected by the base matchers. */
    series: (spec: MetricSpec | string, extra?: string) => selector(typeof spec === "string" ? spec : spec.name, extra),
    /** `rate(counter[window])`. */
    rate,
    /** `sum by (labels) (rate(counter[window]))`. */
    sumRate,
    /** The `q` quantile of a histogram over `window`, kept apart by `by`. */
    quantile: (q: number, spec: MetricSpec, by?: string, extra?: string, range = window) =>
      `histogram_quantile(${q}, sum by (${["le", by].filter(Boolean).join(", ")}) (rate(${selector(`${spec.name}_bucket`, extra)}[${range}])))`,
    /** Share of a counter's rate matching `part` among all of it. */
    ratio: (spec: MetricSpec, part: string, by?: string, extra?: string, range = window) =>
      `${sumRate(spec, by, [extra, part].filter(Boolean).join(", "), range)} / ${sumRate(spec, by, extra, range)}`,
  };
}
