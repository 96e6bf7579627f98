import type { Socket } from "bun";
import type { Answer, Transport } from "./transport.ts";

// Bun only: HTTP/1.1 over a raw keep-alive socket, one request at a time, parsing only what the generator
// needs (status, X-Cache, where the body ends). It sends ~2x what fetch manages, so the generator is not
// what a measurement measures.

const crlf2 = Buffer.from("\r\n\r\n");

interface Pending {
  resolve: (answer: Answer) => void;
  reject: (error: Error) => void;
  /** True for the first request on its connection. */
  fresh: boolean;
}

/** The code of the error a request fails with when its connection closed before a byte of the answer came. */
export const closedBeforeAnswer = "ClosedBeforeAnswer";

/** The raw-socket transport. */
export const socketTransport: Transport = (origin) => {
  const host = origin.hostname;
  const port = Number(origin.port || (origin.protocol === "https:" ? 443 : 80));
  const hostHeader = origin.host;
  let socket: Socket | undefined;
  let connecting: Promise<Socket> | undefined;
  let pending: Pending | undefined;
  let buffer: Buffer = Buffer.alloc(0);
  let head: { status: number; cache: string | null; length: number; chunked: boolean; bodyStart: number; close: boolean } | undefined;
  let used = 0;

  const fail = (error: Error) => {
    const waiting = pending;
    pending = undefined;
    head = undefined;
    buffer = Buffer.alloc(0);
    waiting?.reject(error);
  };

  // The connection is given up for new requests; its close event, whenever it comes, fails only what it carried.
  const forget = (closing: Socket) => {
    if (socket !== closing) return;
    socket = undefined;
    connecting = undefined;
  };

  const parse = () => {
    if (!pending) return;
    if (!head) {
      const end = buffer.indexOf(crlf2);
      if (end === -1) return;
      const text = buffer.toString("latin1", 0, end);
      const status = Number(text.slice(9, 12));
      let length = 0;
      let chunked = false;
      let close = false;
      let cache: string | null = null;
      for (const line of text.split("\r\n").slice(1)) {
        const colon = line.indexOf(":");
        const name = line.slice(0, colon).toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (name === "content-length") length = Number(value);
        else if (name === "transfer-encoding") chunked = value.toLowerCase().includes("chunked");
        else if (name === "x-cache") cache = value;
        else if (name === "connection") close = value.toLowerCase().includes("close");
      }
      head = { status, cache, length, chunked, bodyStart: end + 4, close };
    }
    const bodyEnd = head.chunked ? _chunkedEnd(buffer, head.bodyStart) : head.bodyStart + head.length;
    if (bodyEnd === -1 || buffer.length < bodyEnd) return;
    const answer = { status: head.status, cache: head.cache };
    // After "Connection: close" the server reads nothing more on this connection: the next request opens another.
    if (head.close && socket) {
      const closing = socket;
      forget(closing);
      closing.end();
    }
    buffer = buffer.subarray(bodyEnd);
    head = undefined;
    const waiting = pending;
    pending = undefined;
    waiting.resolve(answer);
  };

  const connect = () => {
    const opening = Bun.connect({
      hostname: host,
      port,
      socket: {
        data(current, chunk) {
          if (current !== socket) return;
          buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
          parse();
        },
        close(current) {
          if (current !== socket) return;
          forget(current);
          const empty = buffer.length === 0 && head === undefined;
          const fresh = pending?.fresh === true;
          fail(
            empty
              ? Object.assign(new Error("connection closed before an answer"), { code: closedBeforeAnswer, fresh })
              : new Error("connection closed mid-answer"),
          );
        },
        error(current, error) {
          if (current === socket) fail(error);
        },
      },
    }).then((opened) => {
      if (connecting === opening) {
        socket = opened;
        used = 0;
      }
      return opened;
    }, (error: Error) => {
      // A refused connection is not remembered: the next request tries again.
      if (connecting === opening) connecting = undefined;
      throw error;
    });
    connecting = opening;
    return opening;
  };

  return {
    async get(path: string): Promise<Answer> {
      const open = socket ?? (await (connecting ?? connect()));
      return new Promise<Answer>((resolve, reject) => {
        pending = { resolve, reject, fresh: used++ === 0 };
        open.write(`GET ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: gists-api-loadtest\r\nAccept: */*\r\n\r\n`);
      });
    },
    close() {
      socket?.end();
    },
  };
};

// Where a chunked body ends (after the terminating zero-size chunk and its CRLF), or -1 when not all here yet.
function _chunkedEnd(buffer: Buffer, start: number): number {
  let position = start;
  for (;;) {
    const lineEnd = buffer.indexOf("\r\n", position, "latin1");
    if (lineEnd === -1) return -1;
    const size = Number.parseInt(buffer.toString("latin1", position, lineEnd), 16);
    if (!Number.isFinite(size)) return -1;
    if (size === 0) {
      const trailerEnd = buffer.indexOf(crlf2, lineEnd);
      return trailerEnd === -1 ? -1 : trailerEnd + 4;
    }
    position = lineEnd + 2 + size + 2;
    if (position > buffer.length) return -1;
  }
}
