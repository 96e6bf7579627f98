/** Helpers of the benchmark: processes on loopback ports, wrk runs, RSS readings and a zipf sampler. */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

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
  return { rps, p99Ms };
}

/** Resident memory of a process, in MiB. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
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

/** A sampler of ranks 0..n-1 with zipf popularity (exponent `s`), from a seeded generator so runs repeat. */
export function zipfSampler(n: number, s: number, seed = 42): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let rank = 0; rank < n; rank++) {
    total += 1 / (rank + 1) ** s;
    cumulative[rank] = total;
  }
  let state = seed >>> 0;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    const target = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cumulative[middle]! < target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
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
