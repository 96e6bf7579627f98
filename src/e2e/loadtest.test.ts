import { expect, test } from "bun:test";
import { runCli } from "../testing/service.ts";
import { describeTargets, useStack } from "./stack.ts";

// `gists-api loadtest` run against the service it knows: JSON shape, X-Cache counting, thresholds, exit codes.
describeTargets("gists-api loadtest", (target) => {
  const s = useStack(target, {}, { users: { octocat: 5, "user-1": 1, "user-2": 1, "user-3": 1 } });

  test.if(target === "binary")("--json reports the run and counts the service's X-Cache answers", async () => {
    const result = await runCli(["loadtest", "--url", `${s.service.url}/octocat`, "--requests", "400", "--connections", "8", "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report).sort()).toEqual(["cache", "duration_s", "errors", "latency_ms", "requests", "rps", "status"]);
    expect(Object.keys(report.latency_ms).sort()).toEqual(["max", "mean", "p50", "p90", "p99", "p999"]);
    expect(report.requests).toBe(400);
    expect(report.status).toEqual({ "200": 400 });
    expect(report.cache.hit + report.cache.miss).toBe(400);
    // The first requests arrive together: one asks GitHub, the others wait for it (coalesced misses).
    expect(report.cache.miss).toBeLessThanOrEqual(8);
    expect(report.cache.hit).toBeGreaterThanOrEqual(392);
    expect(report.latency_ms.p50).toBeGreaterThan(0);
    expect(result.stderr).toBe("");
  });

  test.if(target === "binary")("a user population spreads over {user}, and a breached threshold exits 1", async () => {
    const args = ["loadtest", "--url", `${s.service.url}/{user}`, "--users", "3", "--requests", "300", "--connections", "4"];
    const passing = await runCli([...args, "--threshold", "errors<1%"]);
    expect(passing.code).toBe(0);
    expect(passing.stdout).toContain("pass  errors<1%");
    expect(passing.stdout).toMatch(/X-Cache\s+HIT \d+/);
    const failing = await runCli([...args, "--threshold", "rps>100000000"]);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain("FAIL  rps>100000000");
  });

  test.if(target === "binary")("bad flags exit 2 and point to --help", async () => {
    for (const args of [
      ["loadtest"],
      ["loadtest", "--url", "http://127.0.0.1:1/x", "--threshold", "p99<fast"],
      ["loadtest", "--url", "http://127.0.0.1:1/x", "--users", "10"],
      ["loadtest", "--url", "http://127.0.0.1:1/x", "--duration", "ten"],
      ["loadtest", "--url", "http://127.0.0.1:1/x", "--bogus"],
    ]) {
      const result = await runCli(args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain("--help");
    }
  });

  test.if(target === "deno")("runs under Deno with the fetch transport", async () => {
    const result = await runCli(["loadtest", "--url", `${s.service.url}/octocat`, "--requests", "100", "--json"], {}, { target: "deno" });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).requests).toBe(100);
  });
});
