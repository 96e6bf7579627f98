import type { LogLevel } from "./config.ts";

/** Where finished log text goes (stdout in the service, an array in tests). */
export type LogSink = (text: string) => void;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** A structured JSON-lines logger: one object per line, written in batches so logging stays cheap. */
export type Logger = ReturnType<typeof createLogger>;

/** Creates a logger that drops records below `level` and writes the rest at most once per event-loop turn. */
export function createLogger(level: LogLevel, sink: LogSink) {
  const threshold = rank[level];
  let pending: string[] = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join("");
    pending = [];
    sink(text);
  };

  const write = (recordLevel: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (rank[recordLevel] < threshold) return;
    pending.push(`${JSON.stringify({ time: new Date().toISOString(), level: recordLevel, msg, ...fields })}\n`);
    if (pending.length >= 256) flush();
    else if (!scheduled) {
      scheduled = true;
      setTimeout(flush, 0);
    }
  };

  return {
    /** True when records of `recordLevel` are written. */
    enabled: (recordLevel: LogLevel) => rank[recordLevel] >= threshold,
    debug: (msg: string, fields?: Record<string, unknown>) => write("debug", msg, fields),
    info: (msg: string, fields?: Record<string, unknown>) => write("info", msg, fields),
    warn: (msg: string, fields?: Record<string, unknown>) => write("warn", msg, fields),
    error: (msg: string, fields?: Record<string, unknown>) => write("error", msg, fields),
    /** Writes everything buffered now (before exit). */
    flush,
  };
}
