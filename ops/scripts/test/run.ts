/**
 * `npm test` and `npm run test:unit|test:e2e|test:infra`: run the tiers' test files, a few `bun test` processes at a
 * time, and print one line per file; a failing file's whole output follows its line. The unit tier is one process
 * with coverage on (its threshold is in bunfig.toml); every other file runs in a process of its own.
 *
 *   bun ops/scripts/test/run.ts [unit] [e2e] [infra] [--jobs N] [--update-timings]
 *
 * `--jobs` (or TEST_JOBS) is how many processes run side by side; files start longest first, by timings.json.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { coverageGates, coverageShortfalls, coverageTable } from "./coverage.ts";
import { runJob, stopJobs, type Job, type JobOutcome } from "./job.ts";
import { resourcesOf, tierFiles, tierNames, type Tier } from "./tiers.ts";

const root = new URL("../../../", import.meta.url).pathname;
const gates = coverageGates(`${root}bunfig.toml`);
const timingsPath = new URL("./timings.json", import.meta.url).pathname;

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: { jobs: { type: "string" }, "update-timings": { type: "boolean", default: false } },
});
const unknown = positionals.filter((name) => !tierNames.includes(name as Tier));
const jobsText = flags.jobs ?? process.env.TEST_JOBS ?? "4";
const width = Number(jobsText);
if (unknown.length > 0 || !Number.isInteger(width) || width < 1) {
  console.error(
    unknown.length > 0
      ? `unknown tier: ${unknown.join(", ")} (tiers: ${tierNames.join(", ")})`
      : `--jobs / TEST_JOBS: a whole number of at least 1, not "${jobsText}"`,
  );
  process.exit(2);
}
const tiers = positionals.length > 0 ? tierNames.filter((tier) => positionals.includes(tier)) : tierNames;

const timings: Record<string, number> = existsSync(timingsPath) ? JSON.parse(readFileSync(timingsPath, "utf8")) : {};
const jobs = tiers.flatMap(_jobsOf).sort((a, b) => _expected(b) - _expected(a));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => (stopJobs(), process.exit(130)));

const started = performance.now();
console.log(`${tiers.join(" + ")}: ${jobs.reduce((n, job) => n + job.files.length, 0)} test files, ${width} at a time`);
const outcomes = await _pool(jobs, width, _report);
const failed = outcomes.filter((outcome) => outcome.code !== 0);
_summary(outcomes, (performance.now() - started) / 1000);
if (flags["update-timings"]) _saveTimings(outcomes);
process.exit(failed.length > 0 ? 1 : 0);

function _jobsOf(tier: Tier): Job[] {
  const files = tierFiles(root, tier);
  if (files.length === 0) return [];
  // One process for the unit tier, so its coverage is measured over all of it.
  if (tier === "unit") return [{ tier, key: tier, files, coverage: true, resources: [] }];
  return files.map((file) => ({ tier, key: file, files: [file], coverage: false, resources: resourcesOf(root, file) }));
}

// A file never timed goes first: it may be long, and starting it late would stretch the run.
function _expected(job: Job): number {
  return timings[job.key] ?? Number.MAX_SAFE_INTEGER;
}

// Runs up to `size` jobs at once, each as soon as a slot is free and no running job holds a resource it needs.
async function _pool(queue: Job[], size: number, done: (outcome: JobOutcome) => void): Promise<JobOutcome[]> {
  const outcomes: JobOutcome[] = [];
  const waiting = [...queue];
  const held = new Set<string>();
  const running = new Set<Promise<void>>();
  while (waiting.length > 0 || running.size > 0) {
    const index = running.size < size ? waiting.findIndex((job) => job.resources.every((r) => !held.has(r))) : -1;
    if (index === -1) {
      await Promise.race(running);
      continue;
    }
    const [job] = waiting.splice(index, 1);
    for (const r of job!.resources) held.add(r);
    const run: Promise<void> = runJob(job!, root).then((outcome) => {
      for (const r of job!.resources) held.delete(r);
      running.delete(run);
      outcomes.push(outcome);
      done(outcome);
    });
    running.add(run);
  }
  return outcomes;
}

function _report(outcome: JobOutcome): void {
  const { job, output, results } = outcome;
  for (const file of job.files) {
    const result = results.find((r) => r.file === file || r.file.endsWith(`/${file}`));
    const seconds = job.files.length === 1 ? outcome.seconds : (result?.seconds ?? 0);
    const failedHere = result === undefined ? outcome.code !== 0 : result.failures > 0 || (job.files.length === 1 && outcome.code !== 0);
    const counts = result === undefined ? "no result" : `${result.tests} tests${result.skipped > 0 ? `, ${result.skipped} skipped` : ""}`;
    console.log(`${failedHere ? "FAIL" : "pass"}  ${job.tier.padEnd(5)}  ${file.padEnd(48)} ${counts.padStart(14)} ${seconds.toFixed(1).padStart(6)} s`);
  }
  const shortfalls = job.coverage ? _coverage(outcome) : [];
  if (outcome.code !== 0) {
    const why = shortfalls.length > 0 ? `coverage below the floors of bunfig.toml:\n  ${shortfalls.join("\n  ")}\n` : "";
    console.log(`\n----- ${job.key}: exit ${outcome.code}, its whole output -----\n${output.trimEnd()}\n${why}----- end of ${job.key} -----\n`);
  }
}

// Prints the total and fails the job when it, or a file, is below its floor.
function _coverage(outcome: JobOutcome): string[] {
  const table = coverageTable(outcome.output);
  const total = table.get("All files");
  if (!total) return [];
  const percent = (fraction: number) => `${(fraction * 100).toFixed(1)}%`;
  console.log(`      ${outcome.job.tier.padEnd(5)}  coverage: ${percent(total.functions)} of functions, ${percent(total.lines)} of lines`);
  const shortfalls = coverageShortfalls(table, gates);
  if (shortfalls.length > 0) outcome.code = outcome.code || 1;
  return shortfalls;
}

function _summary(outcomes: JobOutcome[], seconds: number): void {
  const all = outcomes.flatMap((o) => o.results);
  const tests = all.reduce((n, r) => n + r.tests, 0);
  const failures = all.reduce((n, r) => n + r.failures, 0);
  const minutes = `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  console.log(`\n${all.length} files, ${tests} tests, ${failures} failed, in ${minutes}`);
  const failed = outcomes.filter((o) => o.code !== 0);
  if (failed.length === 0) return;
  // A process can fail with every test passing (a coverage threshold, an error outside a test): name it then.
  const names = failed.flatMap((o) => {
    const files = o.results.filter((r) => r.failures > 0).map((r) => r.file);
    return files.length > 0 ? files : [`${o.job.key} (exit ${o.code})`];
  });
  console.log(`failed, with their whole output above: ${names.join(", ")}`);
}

function _saveTimings(outcomes: JobOutcome[]): void {
  const merged = { ...timings };
  for (const outcome of outcomes) merged[outcome.job.key] = Math.round(outcome.seconds * 10) / 10;
  const sorted = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(timingsPath, `${JSON.stringify(sorted, null, 2)}\n`);
}
