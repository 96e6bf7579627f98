import * as hdr from "hdr-histogram-js";

/** Latency percentiles of a run, in milliseconds. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** An HDR histogram of latencies in microseconds (1 µs to 120 s, 3 significant digits). */
export function latencyHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
}

/** The percentiles of `histogram` (microseconds) in milliseconds; none is above the largest latency recorded. */
export function latencySummary(histogram: hdr.Histogram): LatencySummary {
  if (histogram.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  const max = histogram.maxValue;
  // A percentile is reported as the top of its bucket, which can lie above the largest value actually seen.
  const at = (percentile: number) => _ms(Math.min(histogram.getValueAtPercentile(percentile), max));
  return { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: _ms(max), mean: _ms(Math.min(histogram.mean, max)) };
}

function _ms(micros: number): number {
  return Math.round(micros) / 1000;
}
