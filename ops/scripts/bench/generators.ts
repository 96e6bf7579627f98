/** The load generator (`dist/gists-api loadtest`) against wrk and autocannon on one target: throughput and own CPU. */

/** One generator run: throughput, and the generator process's own CPU time per request and per second of run. */
export interface GeneratorRun {
  rps: number;
  requests: number;
  cpuMicrosPerRequest: number;
  /** CPU seconds the generator used per second of wall time (1.0 = one core busy). */
  cores: number;
}

/** The generators compared, each a command line for a URL, connections and seconds, and how to read its output. */
export const generatorCommands = {
  "gists-api loadtest": {
    args: (url: string, connections: number, seconds: number) => ["dist/gists-api", "loadtest", "--url", url, "-c", String(connections), "-d", `${seconds}s`, "--json"],
    requests: (stdout: string) => _loadtestRequests(stdout),
  },
  "wrk -t1": {
    args: (url: string, connections: number, seconds: number) => ["wrk", "-t1", `-c${connections}`, `-d${seconds}s`, url],
    requests: (stdout: string) => _wrkRequests(stdout),
  },
  autocannon: {
    args: (url: string, connections: number, seconds: number) => ["node", "node_modules/autocannon/autocannon.js", "-j", "-c", String(connections), "-d", String(seconds), url],
    requests: (stdout: string) => (JSON.parse(stdout) as { requests: { total: number } }).requests.total,
  },
} as const;

/** A generator's name. */
export type GeneratorName = keyof typeof generatorCommands;

/** Runs one generator as its own process and reads its requests and CPU time (user + system) from the OS. */
export async function runGenerator(name: GeneratorName, url: string, connections: number, seconds: number): Promise<GeneratorRun> {
  const command = generatorCommands[name];
  const started = performance.now();
  const child = Bun.spawn(command.args(url, connections, seconds), { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  const wallSeconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`bench: ${name} exited ${code}: ${stderr.slice(-500)}`);
  const requests = command.requests(stdout);
  const cpuMicros = Number(child.resourceUsage()?.cpuTime.total ?? 0);
  return { rps: requests / seconds, requests, cpuMicrosPerRequest: cpuMicros / Math.max(1, requests), cores: cpuMicros / 1e6 / wallSeconds };
}

/** Runs every generator `rounds` times, the order rotating each round so none always runs first on a warm target. */
export async function compareGenerators(names: GeneratorName[], url: string, connections: number, seconds: number, rounds: number): Promise<Record<string, GeneratorRun[]>> {
  const runs: Record<string, GeneratorRun[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, index) => names[(index + round) % names.length]!);
    for (const name of order) runs[name]!.push(await runGenerator(name, url, connections, seconds));
  }
  return runs;
}

function _loadtestRequests(stdout: string): number {
  const report = JSON.parse(stdout) as { requests: number; errors: number; status: Record<string, number> };
  if (report.errors > 0 || Object.keys(report.status).some((status) => !status.startsWith("2"))) {
    throw new Error(`bench: gists-api loadtest saw errors or non-2xx answers: ${JSON.stringify(report.status)}`);
  }
  return report.requests;
}

function _wrkRequests(stdout: string): number {
  if (/Non-2xx or 3xx responses/.test(stdout)) throw new Error(`bench: wrk saw non-2xx answers:\n${stdout}`);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  if (!Number.isFinite(requests)) throw new Error(`bench: could not read wrk's output:\n${stdout}`);
  return requests;
}
