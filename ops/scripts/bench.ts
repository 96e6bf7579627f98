/**
 * `npm run bench`: the performance budget, measured side by side in one run on this machine.
 * Prints a markdown table (and writes it to --out FILE). Needs wrk (Debian package `wrk`) and dist/gists-api.
 * `--only hits,memory` runs some sections (hits, budget, generators, stampede, concurrency, zipf, memory; overhead only by name);
 * `--memory-runs N` repeats each memory case N times (default 3) and reports medians; `--before BINARY` adds an
 * earlier build to the hits rounds, each build against a bare server sending its own bytes, and its load generator
 * to the generators rounds; `--wrk-threads 1,2` runs wrk with each thread count there (the first is the yardstick).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startFakeGithub } from "../../src/testing/fake-github.ts";
import { slotOverheadBytes } from "../../src/cache/policy.ts";
import { parsePrometheusText, sampleSum } from "../../src/testing/prometheus-text.ts";
import { drive, median, memoryOf, rssMiB, startBare, startBinary, zipfSampler } from "./bench/lib.ts";
import { autocannonGenerator, compareGenerators, loadtestGenerator, wrkGenerator } from "./bench/generators.ts";
import { budgetComparison } from "./bench/budget.ts";
import { cachedHits } from "./bench/hits.ts";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    duration: { type: "string", default: "5" },
    connections: { type: "string", default: "32" },
    out: { type: "string" },
    only: { type: "string" },
    // An earlier build, measured in the same rounds against its own same-bytes yardstick: before and after in one run.
    before: { type: "string" },
    // wrk's thread counts in the generators section; the first is the yardstick (our generator runs one event loop).
    "wrk-threads": { type: "string", default: "1" },
    "memory-runs": { type: "string", default: "3" },
    // How long each mode of the budget section runs.
    "budget-seconds": { type: "string", default: "40" },
  },
});
const rounds = Number(flags.rounds);
const duration = Number(flags.duration);
const connections = Number(flags.connections);
const memoryRuns = Number(flags["memory-runs"]);
const wrkThreads = flags["wrk-threads"].split(",").map(Number);
// The memory section's budget: the cache bound plus what the process holds besides it.
const memoryBudget = "≤ 64 MiB + 80 MB (140 MiB)";

const measurer = Bun.which("wrk") ? "wrk -t1" : "the project's generator (wrk is not installed)";
if (!(await Bun.file("dist/gists-api").exists())) _fail("dist/gists-api is missing; run 'npm run build' first");

const rows: string[][] = [];
const sections = {
  hits: async () => {
    rows.push(...(await cachedHits({ rounds, duration, connections, before: flags.before, measurer })));
  },
  budget: async () => {
    rows.push(...(await budgetComparison({ seconds: Number(flags["budget-seconds"]) })));
  },
  generators,
  stampede: coldStampede,
  concurrency: upstreamConcurrency,
  zipf: zipfRevalidation,
  memory: memoryAfterManyUsers,
  overhead: entryOverhead,
};
// The overhead section re-derives a constant of the cache; it runs only when asked for by name.
const chosen = flags.only ? flags.only.split(",") : Object.keys(sections).filter((name) => name !== "overhead");
for (const name of chosen) {
  const section = sections[name as keyof typeof sections];
  if (!section) _fail(`--only takes a comma-separated list of ${Object.keys(sections).join(", ")}; got '${name}'`);
  await section();
}

const header = `Machine: ${navigator.hardwareConcurrency} cores, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}. Command: \`npm run bench\`.\n\n`;
const table = ["| measure | result | budget |", "|---|---|---|", ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n");
console.log(`\n${header}${table}`);
if (flags.out) writeFileSync(flags.out, `${header}${table}\n`);
process.exit(0);

/**
 * The load generator against wrk (and autocannon) on one fast loopback target: each its own process, the order
 * rotating round by round; throughput as the median of per-round ratios, and each generator's own CPU cost.
 * With --before, an earlier build's generator runs in the same rounds; --wrk-threads adds wrk with more threads.
 */
async function generators(): Promise<void> {
  const file = join(mkdtempSync(join(tmpdir(), "gists-bench-")), "body.json");
  writeFileSync(file, new Uint8Array(7700).fill(32));
  const bare = await startBare(file);
  const { url } = bare;
  const hasWrk = Bun.which("wrk") !== null;
  const ours = loadtestGenerator();
  const before = flags.before ? loadtestGenerator(flags.before, `before (${flags.before})`) : undefined;
  const wrks = hasWrk ? wrkThreads.map(wrkGenerator) : [];
  const list = [ours, ...(before ? [before] : []), ...wrks, autocannonGenerator];
  // The yardstick is the first wrk: by default -t1, one event loop like ours.
  const yardstick = wrks[0]?.name ?? autocannonGenerator.name;
  const runs = await compareGenerators(list, url, connections, duration, rounds, (round, done) =>
    console.error(`generators round ${round}/${rounds}: ${list.map(({ name }) => `${name} ${done[name]!.rps.toFixed(0)}/s`).join(", ")}`),
  );
  bare.stop();
  const ratios = (name: string, to: string) => runs[name]!.map((run, index) => run.rps / runs[to]![index]!.rps);
  const ratio = (name: string, to: string) => {
    const list = ratios(name, to);
    return `${median(list).toFixed(2)}× (${Math.min(...list).toFixed(2)}–${Math.max(...list).toFixed(2)})`;
  };
  const names = list.map(({ name }) => name);
  const versus = [ours, ...(before ? [before] : [])].map(({ name }) => `${name === ours.name ? "ours" : "before"}/${yardstick} ${ratio(name, yardstick)}`);
  if (yardstick !== autocannonGenerator.name) versus.push(`ours/autocannon ${ratio(ours.name, autocannonGenerator.name)}`);
  for (const extra of wrks.slice(1)) versus.push(`${extra.name}/${yardstick} ${ratio(extra.name, yardstick)}`);
  rows.push(
    [
      `load generators on a bare Bun.serve (${connections} connections, ${rounds} rotated rounds of ${duration} s): ${names.join(" / ")}`,
      `${names.map((name) => median(runs[name]!.map((run) => run.rps)).toFixed(0)).join(" / ")} req/s; ${versus.join(", ")} (median of per-round ratios, range)`,
      wrks.length > 0 ? "≥ 0.9× wrk" : "≥ 1.0× autocannon (wrk not installed)",
    ],
    [
      `load generators' own CPU (user + system, all threads) per 1,000 requests, and % of a core: ${names.join(" / ")}`,
      `${names.map((name) => `${median(runs[name]!.map((run) => run.cpuMicrosPerRequest)).toFixed(1)} ms`).join(" / ")}; ` +
        `${names.map((name) => `${(median(runs[name]!.map((run) => run.cores)) * 100).toFixed(0)}%`).join(" / ")}`,
      "",
    ],
  );
}

/** 100 concurrent cold requests for one user, GitHub answering in 200 ms. */
async function coldStampede(): Promise<void> {
  const github = await startFakeGithub({ users: { stampede: 30 } });
  github.setFault("stampede", { kind: "latency", ms: 200 });
  const service = await startBinary({ GITHUB_API_URL: github.url });
  const statuses = await drive(
    service.url,
    Array.from({ length: 100 }, () => "/stampede"),
    100,
  );
  rows.push([
    "100 concurrent cold requests for one user (GitHub takes 200 ms)",
    `${github.requestCount("stampede")} upstream request; answers ${_statuses(statuses)}`,
    "1 upstream request",
  ]);
  await service.stop();
  await github.close();
}

/** 120 distinct cold users at once, GitHub answering in 100 ms. */
async function upstreamConcurrency(): Promise<void> {
  const users = Object.fromEntries(Array.from({ length: 120 }, (_, index) => [`user-${index}`, 5]));
  const github = await startFakeGithub({ users });
  github.setFault("*", { kind: "latency", ms: 100 });
  const service = await startBinary({ GITHUB_API_URL: github.url });
  const statuses = await drive(
    service.url,
    Object.keys(users).map((login) => `/${login}`),
    120,
  );
  rows.push([
    "120 distinct cold users at once (GitHub takes 100 ms), UPSTREAM_MAX_CONCURRENCY=16",
    `at most ${github.maxInFlight} upstream at once; answers ${_statuses(statuses)}`,
    "≤ 16 at once, none failed",
  ]);
  await service.stop();
  await github.close();
}

/** A zipf workload over 1,000 users with a 1 s TTL, with and without conditional revalidation. */
async function zipfRevalidation(): Promise<void> {
  const requests = 20_000;
  for (const revalidate of ["true", "false"]) {
    const users = Object.fromEntries(Array.from({ length: 1000 }, (_, index) => [`z${index}`, 10]));
    const github = await startFakeGithub({ users, rateLimit: { limit: 1_000_000, remaining: 1_000_000 } });
    const service = await startBinary({
      GITHUB_API_URL: github.url,
      GITHUB_TOKEN: "bench-token",
      CACHE_TTL: "1",
      CACHE_REVALIDATE: revalidate,
      // Like the window above, GitHub's per-minute limit is lifted: the fake has none to keep under.
      UPSTREAM_MAX_PER_MINUTE: "0",
    });
    const next = zipfSampler(1000, 1.0);
    const started = performance.now();
    const statuses = await drive(
      service.url,
      Array.from({ length: requests }, () => `/z${next()}`),
      16,
    );
    const seconds = (performance.now() - started) / 1000;
    const charged = 1_000_000 - github.rateLimit.remaining;
    const sent = github.requestCount();
    rows.push([
      `zipf (s=1) over 1,000 users, ${requests} requests in ${seconds.toFixed(1)} s, CACHE_TTL=1, CACHE_REVALIDATE=${revalidate}`,
      `${sent} upstream requests, ${sent - charged} of them 304; ${charged} charged to the rate limit; answers ${_statuses(statuses)}`,
      revalidate === "true" ? "fewer charged than without" : "",
    ]);
    await service.stop();
    await github.close();
  }
}

/** RSS after 10,000 and after 100,000 distinct users pass through a cache bounded to 64 MiB, with where it goes. */
async function memoryAfterManyUsers(): Promise<void> {
  for (const users of [10_000, 100_000]) {
    const samples: MemorySample[] = [];
    for (let run = 1; run <= memoryRuns; run++) {
      samples.push(await memorySample(users));
      const last = samples.at(-1)!;
      console.error(`memory ${users} users, run ${run}/${memoryRuns}: settled ${last.rss.toFixed(1)} MiB, peak ${last.peak.toFixed(1)} MiB`);
    }
    const mid = (pick: (sample: MemorySample) => number) => median(samples.map(pick)).toFixed(1);
    const list = (pick: (sample: MemorySample) => number) => samples.map((sample) => pick(sample).toFixed(1)).join(", ");
    const last = samples.at(-1)!;
    rows.push(
      [
        `RSS 10 s after ${users.toLocaleString("en")} distinct users (30 gists each, 49 KB GitHub pages), CACHE_MAX_BYTES=64 MiB, median of ${samples.length} (${list((sample) => sample.rss)})`,
        `${mid((sample) => sample.rss)} MiB (peak ${mid((sample) => sample.peak)} MiB); cache ${mid((sample) => sample.cacheMiB)} MiB in ${last.entries} entries, ${last.evictions} evicted; answers ${last.answers}`,
        memoryBudget,
      ],
      [
        "where it goes, medians: file-backed (the executable's pages) / JS objects / buffers the JS heap holds (bodies) / rest of anonymous (allocator, runtime)",
        `${mid((sample) => sample.fileBacked)} / ${mid((sample) => sample.jsObjects)} / ${mid((sample) => sample.external)} / ${mid((sample) => sample.otherAnon)} MiB`,
        "",
      ],
    );
  }
}

/** What one memory run read from the process 10 s after the last answer (MiB). */
interface MemorySample {
  rss: number;
  peak: number;
  fileBacked: number;
  jsObjects: number;
  external: number;
  otherAnon: number;
  anon: number;
  cacheMiB: number;
  entries: number;
  evictions: number;
  answers: string;
}

/** Per-entry memory beyond the bodies: how resident memory less the bodies grows with the entries held, at three bounds. */
async function entryOverhead(): Promise<void> {
  const bounds = [8, 32, 64];
  const slopes: number[] = [];
  for (let run = 1; run <= memoryRuns; run++) {
    const points = [];
    for (const mib of bounds) {
      const sample = await memorySample(10_000, { CACHE_MAX_BYTES: String(mib * 1048576) });
      // What the bound counts as bodies: its bytes less the per-entry constant it adds.
      const bodies = sample.cacheMiB - (sample.entries * slotOverheadBytes) / 1048576;
      points.push({ entries: sample.entries, beyond: sample.anon - bodies });
    }
    slopes.push(_slope(points.map((point) => [point.entries, point.beyond])) * 1048576);
    console.error(
      `overhead run ${run}/${memoryRuns}: ${points.map((p) => `${p.entries} entries ${p.beyond.toFixed(1)} MiB`).join(", ")}; ${slopes.at(-1)!.toFixed(0)} B per entry`,
    );
  }
  rows.push([
    `memory per cached page beyond its counted bodies: slope of (anonymous RSS − bodies) over entries held at ${bounds.join(", ")} MiB bounds, 10,000 users, median of ${slopes.length} (${slopes.map((slope) => slope.toFixed(0)).join(", ")})`,
    `${median(slopes).toFixed(0)} B per entry`,
    `counted: ${slotOverheadBytes} B (slotOverheadBytes)`,
  ]);
}

/** One run: `users` distinct users through a fresh service, then its memory once settled. */
async function memorySample(users: number, env: Record<string, string> = {}): Promise<MemorySample> {
  const github = await startFakeGithub({ autoUsers: { prefix: "m", gists: 30 }, rateLimit: { limit: 10_000_000, remaining: 10_000_000 } });
  const service = await startBinary({ GITHUB_API_URL: github.url, UPSTREAM_MAX_PER_MINUTE: "0", ...env });
  const statuses = await drive(
    service.url,
    Array.from({ length: users }, (_, index) => `/m${index}`),
    32,
  );
  const peak = rssMiB(service.pid);
  await Bun.sleep(10_000);
  const memory = memoryOf(service.pid);
  const stats = (await (await fetch(`${service.url}/cache/stats`)).json()) as Record<string, number>;
  const scrape = parsePrometheusText(await (await fetch(`${service.url}/metrics`)).text());
  await service.stop();
  await github.close();
  const mib = (name: string) => sampleSum(scrape, name) / 1048576;
  return {
    rss: memory.rss,
    peak,
    fileBacked: memory.file,
    // Bun's heap "used" includes the external buffers the collector is told about.
    jsObjects: mib("nodejs_heap_size_used_bytes") - mib("nodejs_external_memory_bytes"),
    external: mib("nodejs_external_memory_bytes"),
    otherAnon: memory.anon - mib("nodejs_heap_size_used_bytes"),
    anon: memory.anon,
    cacheMiB: stats.bytes! / 1048576,
    entries: stats.size!,
    evictions: stats.evictions!,
    answers: _statuses(statuses),
  };
}

/** The least-squares slope of y over x. */
function _slope(points: number[][]): number {
  const mean = (index: number) => points.reduce((sum, point) => sum + point[index]!, 0) / points.length;
  const [mx, my] = [mean(0), mean(1)];
  const num = points.reduce((sum, [x, y]) => sum + (x! - mx) * (y! - my), 0);
  const den = points.reduce((sum, [x]) => sum + (x! - mx) ** 2, 0);
  return num / den;
}

function _statuses(statuses: Map<number, number>): string {
  return [...statuses].map(([status, count]) => `${count}×${status}`).join(", ");
}

function _fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(1);
}
