/**
 * A cold-miss stampede: 200 connections ask for the same never-seen user at once. Coalescing must turn them
 * into one GitHub request; every client gets its answer, none fails, p99 stays near one GitHub round trip.
 * The user name is new each run, so the page is cold.
 *   bun loadtest/cold-stampede.ts --url http://127.0.0.1:8080
 */
import { runScenario, scenarioFlags } from "./scenario.ts";

const flags = scenarioFlags({ duration: "5s" });
const login = `stampede-${Date.now().toString(36)}`;
const before = await _stats(flags.url);
await runScenario(
  "cold-miss stampede",
  { url: new URL(`/${login}`, flags.url), connections: 200, requests: 200, zipf: 1, warmupMs: 0, drainMs: 10_000 },
  ["errors<0.01%", "p99<2s"],
  async (result) => {
    const after = await _stats(flags.url);
    const misses = after.misses - before.misses;
    return [
      { name: "one miss for 200 cold requests", passed: misses === 1, actual: `${misses} misses, ${after.coalesced - before.coalesced} coalesced` },
      { name: "every answer is the same status", passed: Object.keys(result.status).length === 1, actual: JSON.stringify(result.status) },
    ];
  },
  flags,
);

async function _stats(base: string): Promise<{ misses: number; coalesced: number }> {
  return (await fetch(new URL("/cache/stats", base))).json() as Promise<{ misses: number; coalesced: number }>;
}
