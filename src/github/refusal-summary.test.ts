import { describe, expect, test } from "bun:test";
import { createRefusalSummary, type RefusalCounts } from "./refusal-summary.ts";

/** A summary on a stepped clock whose scheduled report runs when the test says. */
function summaryOnClock() {
  let now = 0;
  const reports: Array<[RefusalCounts, number]> = [];
  const pending: Array<{ task: () => void; at: number; cancelled: boolean }> = [];
  const summary = createRefusalSummary({
    intervalMs: 10_000,
    now: () => now,
    report: (counts, seconds) => reports.push([counts, seconds]),
    schedule: (task, ms) => {
      const entry = { task, at: now + ms, cancelled: false };
      pending.push(entry);
      return () => (entry.cancelled = true);
    },
  });
  const advance = (ms: number) => {
    now += ms;
    for (const entry of pending.splice(0)) {
      if (entry.cancelled) continue;
      if (entry.at <= now) entry.task();
      else pending.push(entry);
    }
  };
  return { summary, reports, advance, pending };
}

describe("createRefusalSummary", () => {
  test("reports the counts per reason once per interval, only when there were refusals", () => {
    const { summary, reports, advance, pending } = summaryOnClock();
    advance(60_000);
    expect(pending).toHaveLength(0);
    for (let i = 0; i < 1000; i++) summary.count("breaker-open");
    summary.count("queue-timeout");
    advance(9_999);
    expect(reports).toEqual([]);
    advance(1);
    summary.count("rate-limited");
    advance(10_000);
    advance(30_000);
    expect(reports).toEqual([
      [{ "rate-limited": 0, "breaker-open": 1000, "queue-timeout": 1 }, 10],
      [{ "rate-limited": 1, "breaker-open": 0, "queue-timeout": 0 }, 10],
    ]);
    expect(pending).toHaveLength(0);
  });

  test("flush reports what is pending at once (shutdown), and nothing when nothing is", () => {
    const { summary, reports, advance } = summaryOnClock();
    summary.flush();
    summary.count("breaker-open");
    advance(2_500);
    summary.flush();
    advance(10_000);
    expect(reports).toEqual([[{ "rate-limited": 0, "breaker-open": 1, "queue-timeout": 0 }, 2.5]]);
  });
});
