import { describe, expect, test } from "bun:test";
import { runSoak } from "../testing/soak.ts";

// The soak script (ops/scripts/soak.ts: 10 minutes, 100,000 users, default cache bounds) in 30 seconds: 1,000
// users, and a 2 MiB cache so it fills within the first interval and then evicts all along, which is when memory
// or descriptors would leak. Same checks, looser bounds: a short run on a shared machine is noisy.

describe("soak, short [binary]", () => {
  test("30 s of zipf load over 1,000 users: RSS flat once the cache is full, descriptors steady, p99 stable, no errors", async () => {
    const lines: string[] = [];
    const report = await runSoak({
      minutes: 0.5,
      users: 1_000,
      intervalSeconds: 5,
      rate: 500,
      connections: 8,
      zipf: 1,
      env: { CACHE_MAX_BYTES: String(2 * 1024 * 1024) },
      bounds: { rssGrowthPct: 25, fdGrowth: 16, p99Factor: 3, p99SlackMs: 25 },
      print: (line) => lines.push(line),
    });
    console.log(lines.join("\n"));
    expect(report.intervals.some((interval) => interval.full)).toBe(true);
    expect(report.intervals.at(-1)!.evictions).toBeGreaterThan(0);
    expect(report.checks.filter((check) => !check.passed)).toEqual([]);
    // 30 s of load takes about 31 s alone; beside three other test files on two cores the open model falls behind
    // and sends its backlog late (timed from each intended send), which took 50-60 s here: room for that.
  }, 150_000);
});
