/** One answer as the load generator sees it. */
export interface Answer {
  status: number;
  /** The service's X-Cache header, when present. */
  cache: string | null;
}

/** A client connection: sends one request at a time and resolves with its answer. */
export interface Connection {
  get(path: string): Promise<Answer>;
  close(): void;
}

/** Opens connections to one origin. */
export type Transport = (origin: URL) => Connection;

/** The portable transport: fetch with keep-alive (Bun and Deno pool the connections). */
export const fetchTransport: Transport = (origin) => {
  let abort = new AbortController();
  return {
    async get(path) {
      const response = await fetch(new URL(path, origin), { headers: { "accept-encoding": "identity" }, signal: abort.signal });
      await response.arrayBuffer();
      return { status: response.status, cache: response.headers.get("x-cache") };
    },
    // Fails what is in flight; later requests start afresh.
    close() {
      abort.abort();
      abort = new AbortController();
    },
  };
};
