import type { CircuitBreaker } from "./breaker.ts";
import type { RateLimitBudget } from "./rate-limit-budget.ts";
import { UpstreamError, type GistsFetch, type GithubClient, type Validators } from "./client.ts";
import { QueueTimeout, type ConcurrencyLimiter } from "./limiter.ts";
import type { RequestPace } from "./request-pace.ts";

/** The guards around every GitHub request. */
export interface UpstreamDeps {
  client: GithubClient;
  budget: RateLimitBudget;
  breaker: CircuitBreaker;
  limiter: ConcurrencyLimiter;
  /** The local estimate of GitHub's per-minute limit; none: requests are not paced. */
  pace?: RequestPace;
  timeoutMs: number;
  retries: number;
  onRetry?: () => void;
  /** A fetch that reached GitHub (or tried to) and failed, after its retries: called once per fetch. */
  onFailure?: (failure: UpstreamFailureReport) => void;
  /**
   * A fetch refused before anything was sent: the budget is spent or the pace cannot send it within its deadline
   * ("rate-limited"), the breaker is open, or no slot freed up.
   */
  onRefused?: (reason: RefusalReason) => void;
  /** A request that waited for a slot at the concurrency limit, and for how long. */
  onQueued?: (waitedMs: number) => void;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Why a fetch was refused without a request to GitHub. */
export type RefusalReason = "rate-limited" | "breaker-open" | "queue-timeout";

/** A fetch that failed at GitHub, as the log reports it. */
export interface UpstreamFailureReport {
  username: string;
  page: number;
  error: UpstreamError;
  /** Requests sent for this fetch, retries included. */
  attempts: number;
}

/** GitHub as the service may use it: within budget, behind the breaker, bounded, retried within a deadline. */
export type Upstream = ReturnType<typeof createUpstream>;

/** Creates the guarded upstream. */
export function createUpstream(deps: UpstreamDeps) {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  const guard = () => {
    const wait = deps.budget.waitSeconds();
    if (wait > 0) {
      deps.onRefused?.("rate-limited");
      throw new UpstreamError("rate-limited", "GitHub's rate limit is exhausted; nothing is sent until it resets", {
        retryAfterSeconds: wait,
      });
    }
    if (!deps.breaker.allow()) {
      deps.onRefused?.("breaker-open");
      throw new UpstreamError("unavailable", "GitHub is failing; requests are paused while the circuit breaker is open");
    }
  };

  // Within the pace, a request waits (holding its slot, so later ones queue behind it) when the minute's
  // requests free room before its deadline, and is not sent at all when they cannot.
  const paced = async (deadline: number) => {
    if (!deps.pace) return;
    for (let delay = deps.pace.delayMs(); delay > 0; delay = deps.pace.delayMs()) {
      if (now() + delay >= deadline - 50) throw new _Paced(Math.ceil(delay / 1000));
      await sleep(delay);
    }
    deps.pace.sent();
  };

  const attempts = async (username: string, page: number, perPage: number, validators: Validators | undefined, deadline: number, sent: { count: number }) => {
    for (let attempt = 0; ; attempt++) {
      const waitStarted = performance.now();
      try {
        if (await deps.limiter.acquire(deadline - now())) deps.onQueued?.(performance.now() - waitStarted);
      } catch (error) {
        if (error instanceof QueueTimeout) throw new _Queued();
        throw error;
      }
      try {
        await paced(deadline);
        sent.count++;
        return await deps.client.listUserGists(username, page, perPage, { timeoutMs: deadline - now(), validators, resends: attempt });
      } catch (error) {
        const backoff = _backoffMs(attempt, random);
        const retry = error instanceof UpstreamError && error.retryable && attempt < deps.retries && now() + backoff < deadline - 50;
        if (!retry) throw error;
        deps.onRetry?.();
        await sleep(backoff);
      } finally {
        deps.limiter.release();
      }
    }
  };

  return {
    /** Fetches a page, spending at most one deadline of UPSTREAM_TIMEOUT_MS on queueing, attempts and backoff. */
    async fetchPage(username: string, page: number, perPage: number, validators?: Validators): Promise<GistsFetch> {
      const deadline = now() + deps.timeoutMs;
      guard();
      const sent = { count: 0 };
      try {
        const result = await attempts(username, page, perPage, validators, deadline, sent);
        deps.breaker.success();
        deps.budget.answered();
        return result;
      } catch (error) {
        if (error instanceof _Queued) {
          deps.breaker.release();
          // Nothing more was sent: a refusal when no attempt was, a failure of the attempts made otherwise.
          const timeout = new UpstreamError("timeout", "No upstream slot freed up within the deadline");
          if (sent.count === 0) deps.onRefused?.("queue-timeout");
          else deps.onFailure?.({ username, page, error: timeout, attempts: sent.count });
          throw timeout;
        }
        if (error instanceof _Paced) {
          deps.breaker.release();
          const paced = new UpstreamError("rate-limited", "The upstream requests of the last minute leave no room for this one within its deadline", {
            retryAfterSeconds: error.retryAfterSeconds,
          });
          if (sent.count === 0) deps.onRefused?.("rate-limited");
          else deps.onFailure?.({ username, page, error: paced, attempts: sent.count });
          throw paced;
        }
        if (error instanceof UpstreamError) {
          const failure = _record(error, deps);
          if (failure.kind !== "not-found") deps.onFailure?.({ username, page, error: failure, attempts: sent.count });
          throw failure;
        }
        deps.breaker.release();
        throw error;
      }
    },
  };
}

class _Queued extends Error {}

class _Paced extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super("paced");
  }
}

// Full jitter: spread retries so a burst of failures does not come back as a synchronized burst.
function _backoffMs(attempt: number, random: () => number): number {
  return Math.round(random() * Math.min(1000, 50 * 2 ** attempt)) + 10;
}

// Tells the breaker and the budget what a failure means; a rate limit comes back with the pause the budget took,
// so the Retry-After answered is the one every later refused request gets.
function _record(error: UpstreamError, deps: UpstreamDeps): UpstreamError {
  switch (error.kind) {
    case "not-found":
      deps.budget.answered();
      deps.breaker.success();
      return error;
    case "rejected":
      deps.breaker.success();
      return error;
    case "rate-limited": {
      deps.breaker.release();
      if (!error.refusal) return error;
      const retryAfterSeconds = deps.budget.limited(error.refusal);
      return new UpstreamError("rate-limited", error.message, { retryAfterSeconds, refusal: error.refusal });
    }
    default:
      deps.breaker.failure();
      return error;
  }
}
