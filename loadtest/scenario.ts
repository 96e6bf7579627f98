/** What every scenario shares: its flags, the run, the checks, the report and the exit code. */
import { parseDuration } from "../src/loadtest/duration.ts";
import { runLoad, type LoadPlan, type LoadResult } from "../src/loadtest/engine.ts";
import { judge, noAnswer, progressLine, summary, verdictsJson } from "../src/loadtest/report.ts";
import { socketTransport } from "../src/loadtest/socket.bun.ts";
import { parseThreshold } from "../src/loadtest/threshold.ts";

/** A check beyond the latency/error/rps thresholds (hit ratio, GitHub requests...): a name and whether it held. */
export interface Check {
  name: string;
  passed: boolean;
  actual: string;
}

/** The flags every scenario takes, parsed and checked. */
export interface ScenarioFlags {
  /** The service's base URL. */
  url: URL;
  durationMs: number;
  connections: number;
  json: boolean;
}

/** A scenario: what it shows, its default duration, whether it starts its own service, and its run. */
export interface Scenario {
  summary: string;
  defaultDuration: string;
  /** True when the scenario starts its own fake GitHub and service, so it takes no --url. */
  selfContained?: boolean;
  run(flags: ScenarioFlags): Promise<void>;
}

/** Declares a scenario (the default export of each file in loadtest/). */
export function defineScenario(scenario: Scenario): Scenario {
  return scenario;
}

/** Reads --url, --duration, --connections and --json; throws a message naming the flag. */
export function scenarioFlags(values: { url?: string; duration?: string; connections?: string; json?: boolean }, scenario: Scenario): ScenarioFlags {
  if (scenario.selfContained && values.url !== undefined) throw new Error("this scenario starts its own fake GitHub and service: it takes no --url");
  let url: URL;
  try {
    url = new URL(values.url ?? "http://127.0.0.1:8080");
  } catch {
    throw new Error(`--url must be the service's base URL, like http://127.0.0.1:8080; got ${JSON.stringify(values.url)}`);
  }
  if (url.protocol !== "http:") throw new Error(`--url must be an http:// URL (the generator speaks plain HTTP/1.1); got ${JSON.stringify(values.url)}`);
  const connections = Number(values.connections ?? "32");
  if (!Number.isInteger(connections) || connections < 1)
    throw new Error(`--connections must be a whole number of at least 1; got ${JSON.stringify(values.connections)}`);
  return { url, durationMs: parseDuration("--duration", values.duration ?? scenario.defaultDuration), connections, json: values.json ?? false };
}

/** Runs a plan, prints the summary (or JSON) and every verdict, and sets the exit code: 1 when anything failed. */
export async function runScenario(
  name: string,
  plan: LoadPlan,
  thresholds: string[],
  checks: (result: LoadResult) => Check[] | Promise<Check[]>,
  flags: ScenarioFlags,
): Promise<LoadResult> {
  const live = !flags.json && process.stderr.isTTY === true;
  if (live && plan.warmupMs > 0) process.stderr.write(`warming up for ${plan.warmupMs / 1000} s (not measured)...`);
  const result = await runLoad(plan, socketTransport, live ? (progress) => process.stderr.write(progressLine(progress)) : undefined);
  if (live) process.stderr.write("\n");
  const verdicts = judge(result, thresholds.map(parseThreshold));
  const unreachable = noAnswer(plan.url, result);
  const extra = unreachable ? [{ name: "the service answered", passed: false, actual: unreachable }] : await checks(result);
  const passed = verdicts.every((verdict) => verdict.passed) && extra.every((check) => check.passed);
  if (flags.json) {
    const checksJson = extra.map((check) => ({ name: check.name, actual: check.actual, ok: check.passed }));
    console.log(JSON.stringify({ scenario: name, ok: passed, result, thresholds: verdictsJson(verdicts), checks: checksJson }));
  } else {
    console.log(`== ${name}\n`);
    process.stdout.write(summary(decodeURI(plan.url.href), _model(plan), result, verdicts));
    if (extra.length > 0) console.log(verdicts.length > 0 ? "" : "\nChecks");
    for (const check of extra) console.log(`  ${check.passed ? "pass" : "FAIL"}  ${check.name.padEnd(52)} actual ${check.actual}`);
    console.log(`\n${passed ? "PASS" : "FAIL"}  ${name}`);
  }
  if (!passed) process.exitCode = 1;
  return result;
}

/** Share of answers that came from the cache (fresh or stale). */
export function hitRatio(result: LoadResult): number {
  const answered = result.cache.hit + result.cache.stale + result.cache.miss + result.cache.revalidated + result.cache.bypass;
  return answered === 0 ? 0 : (result.cache.hit + result.cache.stale) / answered;
}

/** A check that every answer was a 200 (a run of 404s measures nothing the scenario is about). */
export function allOk(result: LoadResult): Check {
  return { name: "every answer a 200", passed: Object.keys(result.status).join() === "200", actual: JSON.stringify(result.status) };
}

function _model(plan: LoadPlan): string {
  const model = plan.rate ? `open, ${plan.rate} req/s over ${plan.connections} connections` : `closed, ${plan.connections} connections`;
  return plan.warmupMs > 0 ? `${model}, after ${plan.warmupMs / 1000} s of unmeasured warm-up` : model;
}
