import { connect } from "node:net";

/** One HTTP/1.x response read off a socket. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What came back on one connection for the bytes sent, and how the exchange ended. */
export interface RawExchange {
  responses: RawResponse[];
  /** answered: every expected response arrived; closed: the server closed first; timeout: neither in time. */
  ended: "answered" | "closed" | "timeout";
  /** A socket error (ECONNRESET, ECONNREFUSED...), if one happened. */
  error?: string;
  ms: number;
}

/** How to run an exchange. */
export interface RawExchangeOptions {
  /** Responses to wait for before closing (pipelined requests expect several). */
  expectResponses: number;
  timeoutMs: number;
  /** Write the bytes in pieces this far apart (a slow client); at once when absent. */
  pieceDelayMs?: number;
}

/**
 * Connects to 127.0.0.1:`port`, writes `bytes` exactly as given (no HTTP client in between, so malformed
 * requests reach the server as they are) and reads responses until enough arrived, the server closed, or time ran out.
 */
export function rawExchange(port: number, bytes: Buffer | string, options: RawExchangeOptions): Promise<RawExchange> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let buffer = Buffer.alloc(0);
    let error: string | undefined;
    let settled = false;
    const finish = (ended: RawExchange["ended"]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ responses: parseResponses(buffer, ended !== "answered").responses, ended, error, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish("timeout"), options.timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (parseResponses(buffer, false).responses.length >= options.expectResponses) finish("answered");
    });
    socket.on("error", (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on("close", () => finish("closed"));
    const data = typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes;
    if (!options.pieceDelayMs) return void socket.write(data);
    void (async () => {
      for (let at = 0; at < data.length && !settled; at += 64) {
        socket.write(data.subarray(at, at + 64));
        await Bun.sleep(options.pieceDelayMs!);
      }
    })();
  });
}

/**
 * Splits a byte stream into HTTP/1.x responses (1xx heads skipped). A response without a length counts only
 * when the stream has ended (`ended`); an incomplete last response is left out.
 */
export function parseResponses(buffer: Buffer, ended: boolean): { responses: RawResponse[] } {
  const responses: RawResponse[] = [];
  let at = 0;
  while (at < buffer.length) {
    const headEnd = buffer.indexOf("\r\n\r\n", at, "latin1");
    if (headEnd === -1) break;
    const lines = buffer.toString("latin1", at, headEnd).split("\r\n");
    const status = /^HTTP\/\d\.\d (\d{3})/.exec(lines[0] ?? "");
    if (!status) break;
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const code = Number(status[1]);
    const bodyStart = headEnd + 4;
    if (code >= 100 && code < 200) {
      at = bodyStart;
      continue;
    }
    let bodyEnd: number;
    let body: string;
    if (code === 204 || code === 304) (bodyEnd = bodyStart), (body = "");
    else if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
      const chunked = _dechunk(buffer, bodyStart);
      if (!chunked) break;
      ({ end: bodyEnd, body } = chunked);
    } else if (headers["content-length"] !== undefined) {
      bodyEnd = bodyStart + Number(headers["content-length"]);
      if (!Number.isFinite(bodyEnd) || bodyEnd > buffer.length) break;
      body = buffer.toString("utf8", bodyStart, bodyEnd);
    } else {
      if (!ended) break;
      bodyEnd = buffer.length;
      body = buffer.toString("utf8", bodyStart);
    }
    responses.push({ status: code, headers, body });
    at = bodyEnd;
  }
  return { responses };
}

function _dechunk(buffer: Buffer, start: number): { end: number; body: string } | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buffer.indexOf("\r\n", at, "latin1");
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(buffer.toString("latin1", at, lineEnd), 16);
    if (!Number.isFinite(size)) return undefined;
    if (size === 0) {
      const end = buffer.indexOf("\r\n\r\n", lineEnd, "latin1");
      return end === -1 ? undefined : { end: end + 4, body: Buffer.concat(parts).toString("utf8") };
    }
    if (lineEnd + 2 + size + 2 > buffer.length) return undefined;
    parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
