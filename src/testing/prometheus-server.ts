import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where Debian's `prometheus` package puts the server; PROMETHEUS_BIN overrides it. */
export const prometheusBinary = process.env.PROMETHEUS_BIN ?? "/usr/bin/prometheus";

/** One scrape job: its name, host:port targets and the static labels every scraped series gets. */
export interface ScrapeJob {
  name: string;
  targets: string[];
  labels?: Record<string, string>;
}

/** How to start a throwaway Prometheus. */
export interface PrometheusOptions {
  jobs: ScrapeJob[];
  /** Absolute paths of rule files to load. */
  ruleFiles?: string[];
  /** Scrape and rule evaluation interval; defaults to 1 s. */
  intervalSeconds?: number;
  readyTimeoutMs?: number;
  /** Feature flags to enable (`--enable-feature`), e.g. "exemplar-storage". */
  features?: string[];
}

/** An answer of Prometheus' HTTP API, as JSON. */
export interface PrometheusAnswer<T = any> {
  status: "success" | "error";
  data?: T;
  errorType?: string;
  error?: string;
  warnings?: string[];
}

/** A running Prometheus on a free loopback port, with its own temporary storage. */
export interface RunningPrometheus {
  readonly url: string;
  /** An instant query at the current time. */
  query(expr: string): Promise<PrometheusAnswer<{ resultType: string; result: unknown[] }>>;
  /** GET a path of the HTTP API (e.g. `/api/v1/rules`), parsed. */
  get<T = any>(path: string): Promise<PrometheusAnswer<T>>;
  stderr(): string;
  /** SIGTERM (SIGKILL after 10 s), then remove the config and the storage. */
  stop(): Promise<void>;
}

/** Write a prometheus.yml into a temporary directory and start `prometheus` on it; resolves once /-/ready answers. */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  if (!existsSync(prometheusBinary)) {
    throw new Error(`${prometheusBinary} is missing: apt-get install prometheus (or set PROMETHEUS_BIN)`);
  }
  const dir = mkdtempSync(join(tmpdir(), "gists-api-prometheus-"));
  const configPath = join(dir, "prometheus.yml");
  // JSON is YAML, so the config needs no serializer.
  writeFileSync(configPath, JSON.stringify(_config(options), null, 2));
  const port = await _freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = Bun.spawn(
    [
      prometheusBinary,
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.enable-lifecycle",
      ...(options.features ?? []).map((feature) => `--enable-feature=${feature}`),
    ],
    { cwd: dir, stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  let stderr = "";
  const decoder = new TextDecoder();
  const drained = (async () => {
    for await (const chunk of proc.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await proc.exited;
      clearTimeout(timer);
      await drained;
      rmSync(dir, { recursive: true, force: true });
    })());

  const get = async <T>(path: string): Promise<PrometheusAnswer<T>> => (await fetch(`${url}${path}`)).json() as Promise<PrometheusAnswer<T>>;
  try {
    await _waitReady(url, proc, options.readyTimeoutMs ?? 20_000);
  } catch (error) {
    await stop();
    throw new Error(`prometheus did not become ready: ${(error as Error).message}\n${stderr.slice(-4000)}`);
  }
  return {
    url,
    get,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ query: expr }),
      });
      return (await res.json()) as PrometheusAnswer<{ resultType: string; result: unknown[] }>;
    },
    stderr: () => stderr,
    stop,
  };
}

function _config(options: PrometheusOptions) {
  const interval = `${options.intervalSeconds ?? 1}s`;
  return {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: options.jobs.map((job) => ({
      job_name: job.name,
      static_configs: [{ targets: job.targets, labels: job.labels ?? {} }],
    })),
  };
}

async function _waitReady(url: string, proc: Bun.Subprocess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`exited with code ${proc.exitCode}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`no 200 from /-/ready within ${timeoutMs} ms`);
    await Bun.sleep(100);
  }
}

// A port the kernel just handed out and released; Prometheus binds it a moment later.
function _freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
