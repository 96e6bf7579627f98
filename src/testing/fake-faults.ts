/**
 * A misbehaviour the fake GitHub can be told to show; `times` limits it to the next N requests, and `delayMs`
 * holds the request that long before misbehaving (a slow 500, say).
 */
export type Fault = (
  | { kind: "status"; status: number; body?: string }
  | { kind: "hang" }
  | { kind: "latency"; ms: number }
  | { kind: "malformed" }
  | { kind: "not-array" }
  | { kind: "reset" }
  | ({ kind: "secondary-rate-limit" } & SecondaryLimit)
  /** The normal answer, sent in pieces without a content-length (as GitHub does for large lists). */
  | { kind: "chunked" }
  /** The normal answer's head with its full content-length, then part of the body, then the connection closed. */
  | { kind: "truncated" }
  /** 200 with an HTML page instead of JSON, as a captive portal or a misrouted proxy answers. */
  | { kind: "wrong-content-type" }
  /** The normal answer, `bytes` at a time (default 64) every `intervalMs` (default 50): a slow body, not a slow head. */
  | { kind: "trickle"; bytes?: number; intervalMs?: number }
  /**
   * Exactly this answer instead of GitHub's: any status, headers and body (a hostile or broken upstream). The
   * rate-limit headers are added unless `headers` sets them; content-length is always the body's.
   */
  | { kind: "answer"; status: number; headers?: Record<string, string>; body?: string }
) & { times?: number; delayMs?: number };

/**
 * One of GitHub's secondary-limit answers, in any of its documented forms ("Rate limits for the REST API",
 * "Exceeding the rate limit"): 403 or 429, with or without `retry-after`, with the window's remaining count or
 * 0, with GitHub's message or another.
 */
export interface SecondaryLimit {
  /** 403 (default) or 429. */
  status?: 403 | 429;
  /** `retry-after` as sent: seconds, or any text (an HTTP date, garbage); absent: no header. */
  retryAfter?: number | string;
  /** `x-ratelimit-remaining` to send instead of the window's (0: GitHub's spent-window form). */
  remaining?: number;
  /** The body's message; GitHub's secondary-limit message by default. */
  message?: string;
}

/** Faults keyed by lower-cased login, or "*" for every login. */
export interface FaultTable {
  /** Set or clear (null) the fault for a login or "*". */
  set(login: string, fault: Fault | null): void;
  /** The fault the next request for this login meets, using up one of its `times`. */
  take(login: string | undefined): Fault | undefined;
  /** The faults currently set, for inspection. */
  list(): Record<string, Fault>;
  /** Remove every fault. */
  clear(): void;
}

/** Create an empty fault table. */
export function createFaultTable(): FaultTable {
  const faults = new Map<string, Fault>();
  return {
    set(login, fault) {
      const key = login === "*" ? "*" : login.toLowerCase();
      if (fault === null || (fault.times !== undefined && fault.times <= 0)) faults.delete(key);
      else faults.set(key, { ...fault });
    },
    take(login) {
      const key = login !== undefined && faults.has(login.toLowerCase()) ? login.toLowerCase() : "*";
      const fault = faults.get(key);
      if (!fault) return undefined;
      if (fault.times !== undefined) {
        fault.times -= 1;
        if (fault.times <= 0) faults.delete(key);
      }
      return fault;
    },
    list: () => Object.fromEntries(faults),
    clear: () => faults.clear(),
  };
}

/** Check that a value received over the control API is a fault (or null to clear). */
export function parseFault(value: unknown): Fault | null {
  if (value === null) return null;
  const kinds = [
    "status",
    "hang",
    "latency",
    "malformed",
    "not-array",
    "reset",
    "secondary-rate-limit",
    "chunked",
    "truncated",
    "wrong-content-type",
    "trickle",
    "answer",
  ];
  const fault = value as Fault;
  if (typeof value !== "object" || !kinds.includes(fault.kind)) {
    throw new Error(`fault.kind must be one of ${kinds.join(", ")}`);
  }
  if ((fault.kind === "status" || fault.kind === "answer") && !Number.isInteger(fault.status)) throw new Error("fault.status must be an integer");
  if (fault.kind === "answer") {
    if (fault.body !== undefined && typeof fault.body !== "string") throw new Error("fault.body must be a string");
    const headers = fault.headers ?? {};
    if (typeof headers !== "object" || Object.values(headers).some((value) => typeof value !== "string")) {
      throw new Error("fault.headers must map names to strings");
    }
  }
  if (fault.kind === "latency" && typeof fault.ms !== "number") throw new Error("fault.ms must be a number");
  if (fault.kind === "secondary-rate-limit") parseSecondaryLimit(fault);
  if (fault.kind === "trickle") {
    for (const key of ["bytes", "intervalMs"] as const) {
      const value = fault[key];
      if (value !== undefined && (typeof value !== "number" || !(value > 0))) throw new Error(`fault.${key} must be a positive number`);
    }
  }
  if (fault.delayMs !== undefined && typeof fault.delayMs !== "number") throw new Error("fault.delayMs must be a number");
  return fault;
}

/** Check a secondary limit received over the control API or the command line (and `times`, when given). */
export function parseSecondaryLimit<T extends SecondaryLimit & { times?: number }>(limit: T): T {
  if (typeof limit !== "object" || limit === null) throw new Error("a secondary limit must be an object");
  if (limit.status !== undefined && limit.status !== 403 && limit.status !== 429) throw new Error("status must be 403 or 429");
  if (limit.retryAfter !== undefined && typeof limit.retryAfter !== "number" && typeof limit.retryAfter !== "string") {
    throw new Error("retryAfter must be a number of seconds or a string (an HTTP date)");
  }
  if (limit.remaining !== undefined && !(Number.isInteger(limit.remaining) && limit.remaining >= 0)) throw new Error("remaining must be a whole number");
  if (limit.message !== undefined && typeof limit.message !== "string") throw new Error("message must be a string");
  if (limit.times !== undefined && !Number.isInteger(limit.times)) throw new Error("times must be a whole number");
  return limit;
}
