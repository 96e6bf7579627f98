/**
 * Cache-hit throughput: one page, fetched once, then requested back to back after 2 s of unmeasured warm-up.
 * Encodes the hot-path budget: at least 50,000 req/s with 32 connections, p99 under 20 ms, no errors, every
 * answer a hit.
 */
import { allOk, defineScenario, hitRatio, runScenario } from "./scenario.ts";

const warmupMs = 2000;

export default defineScenario({
  summary: "the hot path: one warmed page requested back to back",
  defaultDuration: "10s",
  async run(flags) {
    const url = new URL("/octocat", flags.url);
    // One request first, so the page is cached before anything is measured.
    await fetch(url).then(
      (response) => response.arrayBuffer(),
      () => undefined,
    );
    await runScenario(
      "cache hits",
      { url, connections: flags.connections, durationMs: flags.durationMs, zipf: 1, warmupMs, drainMs: 5000 },
      ["rps>50000", "p99<20ms", "errors<0.01%"],
      (result) => [
        allOk(result),
        { name: "every answer is a cache hit (X-Cache: HIT)", passed: hitRatio(result) === 1, actual: `${(hitRatio(result) * 100).toFixed(2)}%` },
      ],
      flags,
    );
  },
});
