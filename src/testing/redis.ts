import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer, connect } from "node:net";

/** A real redis-server on a free port of loopback (and of `address` when given), nothing on disk: started by a test, stopped by it. */
export interface TestRedis {
  readonly port: number;
  /** `redis://<address or 127.0.0.1>:<port>/0` (with the password when one was set). */
  readonly url: string;
  /** Runs one command with redis-cli and answers its raw output. */
  cli(...args: string[]): string;
  /**
   * The Redis names of a page's entry and lease as the service writes them under `prefix`: in the current
   * epoch (which the replicas set at their first heartbeat), format `version`.
   */
  keysOf(page: string, options?: { prefix?: string; version?: number }): { entry: string; lease: string };
  /** Kills the server at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open and commands get no answer, as a stalled Redis does. */
  freeze(): void;
  /** Lets a frozen server run again (SIGCONT). */
  thaw(): void;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** Stops it for good. */
  stop(): Promise<void>;
}

/** How to start redis-server. */
export interface TestRedisOptions {
  password?: string;
  /** A second address to listen on (a veth's root side, for a replica in a network namespace); the URL names it. */
  address?: string;
  /** More arguments for redis-server, e.g. `["--maxmemory", "2mb"]`; a restart keeps them. */
  args?: string[];
}

/** Starts redis-server (Debian's package; `.ci/run` installs it). */
export async function startRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  if (spawnSync("redis-server", ["--version"]).status !== 0) {
    throw new Error("redis-server is not installed: apt-get install -y redis-server (the tests start their own, on loopback)");
  }
  const port = await _freePort();
  const auth = options.password ? ["--requirepass", options.password] : [];
  let proc: ChildProcess | undefined;
  const start = async () => {
    // Without a password, protected mode refuses every client that is not on loopback.
    const bind = options.address ? ["127.0.0.1", options.address, "--protected-mode", "no"] : ["127.0.0.1"];
    proc = spawn("redis-server", ["--port", String(port), "--bind", ...bind, "--save", "", "--appendonly", "no", ...auth, ...(options.args ?? [])], {
      stdio: "ignore",
    });
    await _untilListening(port);
  };
  const halt = async (signal: NodeJS.Signals) => {
    const running = proc;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill(signal);
    await exited;
  };
  await start();
  const password = options.password ? `:${encodeURIComponent(options.password)}@` : "";
  const redis: TestRedis = {
    port,
    url: `redis://${password}${options.address ?? "127.0.0.1"}:${port}/0`,
    cli(...args) {
      const authArgs = options.password ? ["-a", options.password, "--no-auth-warning"] : [];
      const run = spawnSync("redis-cli", ["-p", String(port), ...authArgs, ...args], { encoding: "utf8" });
      if (run.status !== 0) throw new Error(`redis-cli ${args.join(" ")}: ${run.stderr}`);
      return run.stdout;
    },
    keysOf(page, { prefix = "gists-api:", version = 2 } = {}) {
      const epoch = redis.cli("GET", `${prefix}epoch`).trim();
      if (!/^[0-9a-f]{16}$/.test(epoch)) throw new Error(`no epoch under ${prefix}epoch yet: has a replica connected?`);
      return { entry: `${prefix}${epoch}:v${version}:${page}`, lease: `${prefix}${epoch}:lease:${page}` };
    },
    kill: () => halt("SIGKILL"),
    freeze: () => void proc?.kill("SIGSTOP"),
    thaw: () => void proc?.kill("SIGCONT"),
    restart: start,
    stop: () => {
      proc?.kill("SIGCONT");
      return halt("SIGTERM");
    },
  };
  return redis;
}

function _freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function _untilListening(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`redis-server did not listen on port ${port} within 10 s`);
}
