import { defineCommand, usageError } from "../command.ts";
import { parseDuration } from "../loadtest/duration.ts";
import { runLoad, type LoadPlan } from "../loadtest/engine.ts";
import { judge, noAnswer, progressLine, summary, verdictsJson } from "../loadtest/report.ts";
import { parseThreshold, type Threshold } from "../loadtest/threshold.ts";
import { fetchTransport, type Transport } from "../loadtest/transport.ts";
import { runtimeName, writeStderr, writeStdout } from "../runtime.ts";

/** `gists-api loadtest`: a load generator that knows the service's X-Cache answers. */
export default defineCommand({
  name: "loadtest",
  usage:
    "gists-api loadtest --url URL [--connections N] [--duration 10s | --requests N] [--rate RPS] [--users N --zipf S] [--warmup 2s] [--threshold EXPR ...] [--json]",
  options: {
    url: { type: "string", value: "url", description: "Target, http:// only; with --users its path holds {user} (e.g. http://127.0.0.1:8080/{user})" },
    connections: { type: "string", short: "c", value: "n", description: "Concurrent connections (default 32)" },
    duration: { type: "string", short: "d", value: "time", description: "How long to run, e.g. 10s, 2m (default 10s)" },
    requests: { type: "string", short: "n", value: "n", description: "Stop after this many requests instead" },
    rate: { type: "string", short: "r", value: "rps", description: "Open model: this many requests per second, latency from each intended send time" },
    users: { type: "string", value: "n", description: "Spread requests over user-1..user-N in {user}" },
    zipf: { type: "string", value: "s", description: "Zipf exponent of user popularity (default 1.0)" },
    warmup: { type: "string", value: "time", description: "Unmeasured warm-up before the run (default 0s)" },
    threshold: { type: "string", multiple: true, value: "expr", description: "Exit 1 unless it holds: p50|p90|p99|p999|max|mean<TIME, errors<N%, rps>N" },
    json: { type: "boolean", description: "Print the result and threshold verdicts as JSON (no progress line)" },
    transport: { type: "string", value: "kind", description: "socket (raw keep-alive HTTP/1.1, Bun only) or fetch (portable; the default under Deno)" },
  },
  examples: [
    "gists-api loadtest --url http://127.0.0.1:8080/octocat --duration 10s --threshold 'p99<50ms' --threshold 'errors<1%'",
    "gists-api loadtest --url 'http://127.0.0.1:8080/{user}' --users 1000 --zipf 1.1 --connections 64 --duration 30s",
    "gists-api loadtest --url http://127.0.0.1:8080/octocat --rate 2000 --duration 20s --json",
  ],
  async run(values) {
    let plan: LoadPlan;
    let thresholds: Threshold[];
    let transport: Transport;
    try {
      plan = _plan(values);
      thresholds = ((values.threshold as unknown as string[] | undefined) ?? []).map(parseThreshold);
      transport = await _transport(values.transport as string | undefined);
    } catch (error) {
      writeStderr(`gists-api loadtest: ${(error as Error).message}\nRun 'gists-api loadtest --help' for the options and examples.\n`);
      return usageError;
    }
    const live = !values.json && process.stderr.isTTY === true;
    const result = await runLoad(plan, transport, live ? (progress) => writeStderr(progressLine(progress)) : undefined);
    if (live) writeStderr("\n");
    const verdicts = judge(result, thresholds);
    const unreachable = noAnswer(plan.url, result);
    if (values.json) writeStdout(`${JSON.stringify({ ...result, thresholds: verdictsJson(verdicts) })}\n`);
    else if (!unreachable) {
      const model = plan.rate ? `open, ${plan.rate} req/s over ${plan.connections} connections` : `closed, ${plan.connections} connections`;
      writeStdout(summary(decodeURI(plan.url.href), model, result, verdicts));
    }
    if (unreachable) {
      writeStderr(`gists-api loadtest: ${unreachable}\n`);
      return 1;
    }
    return verdicts.every((verdict) => verdict.passed) ? 0 : 1;
  },
});

function _plan(values: Record<string, unknown>): LoadPlan {
  if (typeof values.url !== "string") throw new Error("--url is required");
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    url = new URL("invalid:");
  }
  // Both transports are measured and tested over plain HTTP/1.1 only; TLS belongs in front of the service.
  if (url.protocol !== "http:") throw new Error(`--url must be an http:// URL (both transports speak plain HTTP/1.1), got ${JSON.stringify(values.url)}`);
  const users = _count("--users", values.users);
  const templated = decodeURI(url.pathname).includes("{user}");
  if (users !== undefined && !templated) throw new Error("--users needs {user} in the URL's path");
  if (users === undefined && templated) throw new Error("{user} in the URL needs --users N (requests spread over user-1..user-N)");
  const requests = _count("--requests", values.requests);
  if (requests !== undefined && values.duration !== undefined) throw new Error("give --duration or --requests, not both");
  const rate = values.rate === undefined ? undefined : _positive("--rate", values.rate);
  return {
    url,
    connections: _count("--connections", values.connections) ?? 32,
    durationMs: requests === undefined ? parseDuration("--duration", values.duration ?? "10s") : undefined,
    requests,
    rate,
    users,
    zipf: values.zipf === undefined ? 1 : _positive("--zipf", values.zipf),
    warmupMs: parseDuration("--warmup", values.warmup ?? "0s"),
    drainMs: 5000,
  };
}

async function _transport(kind: string | undefined): Promise<Transport> {
  if (kind === "fetch" || (kind === undefined && runtimeName !== "bun")) return fetchTransport;
  if (kind !== undefined && kind !== "socket") throw new Error(`--transport must be socket or fetch, got ${JSON.stringify(kind)}`);
  if (runtimeName !== "bun") throw new Error("--transport socket needs Bun; use --transport fetch");
  return (await import("../loadtest/socket.bun.ts")).socketTransport;
}

function _count(flag: string, raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a whole number of at least 1, got ${JSON.stringify(raw)}`);
  return value;
}

function _positive(flag: string, raw: unknown): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
}
