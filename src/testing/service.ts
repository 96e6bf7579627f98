import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";

/** How the service is run: the compiled single binary, or the sources under Deno. */
export type Target = "binary" | "deno";

/** One parsed JSON line of the service's stdout. */
export type LogLine = Record<string, unknown>;

/** Absolute path of the repository root, with a trailing slash. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Where `npm run build` puts the single binary. */
export const binaryPath = `${repoRoot}dist/gists-api`;

/** How to start the service. */
export interface ServiceOptions {
  target: Target;
  env?: Record<string, string>;
  args?: string[];
  /** How long to wait for the "listening" line; defaults to 5 s (binary) or 20 s (deno). */
  startTimeoutMs?: number;
  /** RLIMIT_NOFILE to start under (`ulimit -Sn soft`, and `-Hn hard` when given). */
  fileLimit?: { soft: number; hard?: number };
  /** A command that runs the service in its place (it must exec it, keeping the pid), e.g. `ip netns exec NAME`. */
  wrapper?: string[];
}

/** A started service process and what it has printed so far. */
export interface RunningService {
  readonly url: string;
  readonly pid: number;
  readonly target: Target;
  /** Parsed JSON lines of stdout so far (lines that are not JSON are skipped). */
  logs(): LogLine[];
  stdout(): string;
  stderr(): string;
  signal(sig: NodeJS.Signals): void;
  /** The exit code once the process has ended and its output is fully read (128+N after signal N). */
  readonly exited: Promise<number>;
  /** The exit code if the process has ended, else undefined. */
  readonly exitCode: number | undefined;
  /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code. */
  stop(): Promise<number>;
  /** The first log line (already printed or still to come) that matches, or a rejection after `timeoutMs`. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

/** What a one-shot command printed and how it ended. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The targets to test: E2E_TARGETS (comma-separated) or both. */
export function targetsFromEnv(): Target[] {
  const listed = (process.env.E2E_TARGETS ?? "binary,deno")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  for (const target of listed) {
    if (target !== "binary" && target !== "deno") throw new Error(`E2E_TARGETS: unknown target "${target}"`);
  }
  return listed as Target[];
}

/** Start `gists-api serve` for a target on a free loopback port and wait until it says where it listens. */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { target } = options;
  if (target === "binary") await ensureBinary();
  const command = [...(options.wrapper ?? []), ..._command(target, ["serve", ...(options.args ?? [])])];
  const proc = Bun.spawn(_limited(command, options.fileLimit), {
    cwd: _cwd(target),
    env: { ..._baseEnv(), PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...options.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = _collect(proc.stdout);
  const err = _collect(proc.stderr);
  let exitCode: number | undefined;
  const exited = Promise.all([proc.exited, out.done, err.done]).then(([code]) => (exitCode = code));
  const logs = () => _jsonLines(out.text());
  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 5_000) =>
    _poll(
      () => logs().find(match),
      exited,
      timeoutMs,
      () => `no matching log line.\n${_report(out.text(), err.text())}`,
    );

  const timeoutMs = options.startTimeoutMs ?? (target === "deno" ? 20_000 : 5_000);
  let listening: LogLine;
  try {
    listening = await waitForLog((l) => l.msg === "listening" && typeof l.url === "string", timeoutMs);
  } catch (error) {
    proc.kill("SIGKILL");
    await exited;
    throw new Error(`${target} service did not start: ${(error as Error).message}`);
  }

  const stop = async () => {
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return {
    url: listening.url as string,
    pid: proc.pid,
    target,
    logs,
    stdout: out.text,
    stderr: err.text,
    signal: (sig) => proc.kill(sig),
    exited,
    get exitCode() {
      return exitCode;
    },
    stop,
    waitForLog,
  };
}

/** Run the CLI once (the binary unless told otherwise) and collect its output; killed after `timeoutMs`. */
export async function runCli(args: string[], env: Record<string, string> = {}, options: { target?: Target; timeoutMs?: number } = {}): Promise<CliResult> {
  const target = options.target ?? "binary";
  if (target === "binary") await ensureBinary();
  const proc = Bun.spawn(_command(target, args), {
    cwd: _cwd(target),
    env: { ..._baseEnv(), ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs ?? (target === "deno" ? 30_000 : 10_000));
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

let _building: Promise<void> | undefined;

/** Build dist/gists-api with `npm run build` when it is missing. */
export function ensureBinary(): Promise<void> {
  _building ??= (async () => {
    if (existsSync(binaryPath)) return;
    const proc = Bun.spawn(["npm", "run", "build"], { cwd: repoRoot, stdout: "pipe", stderr: "pipe" });
    const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    if (code !== 0 || !existsSync(binaryPath)) {
      _building = undefined;
      throw new Error(`npm run build failed (exit ${code})\n${_report(stdout, stderr)}`);
    }
  })();
  return _building;
}

function _command(target: Target, args: string[]): string[] {
  if (target === "binary") return [binaryPath, ...args];
  return [`${repoRoot}node_modules/.bin/deno`, "run", "-A", "--node-modules-dir=manual", "src/main.ts", ...args];
}

// The shell sets the limits and execs the service in its place, so the pid and the signals stay the service's.
function _limited(command: string[], limit: ServiceOptions["fileLimit"]): string[] {
  if (!limit) return command;
  // The soft limit first: a hard limit below the current soft one is refused.
  const hard = limit.hard !== undefined ? ` && ulimit -Hn ${limit.hard}` : "";
  return ["bash", "-c", `ulimit -Sn ${limit.soft}${hard} && exec "$@"`, "bash", ...command];
}

// The binary runs from a neutral directory, as it would when deployed; Deno needs the sources.
function _cwd(target: Target): string {
  return target === "binary" ? tmpdir() : repoRoot;
}

function _baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function _collect(stream: ReadableStream<Uint8Array>): { text: () => string; done: Promise<void> } {
  let text = "";
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
    text += decoder.decode();
  })();
  return { text: () => text, done };
}

function _jsonLines(text: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // A line still being written, or not a log record.
    }
  }
  return lines;
}

async function _poll<T>(find: () => T | undefined, exited: Promise<number>, timeoutMs: number, why: () => string): Promise<T> {
  let ended: number | undefined;
  void exited.then((code) => (ended = code));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const endedBefore = ended;
    const found = find();
    if (found !== undefined) return found;
    if (endedBefore !== undefined) throw new Error(`process exited with code ${endedBefore}: ${why()}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${why()}`);
    await Bun.sleep(20);
  }
}

function _report(stdout: string, stderr: string): string {
  return `--- stdout ---\n${stdout.slice(-4000)}\n--- stderr ---\n${stderr.slice(-4000)}`;
}
