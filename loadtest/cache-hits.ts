/**
 * Cache-hit throughput: one page, warmed, requested back to back. Encodes the hot-path budget:
 * at least 50,000 req/s with 32 connections, p99 under 20 ms, no errors, every answer a hit.
 *   bun loadtest/cache-hits.ts --url http://127.0.0.1:8080 [--duration 10s]
 */
import { hitRatio, runScenario, scenarioFlags } from "./scenario.ts";

const flags = scenarioFlags({ duration: "10s" });
const url = new URL("/octocat", flags.url);
await fetch(url).then((response) => response.arrayBuffer());
await runScenario(
  "cache hits",
  { url, connections: flags.connections, durationMs: flags.durationMs, zipf: 1, warmupMs: 2000, drainMs: 5000 },
  ["rps>50000", "p99<20ms", "errors<0.01%"],
  (result) => [{ name: "every answer is a cache hit (X-Cache: HIT)", passed: hitRatio(result) === 1, actual: `${(hitRatio(result) * 100).toFixed(2)}%` }],
  flags,
);
