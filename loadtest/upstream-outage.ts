/**
 * An upstream outage, self-contained: starts a fake GitHub and dist/gists-api (CACHE_TTL=1, so pages go stale
 * during the run), warms 50 users, then makes GitHub fail with 500s half way through. Every answer must still
 * be a 200 (stale copies stand in), with no errors, and X-Cache must show STALE answers. Needs `npm run build`.
 */
import { startFakeGithub } from "../src/testing/fake-github.ts";
import { startService } from "../src/testing/service.ts";
import { allOk, defineScenario, runScenario } from "./scenario.ts";

export default defineScenario({
  summary: "GitHub answers 500 half way through; stale copies must answer (starts its own service)",
  defaultDuration: "10s",
  selfContained: true,
  async run(flags) {
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
          allOk(result),
        ],
        flags,
      );
      clearTimeout(outage);
    } finally {
      await service.stop();
      await github.close();
    }
  },
});
