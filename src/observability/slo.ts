import { catalog } from "../metrics/catalog.ts";

/** What the SLOs measure: the gists route, the product's one public operation. */
export const sloRoute = 'route="/:username"';

/** Answers that count against availability: server errors, and 429s (GitHub's limit reached the user). */
export const unavailableStatus = 'status=~"5..|429"';

/** The two objectives the alerts defend, as set by `export alerts` flags. */
export interface Objectives {
  /** Share of gists answers that must be available, e.g. 0.999. */
  availability: number;
  /** Share of gists answers that must be faster than `latencySeconds`, e.g. 0.99. */
  latency: number;
  /** The latency threshold; must be a bucket of http_request_duration_seconds. */
  latencySeconds: number;
}

/** The defaults: 99.9 % available, 99 % under 250 ms. */
export const defaultObjectives: Objectives = { availability: 0.999, latency: 0.99, latencySeconds: 0.25 };

/** The period the objectives hold over: a burn rate of 1 spends the error budget in exactly this long. */
export const sloPeriod = "30d";

/** Multi-window multi-burn-rate pairs (Google SRE workbook): both windows must burn faster than `factor`. */
export const burnRatePairs = [
  { severity: "critical", factor: 14.4, long: "1h", short: "5m" },
  { severity: "critical", factor: 6, long: "6h", short: "30m" },
  { severity: "warning", factor: 3, long: "1d", short: "2h" },
  { severity: "warning", factor: 1, long: "3d", short: "6h" },
] as const;

/** Every window a recording rule is kept for. */
export const sloWindows = [...new Set(burnRatePairs.flatMap((pair) => [pair.short, pair.long]))];

/** Names of the SLI recording rules, one per window. */
export const sliRecord = {
  availability: (window: string) => `gists_api:availability_errors:ratio_rate${window}`,
  latency: (window: string) => `gists_api:latency_slow:ratio_rate${window}`,
};

/** Throws when an objective or threshold cannot be alerted on. */
export function checkObjectives(objectives: Objectives): void {
  for (const [name, value] of [
    ["availability", objectives.availability],
    ["latency", objectives.latency],
  ] as const) {
    if (!(value > 0 && value < 1)) throw new Error(`the ${name} objective must be between 0 and 1 (e.g. 0.999), got ${value}`);
  }
  const buckets = catalog.httpRequestDuration.buckets ?? [];
  if (!buckets.includes(objectives.latencySeconds)) {
    throw new Error(`the latency threshold must be one of the histogram's buckets (${buckets.join(", ")}), got ${objectives.latencySeconds}`);
  }
}
