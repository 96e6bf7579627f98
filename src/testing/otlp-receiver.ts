import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { decodeTraces, exportResponse, OtlpBadData, statusBody, type OtlpEncoding, type ReceivedSpan } from "./otlp-traces.ts";

export type { AttributeValue, Attributes, OtlpEncoding, ReceivedSpan, SpanKindName } from "./otlp-traces.ts";
export { unusedPort } from "./free-port.ts";

/** How the receiver answers exports: like a healthy collector, a failing one, or one too slow to answer. */
export type ReceiverMode =
  | { kind: "accept" }
  /** Answers `status` (503 unless set; 429/502/503/504 are the ones an exporter retries) and keeps nothing. */
  | { kind: "fail"; status?: number; retryAfterSeconds?: number }
  /** Holds each answer back `ms` milliseconds, then accepts (unless the exporter gave up first). */
  | { kind: "hang"; ms: number }
  /**
   * Answers 200 with a body that never ends: `chunkBytes` (64 KiB unless set) every `intervalMs` (as fast as
   * the exporter reads, unless set), until the exporter closes the connection. Keeps nothing.
   */
  | { kind: "stream"; chunkBytes?: number; intervalMs?: number };

/** One export request as it reached the receiver. */
export interface ReceivedRequest {
  method: string;
  path: string;
  /** The media type without parameters, lower-case ("" when absent). */
  contentType: string;
  /** `Content-Encoding`, lower-case ("" when absent). */
  contentEncoding: string;
  /** Request headers, names lower-case (repeated ones joined with ", "). */
  headers: Record<string, string>;
  /** The status answered; undefined while a hanging answer is held back. */
  status: number | undefined;
  /** Spans of an accepted (200) request; empty otherwise. */
  spans: ReceivedSpan[];
  /** Why the request was refused, when it was. */
  error?: string;
  /** For an endless answer: bytes written so far, and whether the exporter has closed the connection. */
  streamed?: { bytes: number; closed: boolean };
}

/** A running OTLP/HTTP trace receiver on 127.0.0.1 and what it has received. */
export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`: the value for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string;
  /** `<url>/v1/traces`: the value for OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (any other path is accepted too). */
  readonly tracesUrl: string;
  /** Every span accepted so far, in arrival order. */
  spans(): ReceivedSpan[];
  /** Every export request so far, accepted or not. */
  requests(): ReceivedRequest[];
  /** The accepted spans that match, once at least one has arrived; rejects after `timeoutMs`. */
  waitForSpans(predicate: (span: ReceivedSpan) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  setMode(mode: ReceiverMode): void;
  /** Forgets what was received. */
  clear(): void;
  close(): Promise<void>;
}

/** Starts an OTLP/HTTP trace receiver (protobuf and JSON, gzip or not) on a free loopback port. */
export async function startOtlpReceiver(options: { mode?: ReceiverMode } = {}): Promise<OtlpReceiver> {
  let mode: ReceiverMode = options.mode ?? { kind: "accept" };
  let received: ReceivedRequest[] = [];
  const waiters = new Set<() => void>();
  const timers = new Set<ReturnType<typeof setTimeout>>();

  const accept = (request: ReceivedRequest, res: ServerResponse, encoding: OtlpEncoding) => {
    request.status = 200;
    _send(res, 200, encoding, exportResponse(encoding));
    for (const wake of waiters) wake();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const request = _record(req);
    received.push(request);
    const refuse = (status: number, encoding: OtlpEncoding | undefined, message: string, headers: Record<string, string> = {}) => {
      request.status = status;
      request.error = message;
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      if (encoding) return _send(res, status, encoding, statusBody(encoding, _rpcCode(status), message));
      res.writeHead(status, { "content-type": "text/plain" }).end(message);
    };
    if (req.method !== "POST") return void (req.resume(), refuse(405, undefined, "only POST is served", { allow: "POST" }));
    const encoding = _ENCODINGS[request.contentType];
    if (!encoding)
      return void (req.resume(), refuse(415, undefined, `unsupported media type "${request.contentType}": use application/x-protobuf or application/json`));
    if (request.contentEncoding !== "" && request.contentEncoding !== "gzip" && request.contentEncoding !== "identity") {
      return void (req.resume(), refuse(415, encoding, `unsupported Content-Encoding "${request.contentEncoding}": use gzip or none`));
    }
    const body = await _readBody(req);
    if (body === undefined) return refuse(413, encoding, `body over ${_MAX_BODY_BYTES} bytes`);
    const current = mode;
    if (current.kind === "stream") return _stream(request, req, res, current, timers);
    if (current.kind === "fail") {
      const retryAfter: Record<string, string> = current.retryAfterSeconds === undefined ? {} : { "retry-after": String(current.retryAfterSeconds) };
      return refuse(current.status ?? 503, encoding, "the collector is failing on purpose", retryAfter);
    }
    try {
      const payload = _decompress(body, request.contentEncoding);
      if (payload === undefined) return refuse(413, encoding, `body over ${_MAX_BODY_BYTES} bytes once decompressed`);
      request.spans = decodeTraces(payload, encoding);
    } catch (error) {
      return refuse(400, encoding, (error as Error).message);
    }
    if (current.kind !== "hang") return accept(request, res, encoding);
    const timer = setTimeout(() => (timers.delete(timer), accept(request, res, encoding)), current.ms);
    timers.add(timer);
  };
  // A client that goes away mid-body is its own problem: drop the connection, keep serving.
  const server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const spans = () => received.flatMap((r) => (r.status === 200 ? r.spans : []));

  return {
    url,
    tracesUrl: `${url}/v1/traces`,
    spans,
    // Copies: an assertion library that rewrites what it matched must not rewrite the record.
    requests: () => received.map((r) => ({ ...r, headers: { ...r.headers }, spans: [...r.spans], ...(r.streamed ? { streamed: { ...r.streamed } } : {}) })),
    waitForSpans(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const matching = spans().filter(predicate);
          if (matching.length === 0) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(matching);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          const names = spans().map((s) => s.name);
          reject(new Error(`no matching span within ${timeoutMs} ms; received ${names.length}: ${JSON.stringify(names)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    setMode(next) {
      mode = next;
    },
    clear() {
      received = [];
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// The spec's recommended limit, before and after decompression.
const _MAX_BODY_BYTES = 20 * 1024 * 1024;

const _ENCODINGS: Record<string, OtlpEncoding | undefined> = { "application/x-protobuf": "protobuf", "application/json": "json" };

function _record(req: IncomingMessage): ReceivedRequest {
  const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(", ") : String(value ?? "")]));
  return {
    method: req.method ?? "",
    path: new URL(req.url ?? "/", "http://receiver").pathname,
    contentType: (headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase(),
    contentEncoding: (headers["content-encoding"] ?? "").trim().toLowerCase(),
    headers,
    status: undefined,
    spans: [],
  };
}

// Undefined when the body is over the limit: the rest is drained, not kept.
async function _readBody(req: IncomingMessage): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= _MAX_BODY_BYTES) chunks.push(chunk);
  }
  return size > _MAX_BODY_BYTES ? undefined : Buffer.concat(chunks);
}

// Undefined when the body inflates past the limit.
function _decompress(body: Uint8Array, contentEncoding: string): Uint8Array | undefined {
  if (contentEncoding !== "gzip") return body;
  try {
    return gunzipSync(body, { maxOutputLength: _MAX_BODY_BYTES });
  } catch (error) {
    if (error instanceof RangeError || (error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") return undefined;
    throw new OtlpBadData(`Content-Encoding is gzip but the body does not gunzip: ${(error as Error).message}`);
  }
}

// An endless 200: as fast as the socket drains, or one chunk per interval. Stops when the exporter hangs up.
function _stream(
  request: ReceivedRequest,
  req: IncomingMessage,
  res: ServerResponse,
  mode: { chunkBytes?: number; intervalMs?: number },
  timers: Set<ReturnType<typeof setTimeout>>,
): void {
  const chunk = Buffer.alloc(mode.chunkBytes ?? 64 * 1024, 0x0a);
  const streamed = { bytes: 0, closed: false };
  request.status = 200;
  request.streamed = streamed;
  res.writeHead(200, { "content-type": request.contentType || "application/x-protobuf" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = () => {
    streamed.bytes += chunk.length;
    return res.write(chunk);
  };
  const next = () => {
    if (streamed.closed) return;
    if (mode.intervalMs === undefined) {
      while (!streamed.closed && write()) {}
      return;
    }
    write();
    timer = setTimeout(() => (timers.delete(timer!), next()), mode.intervalMs);
    timers.add(timer);
  };
  res.on("drain", () => mode.intervalMs === undefined && next());
  req.socket.once("close", () => {
    streamed.closed = true;
    if (timer) clearTimeout(timer), timers.delete(timer);
  });
  next();
}

function _send(res: ServerResponse, status: number, encoding: OtlpEncoding, body: Uint8Array): void {
  res.writeHead(status, { "content-type": encoding === "json" ? "application/json" : "application/x-protobuf", "content-length": body.length });
  res.end(body);
}

// google.rpc.Code for the Status body: the spec leaves it optional, collectors fill it in.
function _rpcCode(status: number): number {
  return ({ 400: 3, 413: 3, 415: 3, 429: 8, 503: 14 } as Record<number, number>)[status] ?? 13;
}
