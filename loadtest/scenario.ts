/** What every scenario shares: its flags, the run, the checks and the exit code. */
import { parseArgs } from "node:util";
import { runLoad, type LoadPlan, type LoadResult } from "../src/loadtest/engine.ts";
import { judge, summary } from "../src/loadtest/report.ts";
import { socketTransport } from "../src/loadtest/socket.bun.ts";
import { parseThreshold } from "../src/loadtest/threshold.ts";

/** A check beyond the latency/error/rps thresholds (hit ratio, upstream requests...): a name and whether it held. */
export interface Check {
  name: string;
  passed: boolean;
  actual: string;
}

/** The scenario's command-line flags: --url (the service) and --duration. */
export function scenarioFlags(defaults: { duration: string }) {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      duration: { type: "string", default: defaults.duration },
      connections: { type: "string", default: "32" },
      json: { type: "boolean" },
    },
  });
  return {
    url: values.url ?? "http://127.0.0.1:8080",
    durationMs: Number.parseFloat(values.duration!) * (values.duration!.endsWith("ms") ? 1 : values.duration!.endsWith("m") ? 60_000 : 1000),
    connections: Number(values.connections),
    json: values.json ?? false,
  };
}

/** Runs a plan, prints the summary and every verdict, and sets the process exit code (1 when anything failed). */
export async function runScenario(
  name: string,
  plan: LoadPlan,
  thresholds: string[],
  checks: (result: LoadResult) => Check[] | Promise<Check[]> = () => [],
  options: { json?: boolean } = {},
): Promise<LoadResult> {
  const result = await runLoad(plan, socketTransport);
  const verdicts = judge(result, thresholds.map(parseThreshold));
  const extra = await checks(result);
  if (options.json) console.log(JSON.stringify({ scenario: name, result, thresholds: verdicts, checks: extra }));
  else {
    console.log(`== ${name}\n`);
    process.stdout.write(summary(decodeURI(plan.url.href), plan.rate ? `open, ${plan.rate} req/s` : `closed, ${plan.connections} connections`, result, verdicts));
    for (const check of extra) console.log(`  ${check.passed ? "pass" : "FAIL"}  ${check.name.padEnd(40)} actual ${check.actual}`);
  }
  if (!verdicts.every((verdict) => verdict.passed) || !extra.every((check) => check.passed)) process.exitCode = 1;
  return result;
}

/** Share of answers that came from the cache (fresh or stale). */
export function hitRatio(result: LoadResult): number {
  const answered = result.cache.hit + result.cache.stale + result.cache.miss + result.cache.revalidated + result.cache.bypass;
  return answered === 0 ? 0 : (result.cache.hit + result.cache.stale) / answered;
}
