import type { LogLevel } from "./config.ts";

/** Where finished log text goes (stdout in the service, an array in tests). */
export type LogSink = (text: string) => void;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** A structured JSON-lines logger: one object per line, written in batches so logging stays cheap. */
export type Logger = ReturnType<typeof createLogger>;

/** How long a line may wait in the buffer: one write per interval instead of one per request. */
const flushIntervalMs = 50;
/** How many lines may wait before they are written without waiting for the interval. */
const maxQueued = 512;

/**
 * Creates a logger that drops records below `level` and writes the rest in batches (every 50 ms or 512 lines).
 * Lines are queued as they are or as records with their formatter: formatting a whole batch at once, away from
 * the request that produced it, costs a fraction of formatting each line while answering.
 */
export function createLogger(level: LogLevel, sink: LogSink) {
  const threshold = rank[level];
  const items: unknown[] = [];
  const formatters: (((item: never) => string) | undefined)[] = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    if (items.length === 0) return;
    const lines = new Array<string>(items.length);
    for (let index = 0; index < items.length; index++) {
      const format = formatters[index];
      lines[index] = format === undefined ? (items[index] as string) : format(items[index] as never);
    }
    items.length = 0;
    formatters.length = 0;
    sink(lines.join(""));
  };

  const enqueue = (item: unknown, format: ((item: never) => string) | undefined) => {
    items.push(item);
    formatters.push(format);
    if (items.length >= maxQueued) flush();
    else if (!scheduled) {
      scheduled = true;
      setTimeout(flush, flushIntervalMs);
    }
  };

  const write = (recordLevel: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (rank[recordLevel] < threshold) return;
    enqueue(`${JSON.stringify({ time: timestamp(), level: recordLevel, msg, ...fields })}\n`, undefined);
  };

  return {
    /** True when records of `recordLevel` are written. */
    enabled: (recordLevel: LogLevel) => rank[recordLevel] >= threshold,
    debug: (msg: string, fields?: Record<string, unknown>) => write("debug", msg, fields),
    info: (msg: string, fields?: Record<string, unknown>) => write("info", msg, fields),
    warn: (msg: string, fields?: Record<string, unknown>) => write("warn", msg, fields),
    error: (msg: string, fields?: Record<string, unknown>) => write("error", msg, fields),
    /**
     * A writer of records that `format` turns into one line (ending in a newline) when the batch is written.
     * The record must not change after it is handed over.
     */
    formatted<T>(format: (record: T) => string): (record: T) => void {
      return (record) => enqueue(record, format as (item: never) => string);
    },
    /** Writes everything buffered now (before exit). */
    flush,
  };
}

let lastMs = 0;
let lastIso = "";

/** The time `now` (default: the current time) in ISO 8601, formatted at most once per millisecond. */
export function timestamp(now: number = Date.now()): string {
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}
