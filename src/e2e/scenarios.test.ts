import { describe, expect, test } from "bun:test";
import { repoRoot } from "../testing/service.ts";
import { useStack } from "./stack.ts";

// The load-test scenarios as a user runs them: `npm run scenario -- NAME`, with only Node's and the system's
// directories on PATH (bun comes from node_modules through npm), judged by their own checks.

interface ScenarioReport {
  scenario: string;
  ok: boolean;
  result: { requests: number; status: Record<string, number>; cache: Record<string, number> };
  thresholds: { expr: string; actual: number; ok: boolean }[];
  checks: { name: string; actual: string; ok: boolean }[];
}

async function scenario(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(["npm", "run", "--silent", "scenario", "--", ...args], {
    cwd: repoRoot,
    env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

async function report(args: string[]): Promise<ScenarioReport & { code: number }> {
  const run = await scenario([...args, "--json"]);
  try {
    return { ...(JSON.parse(run.stdout) as ScenarioReport), code: run.code };
  } catch {
    throw new Error(`no JSON report (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

const checks = (run: ScenarioReport) => Object.fromEntries(run.checks.map((check) => [check.name, check.ok]));

describe("scenarios against a service whose GitHub knows user-N", () => {
  // The scenarios send more cold users a minute than GitHub's per-minute limit allows: the pace is lifted.
  const s = useStack("binary", { UPSTREAM_MAX_PER_MINUTE: "0" }, { users: { octocat: 5 }, autoUsers: { prefix: "user-", gists: 3 } });

  test("cold-stampede: one GitHub request, the other misses coalesced, and the three counts agree", async () => {
    const run = await report(["cold-stampede", "--url", s.service.url]);
    expect(run.result.requests).toBe(200);
    expect(checks(run)).toEqual({
      "one GitHub request for 200 cold requests": true,
      "every other miss coalesced onto it": true,
      "/cache/stats, /metrics and X-Cache agree on misses": true,
      "every answer a 200": true,
    });
  }, 90_000);

  test("zipf-users: the documented population answers 200s", async () => {
    const run = await report(["zipf-users", "--url", s.service.url, "--duration", "1s", "--connections", "4"]);
    expect(run.result.requests).toBeGreaterThan(0);
    expect(checks(run)["every answer a 200"]).toBe(true);
    expect(run.thresholds.map((threshold) => threshold.expr)).toEqual(["p99<100ms", "errors<1%"]);
  }, 90_000);

  test("cache-hits: says that its warm-up is not measured, and every answer is a hit", async () => {
    const human = await scenario(["cache-hits", "--url", s.service.url, "--duration", "1s", "--connections", "4"]);
    expect(human.stdout).toContain("Model    closed, 4 connections, after 2 s of unmeasured warm-up");
    expect(human.stdout).toMatch(/pass {2}every answer is a cache hit \(X-Cache: HIT\)/);
    expect(human.stdout).toMatch(/\n(PASS|FAIL) {2}cache hits\n$/);
  }, 90_000);
});

describe("scenarios judge what they measure", () => {
  const s = useStack("binary", { UPSTREAM_MAX_PER_MINUTE: "0" }, { users: { octocat: 5 } });

  test("zipf-users fails a run whose answers are 404s", async () => {
    const run = await report(["zipf-users", "--url", s.service.url, "--duration", "1s", "--connections", "4"]);
    expect(run.code).toBe(1);
    expect(run.ok).toBe(false);
    expect(Object.keys(run.result.status)).toEqual(["404"]);
    expect(checks(run)["every answer a 200"]).toBe(false);
  }, 90_000);

  test("a service that is not there fails with the reason", async () => {
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const url = `http://127.0.0.1:${closed.port}`;
    closed.stop(true);
    const run = await report(["zipf-users", "--url", url, "--duration", "30s", "--connections", "2"]);
    expect(run.code).toBe(1);
    expect(run.checks).toEqual([
      { name: "the service answered", actual: `no answer from 127.0.0.1:${new URL(url).port}: connection refused (2 attempts)`, ok: false },
    ]);
  }, 90_000);
});

describe("npm run scenario", () => {
  test("runs the self-contained upstream outage", async () => {
    const run = await report(["upstream-outage", "--duration", "4s", "--connections", "4"]);
    expect(checks(run)).toEqual({ "GitHub failed during the run": true, "stale copies answered": true, "every answer a 200": true });
  }, 90_000);

  test("bad names and flags exit 2 with the list of scenarios", async () => {
    for (const args of [
      [],
      ["no-such-scenario"],
      ["cache-hits", "--duration", "ten"],
      ["cache-hits", "--url", "https://x"],
      ["upstream-outage", "--url", "http://127.0.0.1:1"],
      ["cache-hits", "--bogus"],
    ]) {
      const run = await scenario(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toContain("Scenarios: cache-hits, cold-stampede, upstream-outage, zipf-users.");
    }
    const help = await scenario(["--help"]);
    expect(help.code).toBe(0);
    for (const name of ["cache-hits", "cold-stampede", "upstream-outage", "zipf-users"]) expect(help.stdout).toContain(`  ${name} `);
  }, 90_000);
});
