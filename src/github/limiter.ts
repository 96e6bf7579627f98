/** A first-come first-served bound on concurrent GitHub requests; waiters give up at their deadline. */
export type ConcurrencyLimiter = ReturnType<typeof createConcurrencyLimiter>;

interface Waiter {
  grant: () => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Thrown to a waiter whose deadline passed before a slot freed up. */
export class QueueTimeout extends Error {
  constructor() {
    super("no upstream slot freed up before the deadline");
    this.name = "QueueTimeout";
  }
}

/** Creates a limiter allowing `max` holders at once. */
export function createConcurrencyLimiter(max: number) {
  let active = 0;
  let peak = 0;
  const queue: Waiter[] = [];

  const take = () => {
    active++;
    if (active > peak) peak = active;
  };

  return {
    /** Waits for a slot until `waitMs` passes; call `release` once done. Resolves true when it had to queue. */
    acquire(waitMs: number): Promise<boolean> {
      if (active < max && queue.length === 0) {
        take();
        return Promise.resolve(false);
      }
      if (waitMs <= 0) return Promise.reject(new QueueTimeout());
      return new Promise<boolean>((resolve, reject) => {
        const waiter: Waiter = {
          grant: () => {
            clearTimeout(waiter.timer);
            take();
            resolve(true);
          },
          timer: setTimeout(() => {
            const index = queue.indexOf(waiter);
            if (index !== -1) queue.splice(index, 1);
            reject(new QueueTimeout());
          }, waitMs),
        };
        queue.push(waiter);
      });
    },
    /** Frees a slot, handing it to the longest waiter. */
    release(): void {
      active--;
      const next = queue.shift();
      if (next) next.grant();
    },
    get active(): number {
      return active;
    },
    get queued(): number {
      return queue.length;
    },
    get peak(): number {
      return peak;
    },
    /** The most holders at once. */
    get max(): number {
      return max;
    },
  };
}
