/** The load generator (`dist/gists-api loadtest`) against wrk and autocannon on one target: throughput and own CPU. */

/** One generator run: throughput, and the generator process's own CPU time per request and per second of run. */
export interface GeneratorRun {
  rps: number;
  requests: number;
  /** User + system CPU of the generator process (all its threads) per request. */
  cpuMicrosPerRequest: number;
  /** CPU seconds the generator used per second of wall time (1.0 = one core busy). */
  cores: number;
}

/** A generator as the benchmark runs it: a name, a command line for a URL, connections and seconds, and how to read its output. */
export interface Generator {
  name: string;
  args(url: string, connections: number, seconds: number): string[];
  requests(stdout: string): number;
}

/** `gists-api loadtest` of `binary` (an earlier build for a before-and-after in one run). */
export function loadtestGenerator(binary = "dist/gists-api", name = "gists-api loadtest"): Generator {
  return {
    name,
    args: (url, connections, seconds) => [binary, "loadtest", "--url", url, "-c", String(connections), "-d", `${seconds}s`, "--json"],
    requests: (stdout) => _loadtestRequests(name, stdout),
  };
}

/** wrk with `threads` threads (the connections are spread over them). */
export function wrkGenerator(threads = 1): Generator {
  return {
    name: `wrk -t${threads}`,
    args: (url, connections, seconds) => ["wrk", `-t${threads}`, `-c${connections}`, `-d${seconds}s`, url],
    requests: (stdout) => _wrkRequests(stdout),
  };
}

/** autocannon, the Node load generator. */
export const autocannonGenerator: Generator = {
  name: "autocannon",
  args: (url, connections, seconds) => ["node", "node_modules/autocannon/autocannon.js", "-j", "-c", String(connections), "-d", String(seconds), url],
  requests: (stdout) => (JSON.parse(stdout) as { requests: { total: number } }).requests.total,
};

/** Runs one generator as its own process and reads its requests and CPU time (user + system) from the OS. */
export async function runGenerator(generator: Generator, url: string, connections: number, seconds: number): Promise<GeneratorRun> {
  const started = performance.now();
  const child = Bun.spawn(generator.args(url, connections, seconds), { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  const wallSeconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`bench: ${generator.name} exited ${code}: ${stderr.slice(-500)}`);
  const requests = generator.requests(stdout);
  const cpuMicros = Number(child.resourceUsage()?.cpuTime.total ?? 0);
  return { rps: requests / seconds, requests, cpuMicrosPerRequest: cpuMicros / Math.max(1, requests), cores: cpuMicros / 1e6 / wallSeconds };
}

/** Runs every generator `rounds` times, the order rotating each round so none always runs first on a warm target. */
export async function compareGenerators(
  generators: Generator[],
  url: string,
  connections: number,
  seconds: number,
  rounds: number,
  onRound?: (round: number, runs: Record<string, GeneratorRun>) => void,
): Promise<Record<string, GeneratorRun[]>> {
  const runs: Record<string, GeneratorRun[]> = Object.fromEntries(generators.map((generator) => [generator.name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = generators.map((_, index) => generators[(index + round) % generators.length]!);
    const roundRuns: Record<string, GeneratorRun> = {};
    for (const generator of order) {
      const run = await runGenerator(generator, url, connections, seconds);
      runs[generator.name]!.push(run);
      roundRuns[generator.name] = run;
    }
    onRound?.(round + 1, roundRuns);
  }
  return runs;
}

function _loadtestRequests(name: string, stdout: string): number {
  const report = JSON.parse(stdout) as { requests: number; errors: number; status: Record<string, number> };
  if (report.errors > 0 || Object.keys(report.status).some((status) => !status.startsWith("2"))) {
    throw new Error(`bench: ${name} saw errors or non-2xx answers: ${JSON.stringify(report.status)}`);
  }
  return report.requests;
}

function _wrkRequests(stdout: string): number {
  if (/Non-2xx or 3xx responses/.test(stdout)) throw new Error(`bench: wrk saw non-2xx answers:\n${stdout}`);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  if (!Number.isFinite(requests)) throw new Error(`bench: could not read wrk's output:\n${stdout}`);
  return requests;
}
