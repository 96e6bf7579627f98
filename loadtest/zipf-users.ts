/**
 * A realistic population: 1,000 users (user-1..user-1000) with zipf (s=1.1) popularity. Every answer must be a
 * 200, most must come from the cache: hit ratio over 90 %, p99 under 100 ms, under 1 % errors. The service's
 * GitHub must know those users: the fake one does with `--auto-users user-=10`.
 */
import { allOk, defineScenario, hitRatio, runScenario } from "./scenario.ts";

export default defineScenario({
  summary: "1,000 users with zipf popularity (s = 1.1)",
  defaultDuration: "30s",
  async run(flags) {
    await runScenario(
      "zipf users",
      { url: new URL("/{user}", flags.url), users: 1000, zipf: 1.1, connections: flags.connections, durationMs: flags.durationMs, warmupMs: 0, drainMs: 5000 },
      ["p99<100ms", "errors<1%"],
      (result) => [allOk(result), { name: "hit ratio over 90 %", passed: hitRatio(result) > 0.9, actual: `${(hitRatio(result) * 100).toFixed(2)}%` }],
      flags,
    );
  },
});
