/**
 * `npm run bench`: the performance budget, measured side by side in one run on this machine.
 * Prints a markdown table (and writes it to --out FILE when given). Needs wrk (Debian package `wrk`).
 */
import { createServer as createNetServer } from "node:net";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startFakeGithub } from "../../src/testing/fake-github.ts";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    connections: { type: "string", default: "32" },
    out: { type: "string" },
  },
});
const rounds = Number(flags.rounds);
const duration = Number(flags.duration);
const connections = Number(flags.connections);
const binary = "dist/gists-api";

if (!Bun.which("wrk")) {
  console.error("bench: wrk is not installed (apt-get install -y wrk)");
  process.exit(1);
}
if (!(await Bun.file(binary).exists())) {
  console.error(`bench: ${binary} is missing; run 'npm run build' first`);
  process.exit(1);
}

const github = await startFakeGithub({ users: { octocat: 30 } });
const servicePort = await _freePort();
const service = Bun.spawn([binary, "serve"], {
  env: { PATH: process.env.PATH ?? "", PORT: String(servicePort), HOST: "127.0.0.1", GITHUB_API_URL: github.url, LOG_LEVEL: "info" },
  stdout: "ignore",
  stderr: "inherit",
});
const serviceUrl = `http://127.0.0.1:${servicePort}`;
const startup = await _waitHealthy(`${serviceUrl}/healthz`, performance.now());
await Bun.sleep(1000);
const idleRss = _rssMiB(service.pid);

const target = `${serviceUrl}/octocat`;
const warm = await fetch(target);
const hitBody = new Uint8Array(await (await fetch(target)).arrayBuffer());
if (warm.status !== 200) throw new Error(`bench: warm-up answered ${warm.status}`);
const dir = mkdtempSync(join(tmpdir(), "gists-bench-"));
writeFileSync(join(dir, "body.json"), hitBody);
const barePort = await _freePort();
const bare = Bun.spawn([process.execPath, "ops/scripts/bare-server.ts", join(dir, "body.json"), String(barePort)], {
  stdout: "ignore",
  stderr: "inherit",
});
await _waitHealthy(`http://127.0.0.1:${barePort}/`, performance.now());

const results = { bare: [] as WrkResult[], service: [] as WrkResult[] };
for (let round = 0; round < rounds; round++) {
  results.bare.push(await _wrk(`http://127.0.0.1:${barePort}/`));
  results.service.push(await _wrk(target));
  console.error(
    `round ${round + 1}/${rounds}: bare ${results.bare.at(-1)!.rps.toFixed(0)} req/s, service ${results.service.at(-1)!.rps.toFixed(0)} req/s`,
  );
}
const loadedRss = _rssMiB(service.pid);
const ratios = results.service.map((result, index) => result.rps / results.bare[index]!.rps);

const startups: number[] = [];
for (let run = 0; run < 5; run++) {
  const port = await _freePort();
  const started = performance.now();
  const child = Bun.spawn([binary, "serve"], {
    env: { PATH: process.env.PATH ?? "", PORT: String(port), HOST: "127.0.0.1", GITHUB_API_URL: github.url, LOG_LEVEL: "warn" },
    stdout: "ignore",
    stderr: "inherit",
  });
  startups.push(await _waitHealthy(`http://127.0.0.1:${port}/healthz`, started));
  child.kill("SIGTERM");
  await child.exited;
}

service.kill("SIGTERM");
bare.kill("SIGTERM");
await Promise.all([service.exited, bare.exited]);
await github.close();

const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
const table = [
  `| measure | value | budget |`,
  `|---|---|---|`,
  `| cached \`GET /{username}\` (${hitBody.length} B body), wrk -t1 -c${connections}, median of ${rounds}×${duration}s | ${median(results.service.map((r) => r.rps)).toFixed(0)} req/s | ≥ 50,000 req/s |`,
  `| bare \`Bun.serve\` with the same bytes, same run | ${median(results.bare.map((r) => r.rps)).toFixed(0)} req/s | (yardstick) |`,
  `| ratio service / bare (median of per-round ratios; rounds: ${ratios.map((r) => r.toFixed(2)).join(", ")}) | ${median(ratios).toFixed(2)}× | ≥ 0.80× |`,
  `| p99 latency at ${connections} connections: service / bare | ${median(results.service.map((r) => r.p99Ms)).toFixed(2)} ms / ${median(results.bare.map((r) => r.p99Ms)).toFixed(2)} ms | |`,
  `| exec to first 200 from \`/healthz\` (median / max of 5) | ${median(startups).toFixed(0)} ms / ${Math.max(...startups).toFixed(0)} ms | ≤ 150 ms |`,
  `| idle RSS after start | ${idleRss.toFixed(1)} MiB | ≤ 80 MB |`,
  `| RSS after the load | ${loadedRss.toFixed(1)} MiB | |`,
].join("\n");
const header = `Machine: ${navigator.hardwareConcurrency} cores, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}. Command: \`npm run bench\`.\n\n`;
console.log(header + table);
if (flags.out) writeFileSync(flags.out, `${header}${table}\n`);

interface WrkResult {
  rps: number;
  p99Ms: number;
}

async function _wrk(url: string): Promise<WrkResult> {
  const proc = Bun.spawn(["wrk", "-t1", `-c${connections}`, `-d${duration}s`, "--latency", url], { stdout: "pipe" });
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

async function _waitHealthy(url: string, started: number): Promise<number> {
  const deadline = started + 10_000;
  while (performance.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.status === 200) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await Bun.sleep(2);
  }
  throw new Error(`bench: ${url} did not answer within 10 s`);
}

function _rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
}

function _freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
