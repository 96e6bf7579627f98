import type { Socket } from "bun";
import { chunkedEnd, emptyHead, readHead } from "./answer-head.ts";
import type { Exchange, Transport } from "./transport.ts";

// Bun only: HTTP/1.1 over a raw keep-alive socket, one request at a time, parsing only what the generator
// needs (status, X-Cache, where the body ends). An answer is handed over from the data callback that completed
// it, with no promise, timer or string per request, so the generator costs about what wrk does.

/** The code of the error a request fails with when its connection closed before a byte of the answer came. */
export const closedBeforeAnswer = "ClosedBeforeAnswer";

// How many encoded requests a connection keeps (about 100 bytes each).
const encodedRequestsKept = 1024;

/** The raw-socket transport. */
export const socketTransport: Transport = (origin) => {
  const host = origin.hostname;
  const port = Number(origin.port || (origin.protocol === "https:" ? 443 : 80));
  const hostHeader = origin.host;
  let socket: Socket | undefined;
  let connecting: Promise<Socket> | undefined;
  let exchange: Exchange | undefined;
  /** True while the request in flight is the first on its connection. */
  let fresh = false;
  let used = 0;
  const empty = Buffer.alloc(0);
  /** What has come of the current answer and is still needed: its head, or a chunked body. */
  let buffer: Uint8Array = empty;
  const head = emptyHead();
  let headRead = false;
  /** Bytes of the current sized body still to come (they are counted, not kept). */
  let skip = 0;
  /** The part of a request the socket did not take at once, written when it drains. */
  let unsent: Uint8Array | undefined;

  const fail = (error: Error) => {
    const waiting = exchange;
    exchange = undefined;
    headRead = false;
    buffer = empty;
    skip = 0;
    unsent = undefined;
    waiting?.failed(error);
  };

  // The connection is given up for new requests; its close event, whenever it comes, fails only what it carried.
  const forget = (closing: Socket) => {
    if (socket !== closing) return;
    socket = undefined;
    connecting = undefined;
  };

  const parse = () => {
    if (!exchange) return;
    if (!headRead) {
      if (!readHead(buffer, head)) return;
      headRead = true;
    }
    if (head.chunked) {
      const end = chunkedEnd(buffer, head.bodyStart);
      if (end !== -1) complete(end);
      return;
    }
    const end = head.bodyStart + Math.max(0, head.length);
    if (buffer.length >= end) return complete(end);
    // The rest of a sized body is only counted as it arrives, never copied: the generator needs none of it.
    skip = end - buffer.length;
    buffer = empty;
  };

  // The answer under `head` is all here; what follows `bodyEnd` stays for the next one. The exchange hears of it
  // last, since it may send the next request at once.
  const complete = (bodyEnd: number) => {
    const waiting = exchange!;
    exchange = undefined;
    headRead = false;
    buffer = bodyEnd >= buffer.length ? empty : buffer.subarray(bodyEnd);
    // After "Connection: close" the server reads nothing more on this connection: the next request opens another.
    if (head.close && socket) {
      const closing = socket;
      forget(closing);
      buffer = empty;
      closing.end();
    }
    waiting.answered(head.status, head.cache);
  };

  const connect = () => {
    const opening = Bun.connect({
      hostname: host,
      port,
      socket: {
        data(current, chunk) {
          if (current !== socket) return;
          if (skip > 0) {
            if (chunk.length < skip) return void (skip -= chunk.length);
            buffer = chunk.subarray(skip);
            skip = 0;
            return complete(0);
          }
          buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
          parse();
        },
        drain(current) {
          if (current !== socket || !unsent) return;
          const rest = unsent;
          unsent = undefined;
          write(current, rest);
        },
        close(current) {
          if (current !== socket) return;
          forget(current);
          const nothing = buffer.length === 0 && !headRead && skip === 0;
          const first = fresh;
          fail(
            nothing
              ? Object.assign(new Error("connection closed before an answer"), { code: closedBeforeAnswer, fresh: first })
              : new Error("connection closed mid-answer"),
          );
        },
        error(current, error) {
          if (current === socket) fail(error);
        },
      },
    }).then(
      (opened) => {
        if (connecting === opening) {
          socket = opened;
          used = 0;
        }
        return opened;
      },
      (error: Error) => {
        // A refused connection is not remembered: the next request tries again.
        if (connecting === opening) connecting = undefined;
        throw error;
      },
    );
    connecting = opening;
    return opening;
  };

  const write = (open: Socket, bytes: Uint8Array) => {
    const written = open.write(bytes);
    // A request is far smaller than a socket's buffer, so this is rare; the close event covers a dead socket.
    if (written >= 0 && written < bytes.length) unsent = bytes.subarray(written);
  };

  // Requests encoded once per path: a run on one path encodes one, a user population its most popular ones.
  const encoded = new Map<string, Uint8Array>();
  let lastPath = "";
  let lastRequest: Uint8Array = empty;
  const requestFor = (path: string) => {
    // The same path as the last request (every request of a one-URL run) costs a comparison, not a lookup.
    if (path === lastPath) return lastRequest;
    let bytes = encoded.get(path);
    if (bytes === undefined) {
      bytes = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: gists-api-loadtest\r\nAccept: */*\r\n\r\n`, "latin1");
      // A bound, so a population of millions does not keep a request per user per connection.
      if (encoded.size >= encodedRequestsKept) encoded.clear();
      encoded.set(path, bytes);
    }
    lastPath = path;
    lastRequest = bytes;
    return bytes;
  };

  const sendOn = (open: Socket, path: string, listener: Exchange) => {
    exchange = listener;
    fresh = used++ === 0;
    write(open, requestFor(path));
  };

  return {
    send(path, listener) {
      if (socket !== undefined) return sendOn(socket, path, listener);
      (connecting ?? connect()).then(
        (opened) => sendOn(opened, path, listener),
        (error: Error) => listener.failed(error),
      );
    },
    close() {
      socket?.end();
    },
  };
};
