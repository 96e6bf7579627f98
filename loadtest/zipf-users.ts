/**
 * A realistic population: 1,000 users with zipf (s=1.1) popularity. Most answers must come from the cache,
 * and the cache must keep GitHub's share small: hit ratio over 90 %, p99 under 100 ms, under 1 % errors.
 * The service must be able to reach GitHub (or the fake: `bun src/testing/fake-github.ts` with users).
 *   bun loadtest/zipf-users.ts --url http://127.0.0.1:8080 [--duration 30s]
 */
import { hitRatio, runScenario, scenarioFlags } from "./scenario.ts";

const flags = scenarioFlags({ duration: "30s" });
await runScenario(
  "zipf users",
  { url: new URL("/{user}", flags.url), users: 1000, zipf: 1.1, connections: flags.connections, durationMs: flags.durationMs, warmupMs: 0, drainMs: 5000 },
  ["p99<100ms", "errors<1%"],
  (result) => [{ name: "hit ratio over 90 %", passed: hitRatio(result) > 0.9, actual: `${(hitRatio(result) * 100).toFixed(2)}%` }],
  flags,
);
