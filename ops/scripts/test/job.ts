/** One `bun test` process of the tiered runner: its files, its captured output and its per-file results. */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileResults, type FileResult } from "./junit.ts";
import type { Tier } from "./tiers.ts";

/** Test files run together in one `bun test` process. */
export interface Job {
  tier: Tier;
  /** Name under which its duration is recorded in timings.json: the tier for a whole-tier job, else the file. */
  key: string;
  files: string[];
  coverage: boolean;
  /** Shared resources (tiers.ts) the job holds: no two jobs holding one run at the same time. */
  resources: string[];
}

/** What a job did: its exit code, everything it printed (stdout and stderr in order) and each file's result. */
export interface JobOutcome {
  job: Job;
  code: number;
  output: string;
  results: FileResult[];
  seconds: number;
}

const _running = new Set<Bun.Subprocess>();

/** How long one test may take: black-box suites start processes, and a 2-core machine running four files is slow. */
export const testTimeoutMs = 60_000;

/** Run one job to its end from the repository root; `bun test` exits non-zero on a failure or a missed threshold. */
export async function runJob(job: Job, root: string): Promise<JobOutcome> {
  const dir = mkdtempSync(join(tmpdir(), "gists-api-test-"));
  const log = join(dir, "output.txt");
  const xml = join(dir, "junit.xml");
  // One descriptor for both streams keeps a failure's stderr next to the stdout printed before it.
  const fd = openSync(log, "w");
  const started = performance.now();
  try {
    const coverage = job.coverage ? ["--coverage", "--coverage-reporter=text"] : [];
    // Bun reads no per-test timeout from bunfig.toml: without this flag every test gets its 5 s default.
    const timeout = `--timeout=${testTimeoutMs}`;
    let proc: Bun.Subprocess;
    try {
      proc = Bun.spawn(
        [process.execPath, "test", "--no-orphans", timeout, ...coverage, "--reporter=junit", `--reporter-outfile=${xml}`, ...job.files.map((f) => `./${f}`)],
        { cwd: root, stdin: "ignore", stdout: fd, stderr: fd, env: process.env },
      );
    } catch (error) {
      return { job, code: 1, output: `could not start bun test: ${(error as Error).message}`, results: [], seconds: 0 };
    }
    _running.add(proc);
    const code = await proc.exited;
    _running.delete(proc);
    const seconds = (performance.now() - started) / 1000;
    const output = readFileSync(log, "utf8");
    let results: FileResult[] = [];
    try {
      results = fileResults(readFileSync(xml, "utf8"));
    } catch {
      // No report: the process died before writing one; the output says why.
    }
    return { job, code, output, results, seconds };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stop every job still running (on Ctrl-C or a termination signal); `--no-orphans` takes their children along. */
export function stopJobs(): void {
  for (const proc of _running) proc.kill("SIGTERM");
}
