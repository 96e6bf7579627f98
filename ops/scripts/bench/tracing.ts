/**
 * `npm run bench:tracing`: what tracing costs the hit path, measured side by side in one run on this machine.
 * Needs dist/gists-api and wrk. Three copies of the binary answer the same cached page: tracing off (no
 * endpoint), tracing configured with sampling ratio 0, and ratio 1 (every request a span, exported to a
 * collector on loopback). Rounds alternate between them; the table gives medians of the per-round ratios.
 * Prints a markdown table (and writes it to --out FILE).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startFakeGithub } from "../../../src/testing/fake-github.ts";
import { measure, median, rssMiB, startBinary, type BenchService, type WrkResult } from "./lib.ts";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "7" },
    duration: { type: "string", default: "5" },
    connections: { type: "string", default: "32" },
    out: { type: "string" },
  },
});
const rounds = Number(flags.rounds);
const duration = Number(flags.duration);
const connections = Number(flags.connections);

// The collector: accepts every export (an empty protobuf body is an empty ExportTraceServiceResponse) and counts spans' bytes.
let exportedBytes = 0;
let exports = 0;
const collector = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(request) {
    exportedBytes += (await request.arrayBuffer()).byteLength;
    exports++;
    return new Response(new Uint8Array(0), { headers: { "content-type": "application/x-protobuf" } });
  },
});
const github = await startFakeGithub({ users: { octocat: 30 } });
const env = { GITHUB_API_URL: github.url, CACHE_TTL: "3600" };
const traced = (ratio: string) => ({
  ...env,
  OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
  OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
  OTEL_TRACES_SAMPLER_ARG: ratio,
  OTEL_BSP_SCHEDULE_DELAY: "1000",
});
const cases = [
  { name: "off", service: await startBinary(env) },
  { name: "ratio 0", service: await startBinary(traced("0")) },
  { name: "ratio 1", service: await startBinary(traced("1")) },
];
const running: BenchService[] = cases.map((entry) => entry.service);
const runs = new Map<string, WrkResult[]>(cases.map((entry) => [entry.name, []]));
const rows: string[][] = [];

try {
  for (const { service } of cases) await (await fetch(`${service.url}/octocat`)).arrayBuffer();
  for (let round = 1; round <= rounds; round++) {
    // Each round starts with a different case, so no case always runs on the warmest (or busiest) machine.
    for (let index = 0; index < cases.length; index++) {
      const { name, service } = cases[(index + round) % cases.length]!;
      runs.get(name)!.push(await measure(`${service.url}/octocat`, connections, duration));
    }
    console.error(`tracing round ${round}/${rounds}: ${cases.map(({ name }) => `${name} ${runs.get(name)!.at(-1)!.rps.toFixed(0)}/s`).join(", ")}`);
  }
  const off = runs.get("off")!;
  const ratioOf = (name: string) => runs.get(name)!.map((run, index) => run.rps / off[index]!.rps);
  const zero = ratioOf("ratio 0");
  const one = ratioOf("ratio 1");
  const rps = (name: string) => median(runs.get(name)!.map((run) => run.rps)).toFixed(0);
  const p99 = (name: string) => median(runs.get(name)!.map((run) => run.p99Ms)).toFixed(2);
  rows.push(
    [
      `cached \`GET /octocat\`, tracing off, wrk -t1 -c${connections}, median of ${rounds}×${duration}s`,
      `${rps("off")} req/s, p99 ${p99("off")} ms`,
      "yardstick",
    ],
    [
      `tracing configured, sampling ratio 0 / off (per round: ${zero.map((r) => r.toFixed(2)).join(", ")})`,
      `${median(zero).toFixed(3)}× (${rps("ratio 0")} req/s, p99 ${p99("ratio 0")} ms)`,
      "≥ 0.97×",
    ],
    [
      `sampling ratio 1 (a span per request, exported) / off (per round: ${one.map((r) => r.toFixed(2)).join(", ")})`,
      `${median(one).toFixed(3)}× (${rps("ratio 1")} req/s, p99 ${p99("ratio 1")} ms)`,
      "for reference",
    ],
    [
      "resident memory after the runs: off / ratio 0 / ratio 1",
      cases.map(({ service }) => `${rssMiB(service.pid).toFixed(1)} MiB`).join(" / "),
      "ratio 1 bounded by the export queue",
    ],
    ["exports the collector received (ratio 1)", `${exports} requests, ${(exportedBytes / 1024 / 1024).toFixed(1)} MiB`, ""],
  );
} finally {
  await Promise.all(running.map((service) => service.stop()));
  await github.close();
  collector.stop(true);
}
const header = `Machine: ${navigator.hardwareConcurrency} cores, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}. Command: \`npm run bench:tracing\`.\n\n`;
const table = ["| measure | result | budget |", "|---|---|---|", ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n");
console.log(`\n${header}${table}`);
if (flags.out) writeFileSync(flags.out, `${header}${table}\n`);
process.exit(0);
