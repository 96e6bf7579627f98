import { FetchError, ofetch } from "ofetch";
import type { Gist } from "../modules/gists/model.ts";
import { BodyTooLarge, JsonTooDeep, maxJsonDepth, parseJsonWithin, readCappedText } from "./body.ts";
import { shapeGists, UnpublishableGists } from "./gist-shape.ts";
import { parseLinkHeader, type PageLinks } from "./links.ts";
import { maxPauseSeconds, readRefusal, usableReset, type RateLimitKind, type RateLimitRefusal } from "./rate-limit-rules.ts";
import { noTracing, type ClientSpan, type Tracing } from "../tracing/tracing.ts";

/** What GitHub's rate-limit headers said on an answer. */
export interface RateLimitState {
  limit?: number;
  remaining?: number;
  resetAt?: number;
}

/** A page of gists fetched from GitHub in the API's shape, with the validators to revalidate it later. */
export interface GistsPage {
  gists: Gist[];
  links: PageLinks;
  etag?: string;
  lastModified?: string;
  /** GitHub's `x-poll-interval`: the fewest seconds between two polls it asks for (at most an hour), when sent. */
  pollIntervalSeconds?: number;
}

/** The validators of a cached page, sent as If-None-Match / If-Modified-Since. */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

/** GitHub's answer: a new page, or "not modified" for a conditional request. */
export type GistsFetch = { kind: "page"; page: GistsPage } | { kind: "not-modified" };

/** Why GitHub could not give a page; `http/errors.ts` maps each kind to one HTTP status. */
export type UpstreamFailure = "not-found" | "rate-limited" | "timeout" | "unavailable" | "bad-response" | "rejected";

/** A failed GitHub request, as a value the service can map to a response. */
export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamFailure,
    message: string,
    readonly options: { retryAfterSeconds?: number; retryable?: boolean; refusal?: RateLimitRefusal } = {},
  ) {
    super(message);
    this.name = "UpstreamError";
  }

  /** Seconds the client should wait, for rate limits. */
  get retryAfterSeconds(): number | undefined {
    return this.options.retryAfterSeconds;
  }

  /** What GitHub's rate-limited answer said (kind, retry-after, reset), for the budget's pause. */
  get refusal(): RateLimitRefusal | undefined {
    return this.options.refusal;
  }

  /** Whether the same GET may succeed if sent again (connection errors and 5xx). */
  get retryable(): boolean {
    return this.options.retryable ?? false;
  }
}

/** Receives telemetry for each GitHub request. */
export interface GithubObserver {
  request(status: string, seconds: number): void;
  rateLimit(state: RateLimitState): void;
  /** An answer that was one of GitHub's rate limits, by kind. */
  rateLimited?(kind: RateLimitKind): void;
  /** Characters of body read from GitHub (what parsing turns into short-lived garbage). */
  received?(size: number): void;
}

/** Settings of the GitHub client. */
export interface GithubClientOptions {
  baseUrl: string;
  token?: string;
  userAgent: string;
  maxBodyBytes: number;
  observer?: GithubObserver;
  now?: () => number;
  /** A client span per request, under the span of the request that needed it. */
  tracing?: Tracing;
}

/** The GitHub REST client: version headers, token, conditional requests, body cap, rate-limit headers. */
export type GithubClient = ReturnType<typeof createGithubClient>;

/** Creates a client for GitHub's `GET /users/{username}/gists`. */
export function createGithubClient(options: GithubClientOptions) {
  const now = options.now ?? Date.now;
  const baseHeaders: Record<string, string> = {
    accept: "application/vnd.github+json",
    "x-github-api-version": "2022-11-28",
    "user-agent": options.userAgent,
  };
  if (options.token) baseHeaders.authorization = `Bearer ${options.token}`;
  const request = ofetch.create({ baseURL: options.baseUrl, retry: 0 });
  const tracing = options.tracing ?? noTracing;
  const base = new URL(options.baseUrl);
  const server = { "server.address": base.hostname, "server.port": Number(base.port) || (base.protocol === "https:" ? 443 : 80) };

  return {
    /**
     * One attempt at a page of a user's public gists within `timeoutMs` (`attempt.resends` counts the tries
     * before it); throws UpstreamError when GitHub cannot give it.
     */
    listUserGists(
      username: string,
      page: number,
      perPage: number,
      attempt: { timeoutMs: number; validators?: Validators; resends?: number },
    ): Promise<GistsFetch> {
      const path = `/users/${encodeURIComponent(username)}/gists`;
      // Built only for a sampled request; the span never carries a header, so the token stays out of traces.
      const attributes = () => ({
        "http.request.method": "GET",
        ...server,
        "url.full": `${options.baseUrl}${path}?page=${page}&per_page=${perPage}`,
        "url.template": "/users/{username}/gists",
        "http.request.resend_count": attempt.resends || undefined,
      });
      return tracing.client("GET /users/{username}/gists", attributes, (span) => fetchPage(path, username, page, perPage, attempt, span));
    },
  };

  async function fetchPage(
    path: string,
    username: string,
    page: number,
    perPage: number,
    attempt: { timeoutMs: number; validators?: Validators },
    span: ClientSpan | undefined,
  ): Promise<GistsFetch> {
    const started = performance.now();
    const headers = { ...baseHeaders };
    span?.inject(headers);
    if (attempt.validators?.etag) headers["if-none-match"] = attempt.validators.etag;
    if (attempt.validators?.lastModified) headers["if-modified-since"] = attempt.validators.lastModified;
    const conditional = headers["if-none-match"] !== undefined || headers["if-modified-since"] !== undefined;
    const signal = AbortSignal.timeout(Math.max(1, attempt.timeoutMs));
    let response: Response;
    let body: string;
    try {
      response = await followWithinOrigin(`${options.baseUrl}${path}?page=${page}&per_page=${perPage}`, headers, signal);
      body = await readCappedText(response, options.maxBodyBytes);
    } catch (error) {
      const failure = _failureOf(error, signal, attempt.timeoutMs);
      options.observer?.request(failure.kind === "timeout" ? "timeout" : "error", (performance.now() - started) / 1000);
      span?.fail(failure.kind, failure.message);
      throw failure;
    }
    options.observer?.request(String(response.status), (performance.now() - started) / 1000);
    options.observer?.received?.(body.length);
    const rateLimit = _rateLimitOf(response.headers, now());
    span?.set({ "http.response.status_code": response.status, "github.rate_limit.remaining": rateLimit.remaining });
    if (span && response.status >= 400) span.fail(String(response.status));
    if (rateLimit.remaining !== undefined || rateLimit.resetAt !== undefined) options.observer?.rateLimit(rateLimit);
    if (response.status === 304) {
      // Without validators there is nothing a 304 could confirm: the cache has no copy to renew.
      if (!conditional) throw new UpstreamError("bad-response", "GitHub answered 304 Not Modified to a request that sent no validators");
      return { kind: "not-modified" };
    }
    const refusal = readRefusal(response.status, response.headers, body, rateLimit.remaining, now());
    if (refusal) {
      options.observer?.rateLimited?.(refusal.kind);
      throw new UpstreamError("rate-limited", `GitHub's ${refusal.kind} rate limit refused the request`, { refusal });
    }
    _raiseForStatus(response.status, username);
    const gistsPage: GistsPage = {
      gists: _readGists(body, perPage),
      links: parseLinkHeader(response.headers.get("link")),
      etag: response.headers.get("etag") ?? undefined,
      lastModified: response.headers.get("last-modified") ?? undefined,
    };
    const pollInterval = _pollIntervalSeconds(response.headers.get("x-poll-interval"));
    if (pollInterval !== undefined) gistsPage.pollIntervalSeconds = pollInterval;
    return { kind: "page", page: gistsPage };
  }

  // Redirects are followed here, not by fetch: only within GITHUB_API_URL's origin (the token and the answer
  // stay GitHub's), at most maxRedirects of them, all within the attempt's one deadline.
  async function followWithinOrigin(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    for (let redirects = 0; ; redirects++) {
      const response = await request.raw<ReadableStream<Uint8Array>, "stream">(url, {
        headers,
        responseType: "stream",
        ignoreResponseError: true,
        redirect: "manual",
        signal,
      });
      if (!redirectStatuses.has(response.status)) return response;
      await response.body?.cancel().catch(() => {});
      const next = _location(response.headers.get("location"), url);
      if (next === undefined) throw new UpstreamError("bad-response", `GitHub answered ${response.status} without a usable Location`);
      if (next.origin !== base.origin) {
        throw new UpstreamError("bad-response", `GitHub redirected to ${next.origin}, outside GITHUB_API_URL (${base.origin}); not followed`);
      }
      if (redirects >= maxRedirects) throw new UpstreamError("bad-response", `GitHub redirected more than ${maxRedirects} times`);
      url = next.href;
    }
  }
}

/** Most redirects followed within GITHUB_API_URL's origin (GitHub sends one for a renamed user). */
export const maxRedirects = 3;

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

function _location(location: string | null, from: string): URL | undefined {
  if (location === null) return undefined;
  try {
    return new URL(location, from);
  } catch {
    return undefined;
  }
}

function _failureOf(error: unknown, signal: AbortSignal, timeoutMs: number): UpstreamError {
  if (error instanceof UpstreamError) return error;
  if (error instanceof BodyTooLarge) return new UpstreamError("bad-response", "GitHub's answer was larger than the service accepts");
  if (signal.aborted || _isTimeout(error)) return new UpstreamError("timeout", `GitHub did not answer within ${timeoutMs} ms`);
  return new UpstreamError("unavailable", "GitHub could not be reached", { retryable: true });
}

// Rate limits are read before this (rate-limit-rules.ts): what is left is one status, one failure.
function _raiseForStatus(status: number, username: string): void {
  if (status === 200) return;
  if (status === 404) throw new UpstreamError("not-found", `User '${username}' not found`);
  if (status >= 500) throw new UpstreamError("unavailable", `GitHub answered ${status}`, { retryable: true });
  throw new UpstreamError("rejected", `GitHub refused the request with ${status}`);
}

// A reset that cannot be believed (in the past, over an hour ahead) is left out: unknown, not an hour.
function _rateLimitOf(headers: Headers, nowMs: number): RateLimitState {
  const limit = _count(headers.get("x-ratelimit-limit"));
  const remaining = _count(headers.get("x-ratelimit-remaining"));
  const reset = headers.get("x-ratelimit-reset");
  const resetAt = usableReset(reset === null || reset.trim() === "" ? undefined : Number(reset), nowMs);
  const state: RateLimitState = {};
  if (limit !== undefined) state.limit = limit;
  if (remaining !== undefined) state.remaining = remaining;
  if (resetAt !== undefined) state.resetAt = resetAt;
  return state;
}

function _count(text: string | null): number | undefined {
  if (text === null || text.trim() === "") return undefined;
  const value = Number(text);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

// Whole seconds from 1 to an hour; anything else is as if it had not been sent.
function _pollIntervalSeconds(text: string | null): number | undefined {
  if (text === null || !/^\s*\d+\s*$/.test(text)) return undefined;
  const seconds = Number(text);
  return seconds >= 1 ? Math.min(maxPauseSeconds, seconds) : undefined;
}

// Bounded parsing first (a nesting bomb is refused before JSON.parse recurses into it), then the published schema.
function _readGists(body: string, perPage: number): Gist[] {
  let parsed: unknown;
  try {
    parsed = parseJsonWithin(body, maxJsonDepth);
  } catch (error) {
    if (error instanceof JsonTooDeep) throw new UpstreamError("bad-response", `GitHub answered with JSON ${error.message}`);
    throw new UpstreamError("bad-response", "GitHub answered with a body that is not JSON", { retryable: true });
  }
  try {
    return shapeGists(parsed, perPage);
  } catch (error) {
    if (error instanceof UnpublishableGists) throw new UpstreamError("bad-response", error.message);
    throw error;
  }
}

function _isTimeout(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const cause = error instanceof FetchError ? error.cause : undefined;
  const names = [error.name, cause instanceof Error ? cause.name : ""];
  return names.includes("TimeoutError") || names.includes("AbortError");
}
