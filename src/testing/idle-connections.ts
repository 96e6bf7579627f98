import { connect, type Socket } from "node:net";

/** Connections held open against a server, as a crowd of idle clients holds them. */
export interface IdleConnections {
  /** How many got at least one answer. */
  answered(): number;
  /** How many the server has closed. */
  closed(): number;
  /** Closes every connection. */
  close(): void;
}

/**
 * Opens `count` connections to 127.0.0.1:`port`. With `request`, each sends it once on connecting and then
 * stays open as an idle keep-alive client; without, each stays open without a byte sent.
 */
export function openIdleConnections(port: number, count: number, request?: string): IdleConnections {
  let answered = 0;
  let closed = 0;
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const socket = connect(port, "127.0.0.1", () => {
      if (request) socket.write(request);
    });
    let seen = false;
    socket.on("data", () => {
      if (!seen) answered++;
      seen = true;
    });
    socket.on("close", () => closed++);
    // A reset is counted by its close; the error itself is expected when the server sheds connections.
    socket.on("error", () => {});
    sockets.push(socket);
  }
  return {
    answered: () => answered,
    closed: () => closed,
    close: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** GET `url` on a fresh connection; the status, or the error's name when no answer came in `timeoutMs`. */
export async function probe(url: string, timeoutMs: number): Promise<{ status: number | string; ms: number }> {
  const started = performance.now();
  const status = await fetch(url, { keepalive: false, signal: AbortSignal.timeout(timeoutMs) }).then(
    async (r) => (await r.arrayBuffer(), r.status),
    (e: Error) => e.name,
  );
  return { status, ms: Math.round(performance.now() - started) };
}
