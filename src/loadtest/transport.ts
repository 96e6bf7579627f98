/** One answer as the load generator sees it. */
export interface Answer {
  status: number;
  /** The service's X-Cache header, when present. */
  cache: string | null;
}

/**
 * Who hears how a request ended: exactly one of the two is called, once. A callback rather than a promise, so
 * the raw socket can send the next request from inside the read that completed the last one, allocating nothing.
 */
export interface Exchange {
  answered(status: number, cache: string | null): void;
  failed(error: Error): void;
}

/** A client connection: sends one request at a time and tells `exchange` how it ended. */
export interface Connection {
  send(path: string, exchange: Exchange): void;
  close(): void;
}

/** Opens connections to one origin. */
export type Transport = (origin: URL) => Connection;

/** Sends `path` on `connection` and resolves with its answer: for callers that would rather await one request. */
export function request(connection: Connection, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => connection.send(path, { answered: (status, cache) => resolve({ status, cache }), failed: reject }));
}

/** The portable transport: fetch with keep-alive (Bun and Deno pool the connections). */
export const fetchTransport: Transport = (origin) => {
  let abort = new AbortController();
  const get = async (path: string, signal: AbortSignal): Promise<Answer> => {
    const response = await fetch(new URL(path, origin), { headers: { "accept-encoding": "identity" }, signal });
    await response.arrayBuffer();
    return { status: response.status, cache: response.headers.get("x-cache") };
  };
  return {
    send(path, exchange) {
      get(path, abort.signal).then(
        (answer) => exchange.answered(answer.status, answer.cache),
        (error: Error) => exchange.failed(error),
      );
    },
    // Fails what is in flight; later requests start afresh.
    close() {
      abort.abort();
      abort = new AbortController();
    },
  };
};
