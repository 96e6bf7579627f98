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
  const empty = Buffer.alloc(0);
  let buffer: Buffer = empty;
  /** Bytes of the current sized body still to come (they are counted, not kept). */
  let skip = 0;
  let head: Head | undefined;
  let used = 0;

  const fail = (error: Error) => {
    const waiting = pending;
    pending = undefined;
    head = undefined;
    buffer = empty;
    skip = 0;
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
      head = _head(buffer, end);
    }
    const bodyEnd = head.chunked ? _chunkedEnd(buffer, head.bodyStart) : head.bodyStart + head.length;
    if (bodyEnd === -1) return;
    if (buffer.length < bodyEnd) {
      // The rest of a sized body is only counted as it arrives, never copied: the generator needs none of it.
      if (!head.chunked) {
        skip = bodyEnd - buffer.length;
        buffer = empty;
      }
      return;
    }
    complete(bodyEnd);
  };

  // The answer under `head` is all here; what follows `bodyEnd` in the buffer stays for the next one.
  const complete = (bodyEnd: number) => {
    if (!pending || !head) return;
    const answer = { status: head.status, cache: head.cache };
    // After "Connection: close" the server reads nothing more on this connection: the next request opens another.
    if (head.close && socket) {
      const closing = socket;
      forget(closing);
      closing.end();
    }
    // Usually the buffer held exactly this answer: no new view for an empty rest.
    buffer = bodyEnd === buffer.length ? empty : buffer.subarray(bodyEnd);
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
          if (skip > 0) {
            if (chunk.length < skip) return void (skip -= chunk.length);
            const rest = chunk.subarray(skip);
            skip = 0;
            buffer = rest;
            return complete(0);
          }
          buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
          parse();
        },
        close(current) {
          if (current !== socket) return;
          forget(current);
          const nothing = buffer.length === 0 && head === undefined;
          const fresh = pending?.fresh === true;
          fail(
            nothing
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

  // The bytes of the last request sent: a run on one path encodes its request once, not once per request.
  let lastPath = "";
  let lastRequest = new Uint8Array(0);
  const requestFor = (path: string) => {
    if (path !== lastPath) {
      lastPath = path;
      lastRequest = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: gists-api-loadtest\r\nAccept: */*\r\n\r\n`, "latin1");
    }
    return lastRequest;
  };

  const send = (open: Socket, path: string) =>
    new Promise<Answer>((resolve, reject) => {
      pending = { resolve, reject, fresh: used++ === 0 };
      open.write(requestFor(path));
    });

  return {
    get(path: string): Promise<Answer> {
      // No await on the common path: a request on an open connection costs one promise.
      return socket !== undefined ? send(socket, path) : (connecting ?? connect()).then((opened) => send(opened, path));
    },
    close() {
      socket?.end();
    },
  };
};

/** What the generator reads of an answer's head: status, X-Cache, how the body ends, and Connection: close. */
interface Head {
  status: number;
  cache: string | null;
  length: number;
  chunked: boolean;
  bodyStart: number;
  close: boolean;
}

// Reads the head ending at `end` (where its blank line starts) byte by byte: a line is looked at only when its
// first letter can start one of the four names, so a hit's eight headers cost a few comparisons, no strings.
function _head(buffer: Buffer, end: number): Head {
  const head: Head = { status: (buffer[9]! - 48) * 100 + (buffer[10]! - 48) * 10 + (buffer[11]! - 48), cache: null, length: 0, chunked: false, close: false, bodyStart: end + 4 };
  let line = buffer.indexOf(13, 0) + 2;
  while (line > 1 && line < end) {
    const next = buffer.indexOf(13, line);
    const lineEnd = next === -1 || next > end ? end : next;
    const first = buffer[line]! | 0x20;
    if (first === 0x63 && _named(buffer, line, "content-length:")) head.length = _digits(buffer, line + 15, lineEnd);
    else if (first === 0x78 && _named(buffer, line, "x-cache:")) head.cache = buffer.toString("latin1", line + 8, lineEnd).trim().toUpperCase();
    else if (first === 0x74 && _named(buffer, line, "transfer-encoding:")) head.chunked = buffer.toString("latin1", line + 18, lineEnd).toLowerCase().includes("chunked");
    else if (first === 0x63 && _named(buffer, line, "connection:")) head.close = buffer.toString("latin1", line + 11, lineEnd).toLowerCase().includes("close");
    line = lineEnd + 2;
  }
  return head;
}

// Whether the line at `start` begins with `name` (lower case, colon included), ignoring the case of its letters.
function _named(buffer: Buffer, start: number, name: string): boolean {
  for (let index = 0; index < name.length; index++) {
    const byte = buffer[start + index];
    if (byte === undefined || (byte | 0x20) !== name.charCodeAt(index) && byte !== name.charCodeAt(index)) return false;
  }
  return true;
}

// The decimal number between `start` and `end`, spaces around it skipped.
function _digits(buffer: Buffer, start: number, end: number): number {
  let value = 0;
  for (let index = start; index < end; index++) {
    const byte = buffer[index]!;
    if (byte >= 48 && byte <= 57) value = value * 10 + (byte - 48);
  }
  return value;
}

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
