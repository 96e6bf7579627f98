/**
 * The hit benchmark: cached `GET /{username}` answers at two page sizes (an 8-gist user and a full page of 30),
 * each against a bare `Bun.serve` sending the very same bytes and headers, by two lenses: throughput under wrk
 * and the server's own CPU time per answered request (user + system, from /proc; steadier than req/s on a
 * shared machine). Targets are alternated round by round; with `before`, an earlier build runs in the same
 * rounds against bare servers sending its own bytes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeGithub } from "../../../src/testing/fake-github.ts";
import { measure, median, rssMiB, startBare, startBinary, type WrkResult } from "./lib.ts";

/** What the hit section measures with. */
export interface HitOptions {
  rounds: number;
  duration: number;
  connections: number;
  /** An earlier build to measure in the same rounds. */
  before?: string;
  /** The load generator's name, for the table. */
  measurer: string;
}

/** The page sizes measured: a small user and a full page. */
const sizes = [
  { label: "small page (8 gists)", user: "small", gists: 8 },
  { label: "full page (30 gists)", user: "full", gists: 30 },
] as const;

/** One target measured by one run: its throughput and its CPU time per answered request. */
interface Run extends WrkResult {
  cpuMicros: number;
}

/** The hit rows of the benchmark table. */
export async function cachedHits(options: HitOptions): Promise<string[][]> {
  const github = await startFakeGithub({ users: { small: 8, full: 30 }, rateLimit: { limit: 10_000_000, remaining: 10_000_000 } });
  const builds = [
    { name: "this build", binary: "dist/gists-api" },
    ...(options.before ? [{ name: `before (${options.before})`, binary: options.before }] : []),
  ];
  const cases = [];
  for (const size of sizes) {
    for (const build of builds) {
      const service = await startBinary({ GITHUB_API_URL: github.url }, build.binary);
      const target = `${service.url}/${size.user}`;
      const yardstick = await _sameBytes(target);
      cases.push({ size, build, service, target, yardstick, service_: [] as Run[], bare: [] as Run[] });
    }
  }
  const idleRss = rssMiB(cases[0]!.service.pid);
  for (let round = 1; round <= options.rounds; round++) {
    for (const entry of cases) {
      entry.bare.push(await _run(entry.yardstick.url, entry.yardstick.pid, options));
      entry.service_.push(await _run(entry.target, entry.service.pid, options));
    }
    console.error(
      `hits round ${round}/${options.rounds}: ${cases
        .map(
          (entry) => `${entry.size.user}/${entry.build.name === "this build" ? "now" : "before"} ${_ratio(entry.service_.at(-1)!.rps, entry.bare.at(-1)!.rps)}`,
        )
        .join(", ")}`,
    );
  }
  const loadedRss = rssMiB(cases[0]!.service.pid);
  for (const entry of cases) {
    entry.yardstick.stop();
    await entry.service.stop();
  }
  const startups = [];
  for (let run = 0; run < 5; run++) {
    const probe = await startBinary({ GITHUB_API_URL: github.url, LOG_LEVEL: "warn" });
    startups.push(probe.startupMs);
    await probe.stop();
  }
  await github.close();

  const rows: string[][] = [];
  for (const entry of cases) {
    const throughput = entry.service_.map((run, index) => run.rps / entry.bare[index]!.rps);
    const cpu = entry.service_.map((run, index) => entry.bare[index]!.cpuMicros / run.cpuMicros);
    const now = entry.build.name === "this build";
    const what = `${entry.size.label}, ${entry.yardstick.bytes.toLocaleString("en")} B, ${entry.build.name}`;
    rows.push(
      [
        `cached hit, ${what}: service / bare \`Bun.serve\` sending the same bytes and ${entry.yardstick.headers} headers, by throughput (${options.measurer}, ${options.connections} connections, ${options.rounds} alternated rounds of ${options.duration} s: ${_list(throughput)})`,
        `**${median(throughput).toFixed(2)}×** (${median(entry.service_.map((run) => run.rps)).toFixed(0)} vs ${median(entry.bare.map((run) => run.rps)).toFixed(0)} req/s)`,
        now ? "≥ 0.85×" : "before",
      ],
      [
        `the same, by server CPU per answered request (bare / service: ${_list(cpu)})`,
        `**${median(cpu).toFixed(2)}×** (${_micros(entry.service_)} vs ${_micros(entry.bare)} µs per hit; ${(median(entry.service_.map((run) => run.cpuMicros)) - median(entry.bare.map((run) => run.cpuMicros))).toFixed(1)} µs above bare)`,
        now ? "≥ 0.85×" : "before",
      ],
    );
  }
  rows.push(
    ["exec to first 200 from `/healthz`, median / max of 5", `${median(startups).toFixed(0)} ms / ${Math.max(...startups).toFixed(0)} ms`, "≤ 150 ms"],
    ["idle RSS after start / after the hit runs", `${idleRss.toFixed(1)} MiB / ${loadedRss.toFixed(1)} MiB`, "idle ≤ 80 MB"],
  );
  return rows;
}

/** One wrk run against `url`, with the CPU time the process `pid` spent per answered request meanwhile. */
async function _run(url: string, pid: number, options: HitOptions): Promise<Run> {
  const before = _cpuMicros(pid);
  const result = await measure(url, options.connections, options.duration);
  const spent = _cpuMicros(pid) - before;
  return { ...result, cpuMicros: spent / Math.max(1, result.requests) };
}

/** User + system CPU time of a process so far, in microseconds (from /proc/PID/stat, in clock ticks of 10 ms). */
function _cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** A bare server answering with the bytes and headers the service sends for `target` (asked as wrk asks: no compression). */
async function _sameBytes(target: string): Promise<{ url: string; pid: number; bytes: number; headers: number; stop(): void }> {
  const plain = { headers: { "accept-encoding": "identity" } };
  await fetch(target, plain).then((response) => response.arrayBuffer());
  const hit = await fetch(target, plain);
  const body = new Uint8Array(await hit.arrayBuffer());
  // The runtime adds Date and Content-Length to both; the request id differs per answer, its length does not.
  const headers = Object.fromEntries([...hit.headers].filter(([name]) => name !== "date" && name !== "content-length"));
  const dir = mkdtempSync(join(tmpdir(), "gists-bench-"));
  writeFileSync(join(dir, "body.json"), body);
  writeFileSync(join(dir, "headers.json"), JSON.stringify(headers));
  const bare = await startBare(join(dir, "body.json"), join(dir, "headers.json"));
  return { ...bare, bytes: body.byteLength, headers: Object.keys(headers).length };
}

function _ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

function _list(values: number[]): string {
  return values.map((value) => value.toFixed(2)).join(", ");
}

function _micros(runs: Run[]): string {
  return median(runs.map((run) => run.cpuMicros)).toFixed(1);
}
