import type { LoadResult } from "./engine.ts";
import { holds, type Threshold } from "./threshold.ts";

/** A threshold's verdict on a result. */
export interface Verdict {
  threshold: Threshold;
  actual: number;
  passed: boolean;
}

/** Checks every threshold against the result. */
export function judge(result: LoadResult, thresholds: Threshold[]): Verdict[] {
  return thresholds.map((threshold) => {
    const actual =
      threshold.metric === "errors"
        ? result.requests === 0
          ? 0
          : result.errors / result.requests
        : threshold.metric === "rps"
          ? result.rps
          : result.latency_ms[threshold.metric];
    return { threshold, actual, passed: holds(threshold, actual) };
  });
}

/** A verdict as `--json` prints it: the expression, the measured value in its unit (ms, %, req/s) and whether it held. */
export interface VerdictJson {
  expr: string;
  actual: number;
  ok: boolean;
}

/** The verdicts in `--json`'s shape. */
export function verdictsJson(verdicts: Verdict[]): VerdictJson[] {
  return verdicts.map(({ threshold, actual, passed }) => ({
    expr: threshold.text,
    actual: threshold.metric === "errors" ? Math.round(actual * 1_000_000) / 10_000 : actual,
    ok: passed,
  }));
}

/** One line saying why no request got an answer ("connection refused", "host not found"), or undefined when some did. */
export function noAnswer(target: URL, result: LoadResult): string | undefined {
  const failed = Object.values(result.failures).reduce((sum, count) => sum + count, 0);
  if (result.requests === 0 || failed < result.requests) return undefined;
  const reasons = Object.entries(result.failures).sort(([, a], [, b]) => b - a);
  const why = reasons.map(([reason, count]) => (reasons.length === 1 ? reason : `${reason} ×${count}`)).join(", ");
  return `no answer from ${target.host}: ${why} (${result.requests} ${result.requests === 1 ? "attempt" : "attempts"})`;
}

/** The human summary: throughput, latency percentiles, statuses, the cache's answers and the thresholds. */
export function summary(target: string, model: string, result: LoadResult, verdicts: Verdict[]): string {
  const { latency_ms: latency } = result;
  const lines = [
    `Target   ${target}`,
    `Model    ${model}`,
    "",
    `Requests ${result.requests} in ${result.duration_s.toFixed(2)} s: ${result.rps.toFixed(1)} req/s, ${result.errors} errors (${_percent(result.errors, result.requests)})`,
    "",
    "Latency (ms)   p50      p90      p99      p99.9    max      mean",
    `               ${[latency.p50, latency.p90, latency.p99, latency.p999, latency.max, latency.mean].map((value) => value.toFixed(2).padEnd(8)).join(" ")}`,
    "",
    `Status   ${
      Object.entries(result.status)
        .map(([code, count]) => `${code}: ${count}`)
        .join("  ") || "none"
    }`,
  ];
  const failures = Object.entries(result.failures);
  if (failures.length > 0) lines.push(`Failed   ${failures.map(([reason, count]) => `${reason}: ${count}`).join("  ")}`);
  const cached = result.cache.hit + result.cache.miss + result.cache.stale + result.cache.revalidated + result.cache.bypass;
  if (cached > 0) {
    lines.push(
      `X-Cache  HIT ${result.cache.hit}  MISS ${result.cache.miss}  STALE ${result.cache.stale}  REVALIDATED ${result.cache.revalidated}  BYPASS ${result.cache.bypass}` +
        `  (hit ratio ${_percent(result.cache.hit + result.cache.stale, cached)})`,
    );
  }
  if (verdicts.length > 0) {
    lines.push("", "Thresholds");
    for (const verdict of verdicts) {
      const actual =
        verdict.threshold.metric === "errors"
          ? `${(verdict.actual * 100).toFixed(2)}%`
          : verdict.threshold.metric === "rps"
            ? verdict.actual.toFixed(1)
            : `${verdict.actual.toFixed(2)}ms`;
      lines.push(`  ${verdict.passed ? "pass" : "FAIL"}  ${verdict.threshold.text.padEnd(16)} actual ${actual}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The live progress line (rewritten in place on a terminal). */
export function progressLine(progress: { elapsedSeconds: number; requests: number; rps: number; errors: number }): string {
  return `\r${progress.elapsedSeconds.toFixed(0).padStart(4)} s  ${progress.requests} requests  ${progress.rps.toFixed(0)} req/s  ${progress.errors} errors   `;
}

function _percent(part: number, whole: number): string {
  return whole === 0 ? "0%" : `${((part / whole) * 100).toFixed(2)}%`;
}
