/** Helpers of the benchmark: processes on loopback ports, wrk runs, RSS readings and a zipf sampler. */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { runLoad } from "../../../src/loadtest/engine.ts";
import { socketTransport } from "../../../src/loadtest/socket.bun.ts";

export { zipfSampler } from "../../../src/loadtest/zipf.ts";

/** A service process started for a measurement. */
export interface BenchService {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `dist/gists-api serve` on a free port with `env`, logs discarded, and waits for /healthz. */
export async function startBinary(env: Record<string, string>, binary = "dist/gists-api"): Promise<BenchService & { startupMs: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = Bun.spawn([binary, "serve"], {
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: String(port), LOG_LEVEL: "info", ...env },
    stdout: "ignore",
    stderr: "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  const startupMs = await waitHealthy(`${url}/healthz`, started);
  return {
    url,
    pid: child.pid,
    startupMs,
    stop: async () => {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

/** Milliseconds from `started` until `url` answers 200 (polled every 2 ms, 10 s at most). */
export async function waitHealthy(url: string, started: number): Promise<number> {
  const deadline = started + 10_000;
  while (performance.now() < deadline) {
    try {
      if ((await fetch(url)).status === 200) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await Bun.sleep(2);
  }
  throw new Error(`bench: ${url} did not answer within 10 s`);
}

/** What one wrk run measured. */
export interface WrkResult {
  rps: number;
  p99Ms: number;
  /** Requests answered in the run. */
  requests: number;
}

/** Measures `url` with wrk when it is installed, else with the project's own generator (gists-api loadtest's engine). */
export async function measure(url: string, connections: number, seconds: number): Promise<WrkResult> {
  return Bun.which("wrk") ? wrk(url, connections, seconds) : generator(url, connections, seconds);
}

/** One run of the project's generator (raw sockets, closed model). */
export async function generator(url: string, connections: number, seconds: number): Promise<WrkResult> {
  const result = await runLoad({ url: new URL(url), connections, durationMs: seconds * 1000, zipf: 1, warmupMs: 0, drainMs: 5000 }, socketTransport);
  if (result.errors > 0 || Object.keys(result.status).some((status) => !status.startsWith("2"))) {
    throw new Error(`bench: non-2xx answers from ${url}: ${JSON.stringify(result.status)}`);
  }
  return { rps: result.rps, p99Ms: result.latency_ms.p99, requests: Math.round(result.rps * seconds) };
}

/** One autocannon run (the Node load generator), for comparing generators. */
export async function autocannon(url: string, connections: number, seconds: number): Promise<WrkResult> {
  const proc = Bun.spawn(["node", "node_modules/autocannon/autocannon.js", "-j", "-c", String(connections), "-d", String(seconds), url], {
    stdout: "pipe",
    stderr: "ignore",
  });
  const report = JSON.parse(await new Response(proc.stdout).text()) as {
    requests: { average: number; total: number };
    latency: { p99: number };
    duration: number;
  };
  await proc.exited;
  return { rps: report.requests.total / report.duration, p99Ms: report.latency.p99, requests: report.requests.total };
}

/** Runs `wrk -t1 -cN -dDs --latency` against `url`; any non-2xx answer fails the benchmark. */
export async function wrk(url: string, connections: number, seconds: number): Promise<WrkResult> {
  const proc = Bun.spawn(["wrk", "-t1", `-c${connections}`, `-d${seconds}s`, "--latency", url], { stdout: "pipe" });
  const text = await new Response(proc.stdout).text();
  await proc.exited;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(text);
  const scale = { us: 0.001, ms: 1, s: 1000 } as const;
  const p99Ms = p99 ? Number(p99[1]) * scale[p99[2] as keyof typeof scale] : Number.NaN;
  const errors = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  if (errors) throw new Error(`bench: ${errors[1]} non-2xx answers from ${url}`);
  if (!Number.isFinite(rps)) throw new Error(`bench: could not read wrk's output:\n${text}`);
  return { rps, p99Ms, requests: Number(/(\d+) requests in/.exec(text)?.[1] ?? Math.round(rps * seconds)) };
}

/** Starts the bare yardstick server on a free port, answering the body in `file` (with the headers in `headersFile`). */
export async function startBare(file: string, headersFile?: string): Promise<{ url: string; pid: number; stop(): void }> {
  const port = await freePort();
  const args = [process.execPath, "ops/scripts/bench/bare-server.ts", file, String(port), ...(headersFile ? [headersFile] : [])];
  const child = Bun.spawn(args, { stdout: "ignore" });
  const url = `http://127.0.0.1:${port}/`;
  await waitHealthy(url, performance.now());
  return { url, pid: child.pid, stop: () => child.kill("SIGTERM") };
}

/** Resident memory of a process, in MiB. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
}

/** Resident memory of a process in MiB: all of it, the file-backed part (mapped executable) and the anonymous part. */
export function memoryOf(pid: number): { rss: number; file: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]) / 1024;
  return { rss: kib("VmRSS"), file: kib("RssFile"), anon: kib("RssAnon") };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Sends `paths` with at most `concurrency` in flight; returns the count of answers by status. */
export async function drive(base: string, paths: Iterable<string>, concurrency: number): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  const iterator = paths[Symbol.iterator]();
  const worker = async () => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) {
      const response = await fetch(`${base}${next.value}`);
      await response.arrayBuffer();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

/** The median of a list of numbers. */
export function median(list: number[]): number {
  return [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
}
