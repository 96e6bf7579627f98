/**
 * `npm run bench:fleet`: the shared cache tier, measured side by side in one run on this machine. Needs
 * dist/gists-api, redis-server and wrk. Prints a markdown table (and writes it to --out FILE).
 *
 * - a hit from the shared tier (a page another replica stored) next to a hit from the local tier;
 * - the single-process hit path with REDIS_URL set and without it (wrk, alternated);
 * - GitHub calls per page for 1 replica, 3 replicas alone, 3 replicas sharing Redis;
 * - how long a DELETE /cache takes to reach every replica;
 * - the Redis client: ioredis (portable, used) and Bun's built-in client, reading the same stored entry.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { startFakeGithub } from "../../../src/testing/fake-github.ts";
import { startRedis } from "../../../src/testing/redis.ts";
import { measure, median, startBinary, type BenchService } from "./lib.ts";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    duration: { type: "string", default: "5" },
    users: { type: "string", default: "1000" },
    out: { type: "string" },
  },
});
const rounds = Number(flags.rounds);
const duration = Number(flags.duration);
const users = Number(flags.users);
const rows: string[][] = [];
// Every replica started, so a failed run leaves none behind.
const running: BenchService[] = [];
const start = async (settings: Record<string, string>): Promise<BenchService> => {
  const service = await startBinary(settings);
  running.push(service);
  return service;
};

// A window big enough for every fill of the run: an exhausted one would be shared, and every replica would 429.
const github = await startFakeGithub({ autoUsers: { prefix: "user", gists: 30 }, rateLimit: { limit: 10_000_000, remaining: 10_000_000 } });
const redis = await startRedis();
// Nor a per-minute pace: the fake has no such limit to keep under.
const env = { GITHUB_API_URL: github.url, CACHE_TTL: "3600", UPSTREAM_MAX_PER_MINUTE: "0" };
const shared = { ...env, REDIS_URL: redis.url };

try {
  await sharedVersusLocalHits();
  await hitPathWithAndWithoutRedis();
  await callsPerPage();
  await fleetWideClear();
  await redisClients();
} finally {
  await Promise.all(running.map((service) => service.stop()));
  await redis.stop();
  await github.close();
}
const header = `Machine: ${navigator.hardwareConcurrency} cores, Bun ${Bun.version}, Redis ${_redisVersion()}, ${new Date().toISOString().slice(0, 10)}. Command: \`npm run bench:fleet\`.\n\n`;
const table = ["| measure | result |", "|---|---|", ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n");
console.log(`\n${header}${table}`);
if (flags.out) writeFileSync(flags.out, `${header}${table}\n`);
process.exit(0);

/**
 * Replica A stores `users` pages (few enough to all stay in its local tier); replica B keeps one entry locally
 * (CACHE_MAX_ENTRIES=1), so every request it gets for those pages is a shared-tier hit: a Redis read, a check
 * of the entry, a local install and the routed answer. wrk cycles through the pages on both, alternated.
 */
async function sharedVersusLocalHits(): Promise<void> {
  const a = await start(shared);
  const b = await start({ ...shared, CACHE_MAX_ENTRIES: "1" });
  const paths = Array.from({ length: users }, (_, i) => `/user1x${i}`);
  await _fill(a.url, paths);
  const script = join(mkdtempSync(join(tmpdir(), "gists-fleet-")), "pages.lua");
  writeFileSync(script, `local n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format("GET", "/user1x" .. (n % ${users}))\nend\n`);
  const sharedRuns: Latency[] = [];
  const localRuns: Latency[] = [];
  for (let round = 1; round <= rounds; round++) {
    sharedRuns.push(await _wrkLatency(b.url, script));
    localRuns.push(await _wrkLatency(a.url, script));
    console.error(`shared vs local round ${round}/${rounds}: shared ${sharedRuns.at(-1)!.rps.toFixed(0)}/s, local ${localRuns.at(-1)!.rps.toFixed(0)}/s`);
  }
  const stats = (await (await fetch(`${b.url}/cache/stats`)).json()) as { shared: { hits: number }; misses: number };
  const ratios = sharedRuns.map((run, i) => run.rps / localRuns[i]!.rps);
  rows.push([
    `shared-tier hit (page stored by another replica, read from Redis), ${users} pages cycled, wrk -t1 -c32, median of ${rounds}×${duration}s`,
    `${_median(sharedRuns, "rps", 0)} req/s, p50 ${_median(sharedRuns, "p50", 2)} ms, p99 ${_median(sharedRuns, "p99", 2)} ms ` +
      `(${stats.shared.hits} shared reads, ${stats.misses} misses)`,
  ]);
  rows.push([
    "local-tier hit, the same pages and load, same run",
    `${_median(localRuns, "rps", 0)} req/s, p50 ${_median(localRuns, "p50", 2)} ms, p99 ${_median(localRuns, "p99", 2)} ms; shared / local ${median(ratios).toFixed(2)}×`,
  ]);
  await Promise.all([a.stop(), b.stop()]);
}

/** wrk on one cached page: a replica with REDIS_URL against one without, alternated. */
async function hitPathWithAndWithoutRedis(): Promise<void> {
  const [alone, withRedis] = await Promise.all([start(env), start(shared)]);
  for (const service of [alone, withRedis]) await fetch(`${service.url}/user0hit`).then((res) => res.arrayBuffer());
  const ratios: number[] = [];
  const aloneRps: number[] = [];
  const sharedRps: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const plain = await measure(`${alone.url}/user0hit`, 32, duration);
    const tiered = await measure(`${withRedis.url}/user0hit`, 32, duration);
    aloneRps.push(plain.rps);
    sharedRps.push(tiered.rps);
    ratios.push(tiered.rps / plain.rps);
    console.error(`hit path round ${round}/${rounds}: without Redis ${plain.rps.toFixed(0)}/s, with ${tiered.rps.toFixed(0)}/s`);
  }
  rows.push([
    "cached GET /{username} on one replica, wrk -t1 -c32, with REDIS_URL / without (median of per-round ratios)",
    `${median(ratios).toFixed(2)}× (${median(sharedRps).toFixed(0)} / ${median(aloneRps).toFixed(0)} req/s; rounds ${ratios.map((r) => r.toFixed(2)).join(", ")})`,
  ]);
  await Promise.all([alone.stop(), withRedis.stop()]);
}

/** 29 users × 6 rounds, round robin over the replicas: GitHub calls per page. */
async function callsPerPage(): Promise<void> {
  const setups = [
    ["1 replica", 1, env],
    ["3 replicas, each alone", 3, env],
    ["3 replicas sharing Redis", 3, shared],
  ] as const;
  for (const [index, [label, count, settings]] of setups.entries()) {
    redis.cli("FLUSHALL");
    const replicas = await Promise.all(Array.from({ length: count }, () => start(settings)));
    const logins = Array.from({ length: 29 }, (_, i) => `user${index}p${i}`);
    const before = github.requestCount();
    let turn = 0;
    for (let round = 0; round < 6; round++) {
      await Promise.all(logins.map((login) => fetch(`${replicas[turn++ % count]!.url}/${login}`).then((res) => res.arrayBuffer())));
    }
    const calls = github.requestCount() - before;
    rows.push([`GitHub calls per page, 29 users × 6 rounds round robin, ${label}`, `${(calls / logins.length).toFixed(2)} (${calls} calls)`]);
    await Promise.all(replicas.map((replica) => replica.stop()));
  }
}

/** DELETE /cache on one of three replicas: time until every replica reports an empty cache. */
async function fleetWideClear(): Promise<void> {
  const replicas = await Promise.all(Array.from({ length: 3 }, () => start(shared)));
  const times: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const paths = Array.from({ length: 200 }, (_, i) => `/user${round}c${i}`);
    for (const replica of replicas) await _closedLoop(replica.url, paths, 16);
    const started = performance.now();
    await fetch(`${replicas[round % 3]!.url}/cache`, { method: "DELETE" }).then((res) => res.arrayBuffer());
    while (!(await _allEmpty(replicas))) await Bun.sleep(1);
    times.push(performance.now() - started);
  }
  rows.push([
    "DELETE /cache on one of 3 replicas until all 3 report size 0 (200 pages each)",
    `median ${median(times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms over ${rounds}`,
  ]);
  await Promise.all(replicas.map((replica) => replica.stop()));
}

/** The shared-hit read itself: one stored entry read by ioredis and by Bun's built-in client, alternated. */
async function redisClients(): Promise<void> {
  const service = await start(shared);
  await fetch(`${service.url}/user0read?per_page=100`).then((res) => res.arrayBuffer());
  const key = "gists-api:v1:user0read:1:100";
  const size = Number(redis.cli("STRLEN", key).trim());
  const portable = new Redis(redis.url);
  const builtIn = new Bun.RedisClient(redis.url);
  const results: Record<string, number[]> = { ioredis: [], bun: [] };
  for (let round = 0; round < rounds; round++) {
    results.ioredis!.push(await _reads(() => portable.getBuffer(key)));
    results.bun!.push(await _reads(() => builtIn.getBuffer(key)));
  }
  rows.push([
    `GET of one stored entry (${size} B), 32 in flight: ioredis / Bun's RedisClient`,
    `${median(results.ioredis!).toFixed(0)} / ${median(results.bun!).toFixed(0)} reads/s`,
  ]);
  portable.disconnect();
  builtIn.close();
  await service.stop();
}

interface Latency {
  rps: number;
  p50: number;
  p99: number;
}

async function _wrkLatency(url: string, script: string): Promise<Latency> {
  const run = Bun.spawnSync(["wrk", "-t1", "-c32", `-d${duration}s`, "--latency", "-s", script, url]);
  const text = run.stdout.toString();
  const errors = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  if (run.exitCode !== 0 || errors) throw new Error(`bench: wrk against ${url} failed: ${text}${run.stderr}`);
  const ms = (label: string) => {
    const found = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(text);
    return found ? Number(found[1]) * { us: 0.001, ms: 1, s: 1000 }[found[2] as "us" | "ms" | "s"] : Number.NaN;
  };
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]), p50: ms("50"), p99: ms("99") };
}

async function _fill(base: string, paths: string[]): Promise<void> {
  const run = await _closedLoop(base, paths, 16);
  if ([...run.verdicts.keys()].some((verdict) => !verdict.startsWith("200"))) throw new Error(`bench: filling failed: ${[...run.verdicts]}`);
}

function _median(runs: Latency[], field: keyof Latency, digits: number): string {
  return median(runs.map((run) => run[field])).toFixed(digits);
}

interface Run {
  verdicts: Map<string, number>;
}

async function _closedLoop(base: string, paths: string[], concurrency: number): Promise<Run> {
  const verdicts = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < paths.length) {
        const path = paths[next++]!;
        const res = await fetch(`${base}${path}`);
        await res.arrayBuffer();
        const verdict = `${res.status} ${res.headers.get("x-cache")}`;
        verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
      }
    }),
  );
  return { verdicts };
}

async function _reads(read: () => Promise<unknown>): Promise<number> {
  const total = 20_000;
  let left = total;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (left-- > 0) await read();
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

async function _allEmpty(replicas: BenchService[]): Promise<boolean> {
  const sizes = await Promise.all(replicas.map(async (replica) => ((await (await fetch(`${replica.url}/cache/stats`)).json()) as { size: number }).size));
  return sizes.every((size) => size === 0);
}

function _redisVersion(): string {
  return /v=(\S+)/.exec(Bun.spawnSync(["redis-server", "--version"]).stdout.toString())?.[1] ?? "?";
}
