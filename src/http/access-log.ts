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
 * generated and the route is a template; method and path come from the client and are escaped.
 */
export function accessLine(record: AccessRecord): string {
  const cache = record.cache ? `,"cache":"${record.cache}"` : "";
  // Hex ids from the tracer: nothing to escape.
  const trace = record.span ? `,"trace_id":"${record.span.traceId}","span_id":"${record.span.spanId}"` : "";
  const path = needsEscape.test(record.path) ? JSON.stringify(record.path) : `"${record.path}"`;
  const method = record.method === "GET" ? '"GET"' : needsEscape.test(record.method) ? JSON.stringify(record.method) : `"${record.method}"`;
  return `{"time":"${timestamp(record.finishedAt)}","level":"info","msg":"request","request_id":"${record.id}","method":${method},"path":${path},"route":"${record.route}","status":${record.status},"duration_ms":${milliseconds(record.seconds)}${cache}${trace}}\n`;
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
