import { UpstreamError, type UpstreamFailure } from "../github/client.ts";
import { ShareSpent } from "../github/client-share.ts";

/** An error answer: HTTP status, a `detail` a user can act on, and any headers it needs. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof detail === "string" ? detail : `HTTP ${status}`);
    this.name = "ApiError";
  }
}

// The one mapping from an upstream failure to what the client sees. Never 503: the mesh retries those.
const statusOfFailure: Record<UpstreamFailure, number> = {
  "not-found": 404,
  "rate-limited": 429,
  timeout: 504,
  unavailable: 502,
  "bad-response": 502,
  rejected: 502,
};

/** Turns any failure into the ApiError the client receives; unknown errors become a 500 without internals. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ShareSpent) return new ApiError(429, `${error.message}; try again later`, { "retry-after": String(error.retryAfterSeconds) });
  if (error instanceof UpstreamError) {
    const status = statusOfFailure[error.kind];
    const headers: Record<string, string> = error.kind === "rate-limited" ? { "retry-after": String(error.retryAfterSeconds ?? 60) } : {};
    const detail = error.kind === "not-found" ? error.message : `${error.message}; try again later`;
    return new ApiError(status, detail, headers);
  }
  return new ApiError(500, "Internal server error");
}

/** The JSON body of an error answer: `{"detail": ..., "request_id": ...}`, the shape clients already parse. */
export function errorBody(detail: unknown, requestId: string | undefined): string {
  return JSON.stringify(requestId ? { detail, request_id: requestId } : { detail });
}

/**
 * The one way an error is answered, wherever it happens (before routing, in a route, from the cache): a JSON
 * `{"detail", "request_id"}` body and the headers the error needs; the way out adds what every answer carries.
 */
export function errorResponse(status: number, detail: unknown, requestId: string | undefined, headers: Record<string, string> = {}): Response {
  return new Response(errorBody(detail, requestId), { status, headers: { "content-type": "application/json", ...headers } });
}
