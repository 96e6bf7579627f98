import type { LogLevel } from "./config.ts";

/** Where finished log text goes (stdout in the service, an array in tests). */
export type LogSink = (text: string) => void;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** A structured JSON-lines logger: one object per line, written in batches so logging stays cheap. */
export type Logger = ReturnType<typeof createLogger>;

/** How long a line may wait in the buffer: one write per interval instead of one per request. */
const flushIntervalMs = 50;

/** Creates a logger that drops records below `level` and writes the rest in batches (every 50 ms or 64 KiB). */
export function createLogger(level: LogLevel, sink: LogSink) {
  const threshold = rank[level];
  let pending = "";
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending;
    pending = "";
    sink(text);
  };

  const push = (line: string) => {
    pending += line;
    if (pending.length >= 65_536) flush();
    else if (!scheduled) {
      scheduled = true;
      setTimeout(flush, flushIntervalMs);
    }
  };

  const write = (recordLevel: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (rank[recordLevel] < threshold) return;
    push(`${JSON.stringify({ time: timestamp(), level: recordLevel, msg, ...fields })}\n`);
  };

  return {
    /** True when records of `recordLevel` are written. */
    enabled: (recordLevel: LogLevel) => rank[recordLevel] >= threshold,
    debug: (msg: string, fields?: Record<string, unknown>) => write("debug", msg, fields),
    info: (msg: string, fields?: Record<string, unknown>) => write("info", msg, fields),
    warn: (msg: string, fields?: Record<string, unknown>) => write("warn", msg, fields),
    error: (msg: string, fields?: Record<string, unknown>) => write("error", msg, fields),
    /** Queues a line the caller already encoded as one JSON object (the access log's fast form). */
    line: push,
    /** Writes everything buffered now (before exit). */
    flush,
  };
}

let lastMs = 0;
let lastIso = "";

/** The current time in ISO 8601, formatted at most once per millisecond. */
export function timestamp(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}
