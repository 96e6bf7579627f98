/**
 * A cold-miss stampede: 200 connections ask at once for a user nobody asked for before (new each run). The
 * words, as /cache/stats, /metrics and X-Cache use them: a miss is an answer that waited for GitHub (X-Cache:
 * MISS); the one miss that sent the GitHub request fetched, every other miss joined its fetch and is
 * `coalesced`. So the run passes with exactly one GitHub request, coalesced = MISS answers - 1, the three
 * sources agreeing on the misses, every answer a 200 and none failed. The service's GitHub must know the user:
 * the fake one does with `--auto-users user-=10`.
 */
import { parsePrometheusText, sampleSum } from "../src/testing/prometheus-text.ts";
import { allOk, defineScenario, runScenario, type Check } from "./scenario.ts";

const waiters = 200;

export default defineScenario({
  summary: `coalescing: ${waiters} connections ask at once for a user nobody asked for`,
  defaultDuration: "5s",
  async run(flags) {
    const login = `user-stampede-${Date.now().toString(36)}`;
    const before = await _counters(flags.url);
    await runScenario(
      "cold-miss stampede",
      { url: new URL(`/${login}`, flags.url), connections: waiters, requests: waiters, zipf: 1, warmupMs: 0, drainMs: 10_000 },
      ["errors<0.01%", "p99<2s"],
      async (result): Promise<Check[]> => {
        const after = await _counters(flags.url);
        const delta = (key: keyof Counters) => after[key] - before[key];
        const missAnswers = result.cache.miss;
        return [
          {
            name: `one GitHub request for ${waiters} cold requests`,
            passed: delta("githubRequests") === 1,
            actual: `${delta("githubRequests")} GitHub requests`,
          },
          {
            name: "every other miss coalesced onto it",
            passed: delta("coalesced") === missAnswers - delta("githubRequests"),
            actual: `${missAnswers} MISS answers, ${delta("coalesced")} coalesced, ${result.cache.hit} HIT`,
          },
          {
            name: "/cache/stats, /metrics and X-Cache agree on misses",
            passed: delta("statsMisses") === missAnswers && delta("metricMisses") === missAnswers,
            actual: `stats ${delta("statsMisses")}, metrics ${delta("metricMisses")}, X-Cache ${missAnswers}`,
          },
          allOk(result),
        ];
      },
      flags,
    );
  },
});

interface Counters {
  githubRequests: number;
  statsMisses: number;
  metricMisses: number;
  coalesced: number;
}

async function _counters(base: URL): Promise<Counters> {
  const stats = (await (await fetch(new URL("/cache/stats", base))).json()) as { misses: number; coalesced: number };
  const metrics = parsePrometheusText(await (await fetch(new URL("/metrics", base))).text());
  return {
    githubRequests: sampleSum(metrics, "github_api_requests_total"),
    statsMisses: stats.misses,
    metricMisses: sampleSum(metrics, "cache_misses_total"),
    coalesced: stats.coalesced,
  };
}
