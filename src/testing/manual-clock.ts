/**
 * A clock for unit tests: time moves only when the test says, and callbacks due by then run in order, each
 * followed by the promise continuations it set off. Races that take seconds of real time run in microseconds.
 */
export interface ManualClock {
  now(): number;
  after(ms: number, callback: () => void): () => void;
  /** Moves time forward by `ms`, running every callback that falls due on the way, in order. */
  advance(ms: number): Promise<void>;
  /** Lets pending promise continuations run without moving time. */
  settle(): Promise<void>;
}

/** Creates a manual clock starting at `start` (epoch milliseconds). */
export function createManualClock(start = 1_700_000_000_000): ManualClock {
  let now = start;
  let sequence = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  const settle = async () => {
    for (let turn = 0; turn < 20; turn++) await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    for (let turn = 0; turn < 20; turn++) await Promise.resolve();
  };
  return {
    now: () => now,
    after(ms, callback) {
      const id = ++sequence;
      timers.set(id, { at: now + Math.max(0, ms), callback });
      return () => timers.delete(id);
    },
    async advance(ms) {
      const until = now + ms;
      await settle();
      for (;;) {
        let next: [number, { at: number; callback: () => void }] | undefined;
        for (const entry of timers) if (entry[1].at <= until && (next === undefined || entry[1].at < next[1].at)) next = entry;
        if (next === undefined) break;
        timers.delete(next[0]);
        now = Math.max(now, next[1].at);
        next[1].callback();
        await settle();
      }
      now = until;
      await settle();
    },
    settle,
  };
}
