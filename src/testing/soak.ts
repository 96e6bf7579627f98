import * as hdr from "hdr-histogram-js";
import { readdirSync, readFileSync } from "node:fs";
import { runLoad, type LoadResult } from "../loadtest/engine.ts";
import { socketTransport } from "../loadtest/socket.bun.ts";
import type { Transport } from "../loadtest/transport.ts";
import { fakeUserId } from "./fake-gists.ts";
import { startFakeGithub } from "./fake-github.ts";
import { binaryPath, ensureBinary } from "./service.ts";
import { judgeSoak, tableHeader, tableRow, type SoakBounds, type SoakCheck, type SoakInterval } from "./soak-report.ts";

export type { SoakBounds, SoakCheck, SoakInterval } from "./soak-report.ts";

/** What to run: a zipf population through the binary, in intervals of equal length. */
export interface SoakPlan {
  minutes: number;
  users: number;
  intervalSeconds: number;
  /** Requests per second (open model: a stalled service shows as latency, not as fewer requests). */
  rate: number;
  connections: number;
  zipf: number;
  /** Settings for the service beyond the defaults (the soak script leaves the cache bounds at their defaults). */
  env?: Record<string, string>;
  bounds: SoakBounds;
  /** Where the table and verdict go, line by line. */
  print: (line: string) => void;
}

/** What a soak run saw, and whether it passed. */
export interface SoakReport {
  intervals: SoakInterval[];
  checks: SoakCheck[];
  passed: boolean;
  total: LoadResult;
}

/**
 * Runs a soak: a fake GitHub where every `user-N` exists (5 to 30 gists each), the compiled binary, and the
 * project's load generator sending zipf-distributed users at a fixed rate; every interval it prints throughput,
 * latency, the service's RSS and open descriptors, and the cache's occupancy; at the end, the verdict.
 */
export async function runSoak(plan: SoakPlan): Promise<SoakReport> {
  await ensureBinary();
  const fake = await startFakeGithub({
    autoUsers: { prefix: "user-", gists: (login) => 5 + (fakeUserId(login) % 26) },
    rateLimit: { limit: 1_000_000_000 },
  });
  // Neither GitHub's window nor its per-minute limit is what a soak measures: both are lifted.
  const service = await _startQuiet({ GITHUB_API_URL: fake.url, GITHUB_TOKEN: "ghp_soak", UPSTREAM_MAX_PER_MINUTE: "0", ...plan.env });
  try {
    const intervals: SoakInterval[] = [];
    const sink = _intervalSink();
    const count = Math.max(1, Math.round((plan.minutes * 60) / plan.intervalSeconds));
    plan.print(
      `soak: ${plan.users} users (zipf ${plan.zipf}), ${plan.rate} req/s over ${plan.connections} connections, ${count} x ${plan.intervalSeconds} s; service pid ${service.pid}`,
    );
    plan.print(tableHeader());
    const started = performance.now();
    const load = runLoad(
      {
        url: new URL(`${service.url}/{user}`),
        connections: plan.connections,
        durationMs: count * plan.intervalSeconds * 1000,
        rate: plan.rate,
        users: plan.users,
        zipf: plan.zipf,
        warmupMs: 0,
        drainMs: 5_000,
      },
      _measured(socketTransport, sink.record),
    );
    let previous = await _cacheStats(service.url);
    for (let index = 1; index <= count; index++) {
      await Bun.sleep(Math.max(0, started + index * plan.intervalSeconds * 1000 - performance.now()));
      const stats = await _cacheStats(service.url);
      const answers = sink.take();
      const answered = stats.hits + stats.stale_served + stats.misses - (previous.hits + previous.stale_served + previous.misses);
      const interval: SoakInterval = {
        at: (performance.now() - started) / 1000,
        requests: answers.requests,
        rps: answers.requests / plan.intervalSeconds,
        p50: answers.p50,
        p99: answers.p99,
        max: answers.max,
        errors: answers.errors,
        rssMb: _rssMb(service.pid),
        fds: readdirSync(`/proc/${service.pid}/fd`).length,
        cacheMb: stats.bytes / 2 ** 20,
        entries: stats.size,
        evictions: stats.evictions,
        hitRate: answered > 0 ? (stats.hits + stats.stale_served - previous.hits - previous.stale_served) / answered : 0,
        upstream: fake.requestCount(),
        full: stats.bytes >= stats.max_bytes * 0.95 || stats.size >= stats.max_entries * 0.95,
        bounded: stats.bytes <= stats.max_bytes && stats.size <= stats.max_entries,
      };
      // The fake records every request; keep only this interval's, so a long run does not grow the harness.
      fake.clearRequests();
      previous = stats;
      intervals.push(interval);
      plan.print(tableRow(interval));
    }
    const total = await load;
    const checks = judgeSoak(intervals, plan.bounds);
    plan.print("");
    plan.print(
      `total: ${total.requests} requests, ${total.rps} req/s, p99 ${total.latency_ms.p99} ms (from each intended send), statuses ${JSON.stringify(total.status)}`,
    );
    for (const check of checks) plan.print(`${check.passed ? "PASS" : "FAIL"}  ${check.name}: ${check.detail}`);
    const passed = checks.every((check) => check.passed);
    plan.print(passed ? "verdict: PASS" : "verdict: FAIL");
    return { intervals, checks, passed, total };
  } finally {
    await service.stop();
    await fake.close();
  }
}

/** Answers of the current interval: count, errors and a latency histogram, handed over and reset by `take`. */
function _intervalSink() {
  const fresh = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let histogram = fresh();
  let requests = 0;
  let errors = 0;
  return {
    record(status: number | "error", ms: number): void {
      requests++;
      if (status === "error" || status >= 500) errors++;
      else histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
    },
    take() {
      const empty = histogram.totalCount === 0;
      const taken = {
        requests,
        errors,
        p50: empty ? 0 : histogram.getValueAtPercentile(50) / 1000,
        p99: empty ? 0 : histogram.getValueAtPercentile(99) / 1000,
        max: empty ? 0 : histogram.maxValue / 1000,
      };
      histogram.destroy();
      histogram = fresh();
      requests = 0;
      errors = 0;
      return taken;
    },
  };
}

/** The base transport, timing each request from send to answer for the interval table. */
function _measured(base: Transport, record: (status: number | "error", ms: number) => void): Transport {
  return (origin) => {
    const connection = base(origin);
    return {
      send(path, exchange) {
        const sentAt = performance.now();
        connection.send(path, {
          answered(status, cache) {
            record(status, performance.now() - sentAt);
            exchange.answered(status, cache);
          },
          failed(error) {
            record("error", performance.now() - sentAt);
            exchange.failed(error);
          },
        });
      },
      close: () => connection.close(),
    };
  };
}

interface _CacheStats {
  size: number;
  bytes: number;
  max_bytes: number;
  max_entries: number;
  evictions: number;
  hits: number;
  misses: number;
  stale_served: number;
}

async function _cacheStats(url: string): Promise<_CacheStats> {
  return (await (await fetch(`${url}/cache/stats`)).json()) as _CacheStats;
}

function _rssMb(pid: number): number {
  return Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024);
}

/**
 * Starts the binary on a free loopback port with the access log on (as deployed) but discarded: the harness
 * reads stdout only until the "listening" line, so a long run does not pile the log up in memory.
 */
async function _startQuiet(env: Record<string, string>): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const child = Bun.spawn([binaryPath, "serve"], {
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  const decoder = new TextDecoder();
  let text = "";
  let url: string | undefined;
  const reader = child.stdout.getReader();
  const deadline = Date.now() + 10_000;
  while (url === undefined && Date.now() < deadline) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    url = /"msg":"listening","url":"([^"]+)"/.exec(text)?.[1];
  }
  if (url === undefined) {
    child.kill("SIGKILL");
    throw new Error(`soak: the service did not start:\n${text.slice(-2000)}`);
  }
  // Keep draining stdout, or a full pipe would stall the service's logging.
  void (async () => {
    for (;;) if ((await reader.read()).done) return;
  })();
  return {
    url,
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 12_000);
      await child.exited;
      clearTimeout(timer);
    },
  };
}
