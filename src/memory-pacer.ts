/**
 * Keeps resident memory near what the cache holds. Every cache fill parses a GitHub page (tens of KB) into
 * short-lived objects; left to the collector's own pace, a burst of thousands of fills leaves hundreds of
 * MB resident. A full collection after each `everyBytes` of upstream bodies bounds that garbage, and one
 * more once fills stop for `idle.ms` returns what the last fills of a burst left (measured in the README's
 * performance section).
 */
export function createMemoryPacer(everyBytes: number, collect: () => void, idle: PacerIdle = {}) {
  const idleMs = idle.ms ?? 1000;
  const now = idle.now ?? Date.now;
  const schedule = idle.schedule ?? _unrefTimeout;
  let sinceLast = 0;
  let lastReceivedAt = 0;
  let armed = false;

  const collectNow = () => {
    sinceLast = 0;
    collect();
  };
  // One timer at a time, re-armed while bodies keep arriving, so a steady stream of fills costs no timers.
  const onIdle = () => {
    const quietFor = now() - lastReceivedAt;
    if (quietFor < idleMs) return void schedule(onIdle, idleMs - quietFor);
    armed = false;
    if (sinceLast > 0) collectNow();
  };

  return {
    /** Counts `size` bytes of upstream body; collects once enough have gone by, or once they stop coming. */
    received(size: number): void {
      sinceLast += size;
      lastReceivedAt = now();
      if (sinceLast >= everyBytes) collectNow();
      if (!armed) {
        armed = true;
        schedule(onIdle, idleMs);
      }
    },
  };
}

/** When the pacer collects after fills stop: the quiet time, and the clock and timer (injectable for tests). */
export interface PacerIdle {
  ms?: number;
  now?: () => number;
  schedule?: (run: () => void, ms: number) => void;
}

// The idle timer must not keep a stopping process alive where timers can say so (serve exits explicitly anyway).
function _unrefTimeout(run: () => void, ms: number): void {
  const timer: unknown = setTimeout(run, ms);
  if (typeof timer === "object" && timer !== null && "unref" in timer && typeof timer.unref === "function") timer.unref();
}
