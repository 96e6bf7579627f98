/**
 * Where the resident memory of a full cache goes: `bun ops/scripts/bench/memory-breakdown.ts [USERS]`.
 * Runs the service from source in a child process (the same code the binary compiles), sends USERS distinct
 * users (default 100,000) through it at CACHE_MAX_BYTES=64 MiB, waits 10 s, then has the child print JSC's
 * heap statistics, process.memoryUsage(), /proc's resident split and the most numerous object types, before
 * and after a full collection. MIMALLOC_SHOW_STATS=1 in the environment adds mimalloc's own report (stderr).
 */
import { heapStats, memoryUsage } from "bun:jsc";
import { readFileSync } from "node:fs";
import { loadConfig } from "../../../src/config.ts";
import { createLogger } from "../../../src/logger.ts";
import { listen } from "../../../src/runtime.ts";
import { createServer } from "../../../src/server.ts";
import { startFakeGithub } from "../../../src/testing/fake-github.ts";
import { drive, freePort, waitHealthy } from "./lib.ts";

if (process.argv[2] === "serve") await _serve();
else await _measure(Number(process.argv[2] ?? 100_000));

/** The child: the service as `gists-api serve` builds it, reporting its memory on SIGUSR2. */
async function _serve(): Promise<void> {
  const config = loadConfig(process.env);
  const server = createServer(
    config,
    createLogger("warn", (text) => process.stdout.write(text)),
  );
  await listen(server.fetch, config.port, config.host);
  process.on("SIGUSR2", () => {
    const settled = _snapshot();
    Bun.gc(true);
    const collected = _snapshot();
    process.stdout.write(`${JSON.stringify({ cache: server.gists.stats(), settled, collected })}\n`);
    // mimalloc's per-size-class report (blocks in use, pages touched), on stderr.
    if (process.env.MIMALLOC_SHOW_STATS === "1") Bun.unsafe.mimallocDump();
  });
  process.on("SIGTERM", () => process.exit(0));
}

/** The parent: a fake GitHub, the child, USERS requests, then the child's report. */
async function _measure(users: number): Promise<void> {
  const github = await startFakeGithub({ autoUsers: { prefix: "m", gists: 30 }, rateLimit: { limit: 10_000_000, remaining: 10_000_000 } });
  const port = await freePort();
  const child = Bun.spawn([process.execPath, import.meta.path, "serve"], {
    env: { ...process.env, GITHUB_API_URL: github.url, UPSTREAM_MAX_PER_MINUTE: "0", HOST: "127.0.0.1", PORT: String(port), LOG_LEVEL: "warn" },
    stdout: "pipe",
    stderr: "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(`${url}/healthz`, performance.now());
  const statuses = await drive(
    url,
    Array.from({ length: users }, (_, index) => `/m${index}`),
    32,
  );
  await Bun.sleep(10_000);
  child.kill("SIGUSR2");
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) text += new TextDecoder().decode((await reader.read()).value);
  const report = JSON.parse(text.slice(0, text.indexOf("\n")));
  console.log(JSON.stringify({ users, answers: Object.fromEntries(statuses), ...report }, null, 2));
  reader.releaseLock();
  child.kill("SIGTERM");
  await child.exited;
  await github.close();
}

/** Memory as JSC, the process and the kernel see it, in MiB, with the most numerous object types. */
function _snapshot() {
  const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
  const jsc = heapStats();
  const usage = process.memoryUsage();
  const status = readFileSync("/proc/self/status", "utf8");
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]) / 1024;
  const types = Object.entries(jsc.objectTypeCounts)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15);
  return {
    rss: Math.round(kib("VmRSS") * 10) / 10,
    rssAnon: Math.round(kib("RssAnon") * 10) / 10,
    rssFile: Math.round(kib("RssFile") * 10) / 10,
    heapSize: mib(jsc.heapSize),
    heapCapacity: mib(jsc.heapCapacity),
    extraMemorySize: mib(jsc.extraMemorySize),
    mimallocCommitted: mib(memoryUsage().currentCommit),
    objectCount: jsc.objectCount,
    memoryUsage: { heapTotal: mib(usage.heapTotal), heapUsed: mib(usage.heapUsed), external: mib(usage.external), arrayBuffers: mib(usage.arrayBuffers) },
    types: Object.fromEntries(types),
  };
}
