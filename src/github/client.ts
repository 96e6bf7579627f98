import { FetchError, ofetch } from "ofetch";
import { parseLinkHeader, type PageLinks } from "./links.ts";

/** One public gist as GitHub lists it (only the fields the service reads). */
export interface GithubGist {
  id: string;
  description: string | null;
  html_url: string;
  created_at: string;
  updated_at?: string;
  files: Record<string, unknown>;
}

/** What GitHub's rate-limit headers said on the last answer. */
export interface RateLimitState {
  remaining?: number;
  resetAt?: number;
}

/** A page of gists fetched from GitHub. */
export interface GistsPage {
  gists: GithubGist[];
  links: PageLinks;
  etag?: string;
  lastModified?: string;
}

/** Why GitHub could not give a page; `errors.ts` maps each kind to one HTTP status. */
export type UpstreamFailure = "not-found" | "rate-limited" | "timeout" | "unavailable" | "bad-response" | "rejected";

/** A failed GitHub request, as a value the service can map to a response. */
export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamFailure,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}

/** Receives one line of telemetry per GitHub request. */
export interface GithubObserver {
  request(status: string, seconds: number): void;
  rateLimit(state: RateLimitState): void;
}

/** Settings of the GitHub client. */
export interface GithubClientOptions {
  baseUrl: string;
  token?: string;
  timeoutMs: number;
  userAgent: string;
  observer?: GithubObserver;
  now?: () => number;
}

/** The GitHub REST client the gists service uses: timeouts, version headers, token, rate-limit headers. */
export type GithubClient = ReturnType<typeof createGithubClient>;

/** Creates a client for GitHub's `GET /users/{username}/gists`. */
export function createGithubClient(options: GithubClientOptions) {
  const now = options.now ?? Date.now;
  const headers: Record<string, string> = {
    accept: "application/vnd.github+json",
    "x-github-api-version": "2022-11-28",
    "user-agent": options.userAgent,
  };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const request = ofetch.create({ baseURL: options.baseUrl, retry: 0, timeout: options.timeoutMs });

  return {
    /** Fetches one page of a user's public gists; throws UpstreamError when GitHub cannot give it. */
    async listUserGists(username: string, page: number, perPage: number): Promise<GistsPage> {
      const started = performance.now();
      let response: Response;
      let body: string;
      try {
        const raw = await request.raw<string, "text">(`/users/${encodeURIComponent(username)}/gists`, {
          query: { page, per_page: perPage },
          headers,
          responseType: "text",
          ignoreResponseError: true,
        });
        response = raw;
        body = raw._data ?? "";
      } catch (error) {
        const timedOut = _isTimeout(error);
        options.observer?.request(timedOut ? "timeout" : "error", (performance.now() - started) / 1000);
        if (timedOut) throw new UpstreamError("timeout", `GitHub did not answer within ${options.timeoutMs} ms`);
        throw new UpstreamError("unavailable", "GitHub could not be reached");
      }
      options.observer?.request(String(response.status), (performance.now() - started) / 1000);
      const rateLimit = _rateLimitOf(response.headers);
      if (rateLimit.remaining !== undefined || rateLimit.resetAt !== undefined) options.observer?.rateLimit(rateLimit);
      _raiseForStatus(response, body, rateLimit, username, now());
      return {
        gists: _parseGists(body),
        links: parseLinkHeader(response.headers.get("link")),
        etag: response.headers.get("etag") ?? undefined,
        lastModified: response.headers.get("last-modified") ?? undefined,
      };
    },
  };
}

function _raiseForStatus(response: Response, body: string, rateLimit: RateLimitState, username: string, nowMs: number): void {
  const status = response.status;
  if (status === 200) return;
  if (status === 404) throw new UpstreamError("not-found", `User '${username}' not found`);
  if (status === 403 || status === 429) {
    const retryAfter = _retryAfterSeconds(response.headers, rateLimit, nowMs);
    const limited = rateLimit.remaining === 0 || response.headers.has("retry-after") || /rate limit/i.test(body);
    if (limited) throw new UpstreamError("rate-limited", "GitHub's rate limit is exhausted", retryAfter);
  }
  if (status >= 500) throw new UpstreamError("unavailable", `GitHub answered ${status}`);
  throw new UpstreamError("rejected", `GitHub refused the request with ${status}`);
}

function _retryAfterSeconds(headers: Headers, rateLimit: RateLimitState, nowMs: number): number {
  const retryAfter = Number(headers.get("retry-after"));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return Math.ceil(retryAfter);
  if (rateLimit.resetAt !== undefined) return Math.max(1, Math.ceil(rateLimit.resetAt - nowMs / 1000));
  return 60;
}

function _rateLimitOf(headers: Headers): RateLimitState {
  const remaining = headers.get("x-ratelimit-remaining");
  const reset = headers.get("x-ratelimit-reset");
  const state: RateLimitState = {};
  if (remaining !== null && Number.isFinite(Number(remaining))) state.remaining = Number(remaining);
  if (reset !== null && Number.isFinite(Number(reset))) state.resetAt = Number(reset);
  return state;
}

function _parseGists(body: string): GithubGist[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new UpstreamError("bad-response", "GitHub answered with a body that is not JSON");
  }
  if (!Array.isArray(parsed)) throw new UpstreamError("bad-response", "GitHub answered with JSON that is not a list of gists");
  for (const item of parsed) {
    if (!_isGist(item)) throw new UpstreamError("bad-response", "GitHub answered with an item that is not a gist");
  }
  return parsed as GithubGist[];
}

function _isGist(item: unknown): item is GithubGist {
  if (typeof item !== "object" || item === null) return false;
  const gist = item as Record<string, unknown>;
  return (
    typeof gist.id === "string" &&
    typeof gist.html_url === "string" &&
    typeof gist.created_at === "string" &&
    (gist.description === null || gist.description === undefined || typeof gist.description === "string") &&
    typeof gist.files === "object" &&
    gist.files !== null
  );
}

function _isTimeout(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const cause = error instanceof FetchError ? error.cause : undefined;
  const names = [error.name, cause instanceof Error ? cause.name : ""];
  return names.includes("TimeoutError") || /timeout|timed out/i.test(error.message);
}
