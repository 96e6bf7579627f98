/**
 * The soak test: zipf load over a large user population through dist/gists-api for a long while, printing a
 * table per interval (rps, p99, RSS, open descriptors, cache bytes and entries) and a verdict; exits 1 when it
 * fails. The cache bounds stay at their defaults (64 MiB, 10,000 entries), so the run shows memory once full.
 *
 *   bun ops/scripts/soak.ts [--minutes 10] [--users 100000] [--interval 30] [--rate 1000] [--connections 16]
 *
 * src/e2e/soak.test.ts runs the same thing for 30 s with looser bounds in the test suite.
 */
import { parseArgs } from "node:util";
import { runSoak } from "../../src/testing/soak.ts";

const usage = "usage: bun ops/scripts/soak.ts [--minutes 10] [--users 100000] [--interval 30] [--rate 1000] [--connections 16] [--zipf 1]";

let values;
try {
  ({ values } = parseArgs({
    options: {
      minutes: { type: "string", default: "10" },
      users: { type: "string", default: "100000" },
      interval: { type: "string", default: "30" },
      rate: { type: "string", default: "1000" },
      connections: { type: "string", default: "16" },
      zipf: { type: "string", default: "1" },
      "rss-growth": { type: "string", default: "10" },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}

const number = (name: keyof typeof values, min: number): number => {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value < min) {
    console.error(`--${name} must be a number of at least ${min}, got ${JSON.stringify(values[name])}\n${usage}`);
    process.exit(2);
  }
  return value;
};

const report = await runSoak({
  minutes: number("minutes", 0.1),
  users: Math.round(number("users", 1)),
  intervalSeconds: number("interval", 1),
  rate: number("rate", 1),
  connections: Math.round(number("connections", 1)),
  zipf: number("zipf", 0.01),
  // Flat: within 10 % once the cache is full; a handful of descriptors of slack for the upstream pool.
  bounds: { rssGrowthPct: number("rss-growth", 0), fdGrowth: 8, p99Factor: 2, p99SlackMs: 2 },
  print: (line) => console.log(line),
});
process.exit(report.passed ? 0 : 1);
