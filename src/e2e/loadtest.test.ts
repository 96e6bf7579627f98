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
    expect(Object.keys(report).sort()).toEqual(["cache", "duration_s", "errors", "failures", "latency_ms", "requests", "rps", "status", "thresholds"]);
    expect(report.failures).toEqual({});
    expect(report.thresholds).toEqual([]);
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

  test.if(target === "binary")("--json carries each threshold's expression, measured value and verdict", async () => {
    const args = ["loadtest", "--url", `${s.service.url}/octocat`, "--requests", "200", "--connections", "4", "--json"];
    const result = await runCli([...args, "--threshold", "errors<1%", "--threshold", "rps>100000000", "--threshold", "max<60s"]);
    expect(result.code).toBe(1);
    const { thresholds, rps, latency_ms } = JSON.parse(result.stdout);
    expect(thresholds).toEqual([
      { expr: "errors<1%", actual: 0, ok: true },
      { expr: "rps>100000000", actual: rps, ok: false },
      { expr: "max<60s", actual: latency_ms.max, ok: true },
    ]);
  });

  test.if(target === "binary")("a run where nothing answered exits 1 with one line saying why", async () => {
    for (const [url, why] of [
      ["http://127.0.0.1:1/octocat", "connection refused"],
      ["http://no-such-host.invalid:8080/octocat", "host not found"],
    ] as const) {
      const result = await runCli(["loadtest", "--url", url, "--duration", "30s", "--connections", "4"]);
      expect({ url, code: result.code }).toEqual({ url, code: 1 });
      expect(result.stdout).toBe("");
      expect(result.stderr.trim().split("\n")).toEqual([`gists-api loadtest: no answer from ${new URL(url).host}: ${why} (4 attempts)`]);
      const json = await runCli(["loadtest", "--url", url, "--connections", "4", "--json"]);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ requests: 4, errors: 4, failures: { [why]: 4 } });
    }
  });

  test.if(target === "binary")("{user} without --users, and https://, exit 2 with a message", async () => {
    const templated = await runCli(["loadtest", "--url", "http://127.0.0.1:1/{user}"]);
    expect(templated.code).toBe(2);
    expect(templated.stderr).toContain("{user} in the URL needs --users N");
    for (const transport of ["socket", "fetch"]) {
      const tls = await runCli(["loadtest", "--url", "https://127.0.0.1:1/x", "--transport", transport]);
      expect(tls.code).toBe(2);
      expect(tls.stderr).toContain("--url must be an http:// URL (both transports speak plain HTTP/1.1)");
    }
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

  test.if(target === "deno")("under Deno a refused port is named too", async () => {
    // Deno's fetch refuses port 1 itself, so the target is a port that was just free.
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const host = `127.0.0.1:${closed.port}`;
    closed.stop(true);
    const result = await runCli(["loadtest", "--url", `http://${host}/octocat`, "--connections", "2"], {}, { target: "deno" });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`gists-api loadtest: no answer from ${host}: connection refused (2 attempts)`);
  });
});
