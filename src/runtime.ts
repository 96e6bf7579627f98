import process from "node:process";
import { gzipSync } from "node:zlib";

/** The only module that knows Bun from Deno: listening, signals, process exit and standard streams. */

interface DenoServer {
  addr: { port: number; hostname: string };
  shutdown(): Promise<void>;
}
interface DenoGlobal {
  serve(
    options: { port: number; hostname: string; onListen?: () => void },
    handler: (request: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): DenoServer;
  addSignalListener(signal: string, handler: () => void): void;
  exit(code: number): never;
}
declare const Deno: DenoGlobal | undefined;

/** A listening HTTP server. */
export interface Listener {
  url: string;
  port: number;
  /** Stops accepting connections, lets open ones finish (a second at most), and closes the listener. */
  stop(): Promise<void>;
  /**
   * Closes kept-alive connections with no request in progress and says how many (Bun); Deno's server offers no
   * such call, so there it closes none. Connections that have not sent a request yet stay open either way.
   */
  closeIdleConnections(): number;
}

/** Why a listener could not be opened: the port is taken, binding is not permitted, or the address is not here. */
export type ListenFailure = "in-use" | "not-permitted" | "not-available" | "other";

/** A listener that could not be opened, with what the operator can do about it as its message. */
export class ListenError extends Error {
  constructor(
    readonly failure: ListenFailure,
    readonly address: string,
    message: string,
  ) {
    super(message);
    this.name = "ListenError";
  }
}

/** "bun" or "deno": the runtime this process runs on. */
export const runtimeName: "bun" | "deno" = typeof Deno !== "undefined" ? "deno" : "bun";

/** Where a request came from, asked only when needed (while its handler runs): Bun's server answers it as is. */
export interface Peers {
  requestIP(request: Request): { address: string } | null;
}

/** A request handler, given the way to the client's address. */
export type FetchFunction = (request: Request, peers?: Peers) => Response | Promise<Response>;

/** Serves `fetch` on `hostname:port` (0 picks a free port). */
export async function listen(fetch: FetchFunction, port: number, hostname: string): Promise<Listener> {
  try {
    return _listen(fetch, port, hostname);
  } catch (error) {
    throw _listenError(error, port, hostname);
  }
}

function _listen(fetch: FetchFunction, port: number, hostname: string): Listener {
  if (typeof Deno !== "undefined") {
    const handler = (request: Request, info: { remoteAddr: { hostname: string } }) =>
      fetch(request, { requestIP: () => ({ address: info.remoteAddr.hostname }) });
    const server = Deno.serve({ port, hostname, onListen: () => {} }, handler);
    const actual = server.addr.port;
    return { url: _url(hostname, actual), port: actual, stop: () => server.shutdown(), closeIdleConnections: () => 0 };
  }
  // The API takes no request bodies: anything over 64 KiB is refused before it is read.
  const limits = { port, hostname, idleTimeout: 30, maxRequestBodySize: 64 * 1024 };
  const server = Bun.serve({ ...limits, fetch });
  const actual = server.port ?? port;
  // Stop listening and let open connections finish; whatever is still open after a second is closed.
  const stop = async () => {
    const closed = server.stop(false);
    const late = setTimeout(() => void server.stop(true), 1000);
    await closed;
    clearTimeout(late);
  };
  return { url: _url(hostname, actual), port: actual, stop, closeIdleConnections: () => server.closeIdleConnections() };
}

/** Calls `handler` on SIGTERM and SIGINT. */
export function onShutdownSignal(handler: (signal: "SIGTERM" | "SIGINT") => void): void {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    if (typeof Deno !== "undefined") Deno.addSignalListener(signal, () => handler(signal));
    else process.on(signal, () => handler(signal));
  }
}

/** The process environment, read once by config. */
export function environment(): Record<string, string | undefined> {
  return process.env;
}

/** Command-line arguments after the program (and, from source, the script) name. */
export function commandLine(): string[] {
  return process.argv.slice(2);
}

/** Writes text to standard output. */
export function writeStdout(text: string): void {
  process.stdout.write(text);
}

/** A writer for batches of log lines: the runtime's direct stdout sink, cheaper than the stream. */
export function stdoutSink(): (text: string) => void {
  if (typeof Deno !== "undefined") return writeStdout;
  const writer = Bun.stdout.writer();
  return (text) => {
    writer.write(text);
    writer.flush();
  };
}

/**
 * Gzips bytes. Bun's own gzip keeps no stream state alive between calls; node:zlib's handles are freed only
 * by the garbage collector, which after thousands of cache fills leaves tens of MB of resident memory behind.
 */
export function gzip(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (typeof Deno === "undefined" && typeof Bun !== "undefined") return Bun.gzipSync(bytes as Uint8Array<ArrayBuffer>) as Uint8Array<ArrayBuffer>;
  return gzipSync(bytes) as Uint8Array<ArrayBuffer>;
}

/** Runs a full garbage collection where the runtime allows it (Bun); elsewhere does nothing. */
export function collectGarbage(): void {
  if (typeof Deno === "undefined" && typeof Bun !== "undefined") Bun.gc(true);
}

/** Writes text to standard error. */
export function writeStderr(text: string): void {
  process.stderr.write(text);
}

/** Ends the process with `code`. */
export function exit(code: number): never {
  if (typeof Deno !== "undefined") Deno.exit(code);
  process.exit(code);
}

// Both runtimes give the errno name as `code` (Bun's Error, Deno's AddrInUse/PermissionDenied/AddrNotAvailable).
function _listenError(error: unknown, port: number, hostname: string): ListenError {
  const address = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "EADDRINUSE") {
    return new ListenError("in-use", address, `${address} is already in use: set PORT= (or --port) to a free port, or stop the process that holds it`);
  }
  if (code === "EACCES" || code === "EPERM") {
    const hint =
      port > 0 && port < 1024
        ? "ports below 1024 need root or CAP_NET_BIND_SERVICE: set PORT= to 1024 or above"
        : "set PORT= or HOST= to one this user may bind";
    return new ListenError("not-permitted", address, `not permitted to listen on ${address} (${hint})`);
  }
  if (code === "EADDRNOTAVAIL") {
    return new ListenError(
      "not-available",
      address,
      `cannot listen on ${address}: the address is not on this host (set HOST= to one of its addresses, or 0.0.0.0 for all)`,
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new ListenError("other", address, `cannot listen on ${address}: ${reason} (check HOST= and PORT=)`);
}

function _url(hostname: string, port: number): string {
  const host = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname.includes(":") ? `[${hostname}]` : hostname;
  return `http://${host}:${port}`;
}
