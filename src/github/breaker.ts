/** Circuit breaker states, numbered as the `github_circuit_breaker_state` gauge reports them. */
export const breakerStates = { closed: 0, "half-open": 1, open: 2 } as const;
export type BreakerState = keyof typeof breakerStates;

/** Settings of the breaker: failures in a row that open it, and how long it stays open. */
export interface BreakerOptions {
  threshold: number;
  cooldownMs: number;
  now?: () => number;
  onChange?: (state: BreakerState) => void;
}

/** Fails fast after repeated GitHub failures, then lets one probe through to test recovery. */
export type CircuitBreaker = ReturnType<typeof createCircuitBreaker>;

/** Creates a closed breaker. */
export function createCircuitBreaker(options: BreakerOptions) {
  const now = options.now ?? Date.now;
  let state: BreakerState = "closed";
  let failures = 0;
  let openedAt = 0;
  let probing = false;

  const move = (next: BreakerState) => {
    if (next === state) return;
    state = next;
    options.onChange?.(next);
  };

  return {
    /** Whether a request may go upstream now; in half-open state only one probe at a time may. */
    allow(): boolean {
      if (state === "open") {
        if (now() - openedAt < options.cooldownMs) return false;
        move("half-open");
      }
      if (state === "half-open") {
        if (probing) return false;
        probing = true;
      }
      return true;
    },
    /** Records an answer from GitHub that shows it works (200, 304, 404). */
    success(): void {
      failures = 0;
      probing = false;
      move("closed");
    },
    /** Records a failure (timeout, connection error, 5xx). */
    failure(): void {
      failures++;
      if (state === "half-open" || failures >= options.threshold) {
        probing = false;
        openedAt = now();
        move("open");
      }
    },
    /** Ends a probe that proved nothing (a rate limit), so another may try. */
    release(): void {
      probing = false;
    },
    /** Milliseconds until an open breaker lets a probe through. */
    retryInMs(): number {
      return state === "open" ? Math.max(0, options.cooldownMs - (now() - openedAt)) : 0;
    },
    get state(): BreakerState {
      return state;
    },
  };
}
