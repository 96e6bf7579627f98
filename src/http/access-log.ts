import { timestamp } from "../logger.ts";

/** What one access-log line says about a finished request. */
export interface AccessRecord {
  id: string;
  /** The route template that answered, or what stood in for one ("unmatched", "static", "preflight", "cross-origin"...). */
  route: string;
  /** The cache verdict, when the gists route answered. */
  cache?: string;
  method: string;
  /** The request's path and query as the client sent them. */
  path: string;
  status: number;
  seconds: number;
  /** When the answer was ready, in epoch milliseconds. */
  finishedAt: number;
  /** The request's server span, when it was sampled: its ids join the line to the trace. */
  span?: { readonly traceId: string; readonly spanId: string };
}

/**
 * One JSON line for a finished request, built by hand: this runs once per request. The id is validated or
 * generated and the route is a template; method and path come from the client and are escaped. A line is joined
 * from a few flat strings, the middle one (method, path, route, status) kept per path, because the parts of a
 * template literal are joined again when the batch is written: fewer parts cost less.
 */
export function accessLine(record: AccessRecord): string {
  const cache = record.cache ? (record.cache === "HIT" ? hitTail : `,"cache":"${record.cache}"}\n`) : "}\n";
  // Hex ids from the tracer: nothing to escape.
  const tail = record.span ? `${cache.slice(0, -2)},"trace_id":"${record.span.traceId}","span_id":"${record.span.spanId}"}\n` : cache;
  return `{"time":"${timestamp(record.finishedAt)}${lineHead}${record.id}${_middle(record)}${milliseconds(record.seconds)}${tail}`;
}

const lineHead = '","level":"info","msg":"request","request_id":"';
const hitTail = ',"cache":"HIT"}\n';

// The part of a line from the method to "duration_ms", by path: the same for every repeat of a request.
const middles = new Map<string, { method: string; route: string; status: number; text: string }>();
const maxMiddles = 4096;

function _middle(record: AccessRecord): string {
  const known = middles.get(record.path);
  if (known !== undefined && known.method === record.method && known.route === record.route && known.status === record.status) return known.text;
  const path = needsEscape.test(record.path) ? JSON.stringify(record.path) : `"${record.path}"`;
  const method = record.method === "GET" ? '"GET"' : needsEscape.test(record.method) ? JSON.stringify(record.method) : `"${record.method}"`;
  const text = `","method":${method},"path":${path},"route":"${record.route}","status":${record.status},"duration_ms":`;
  if (middles.size >= maxMiddles) middles.clear();
  middles.set(record.path, { method: record.method, route: record.route, status: record.status, text });
  return text;
}

/** Seconds as milliseconds with two decimals ("0.18", "12.5"), from integers: cheaper than printing a double. */
function milliseconds(seconds: number): string {
  const hundredths = Math.round(seconds * 100_000);
  const whole = Math.floor(hundredths / 100);
  const fraction = hundredths - whole * 100;
  if (fraction === 0) return String(whole);
  return fraction % 10 === 0 ? `${whole}.${fraction / 10}` : `${whole}.${fraction < 10 ? "0" : ""}${fraction}`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what a log value must escape.
const needsEscape = /["\\\u0000-\u001f\u007f-\uffff]/;
