/**
 * An upstream outage, self-contained: starts a fake GitHub and dist/gists-api (CACHE_TTL=1, so pages go stale
 * during the run), warms 50 users, then makes GitHub fail with 500s half way through. Every answer must still
 * be a 200 (stale copies stand in), with no errors, and X-Cache must show STALE answers.
 *   npm run build && bun loadtest/upstream-outage.ts [--duration 10s]
 */
import { startFakeGithub } from "../src/testing/fake-github.ts";
import { startService } from "../src/testing/service.ts";
import { runScenario, scenarioFlags } from "./scenario.ts";

const flags = scenarioFlags({ duration: "10s" });
const users = Object.fromEntries(Array.from({ length: 50 }, (_, index) => [`user-${index + 1}`, 10]));
const github = await startFakeGithub({ users });
const service = await startService({ target: "binary", env: { GITHUB_API_URL: github.url, CACHE_TTL: "1" } });
try {
  for (const login of Object.keys(users)) await fetch(`${service.url}/${login}`).then((response) => response.arrayBuffer());
  const outage = setTimeout(() => github.setFault("*", { kind: "status", status: 500 }), flags.durationMs / 2);
  await runScenario(
    "upstream outage",
    { url: new URL("/{user}", service.url), users: 50, zipf: 1, connections: flags.connections, durationMs: flags.durationMs, warmupMs: 0, drainMs: 5000 },
    ["errors<0.01%"],
    (result) => [
      { name: "GitHub failed during the run", passed: github.faults()["*"] !== undefined, actual: JSON.stringify(github.faults()) },
      { name: "stale copies answered", passed: result.cache.stale > 0, actual: `${result.cache.stale} STALE` },
      { name: "every answer a 200", passed: Object.keys(result.status).join() === "200", actual: JSON.stringify(result.status) },
    ],
    flags,
  );
  clearTimeout(outage);
} finally {
  await service.stop();
  await github.close();
}
