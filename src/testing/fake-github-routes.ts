import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Fault, FaultTable, SecondaryLimit } from "./fake-faults.ts";
import { entityTag, fakeGists, fakeUserId, lastModified, linkHeader, matchesEntityTag } from "./fake-gists.ts";

/** GitHub's primary rate-limit window as the fake tracks it; `resetAt` is epoch seconds. */
export interface RateLimitState {
  limit: number;
  remaining: number;
  resetAt: number;
  /** Status GitHub answers with once the window is spent: 403 (usual) or 429. */
  exceededStatus: 403 | 429;
  /** When set, a window of this many seconds: once `resetAt` passes, `remaining` is `limit` again until the next reset. */
  windowSeconds?: number;
}

/** One request the fake received on its GitHub routes. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  at: number;
  /** Lower-cased login the request was for, when the path names one. */
  login?: string;
  /** The status the fake answered with, once sent (none for a hang or a reset). */
  status?: number;
  /** The headers the fake answered with (lower-cased names), once sent. */
  responseHeaders?: Record<string, string>;
}

/** The fake's mutable state, shared by its GitHub routes and its controls. */
export interface FakeWorld {
  url: string;
  users: Map<string, { login: string; count: number }>;
  faults: FaultTable;
  rateLimit: RateLimitState;
  /** A secondary limit every login meets (before its own fault), for the next `times` requests or until cleared. */
  secondaryLimit?: SecondaryLimit & { times?: number };
  etag: "weak" | "strong";
  requests: RecordedRequest[];
  /** Answers held back by a hang or latency fault, dropped on reset or close. */
  pending: Set<ServerResponse>;
  timers: Set<ReturnType<typeof setTimeout>>;
  /** A user made on first request for a login no one set (FakeGithubOptions.autoUsers), or undefined. */
  autoUser?: (login: string) => { login: string; count: number } | undefined;
}

/** Answer one request on the GitHub routes: record it, apply any fault, then serve it as GitHub would. */
export function serveGithub(world: FakeWorld, req: IncomingMessage, res: ServerResponse): void {
  const target = new URL(req.url ?? "/", world.url);
  const login = _loginOf(target.pathname, world.users);
  if (login !== undefined && world.autoUser && !world.users.has(login)) {
    const made = world.autoUser(login);
    if (made) world.users.set(login, made);
  }
  const record: RecordedRequest = {
    method: req.method ?? "GET",
    path: target.pathname,
    query: target.searchParams,
    headers: _flatHeaders(req),
    at: Date.now(),
    login,
  };
  world.requests.push(record);
  res.once("finish", () => {
    record.status = res.statusCode;
    record.responseHeaders = _flatHeaders({ headers: res.getHeaders() });
  });
  _refill(world);
  const fault = _takeSecondaryLimit(world) ?? world.faults.take(login);
  const answer = (options?: _AnswerOptions) => _answer(world, req, res, target, login, options);
  if (!fault) return answer();
  if (fault.delayMs) _hold(world, res, fault.delayMs, () => _misbehave(world, fault, req, res, answer));
  else _misbehave(world, fault, req, res, answer);
}

interface _AnswerOptions {
  chunked?: boolean;
  /** Declare the whole body's length, send part of it, then close the connection. */
  truncated?: boolean;
  /** Send the body `bytes` at a time every `intervalMs`. */
  trickle?: { bytes: number; intervalMs: number };
}

/** What GitHub does instead of answering: `answer` serves the request normally (after a latency fault). */
function _misbehave(world: FakeWorld, fault: Fault, req: IncomingMessage, res: ServerResponse, answer: (options?: _AnswerOptions) => void): void {
  const headers = _commonHeaders(world, req);
  switch (fault.kind) {
    case "hang":
      world.pending.add(res);
      return;
    case "latency":
      return _hold(world, res, fault.ms, answer);
    case "chunked":
      return answer({ chunked: true });
    case "truncated":
      return answer({ truncated: true });
    case "trickle":
      return answer({ trickle: { bytes: fault.bytes ?? 64, intervalMs: fault.intervalMs ?? 50 } });
    case "wrong-content-type":
      return _send(res, 200, { ...headers, "content-type": "text/html; charset=utf-8" }, _HTML_PAGE);
    case "reset":
      req.socket.destroy();
      return;
    case "status": {
      const body = fault.body ?? JSON.stringify({ message: fault.status >= 500 ? "Server Error" : "Fault" });
      const type = /^\s*[[{]/.test(body) ? "application/json; charset=utf-8" : "text/html; charset=utf-8";
      return _send(res, fault.status, { ...headers, "content-type": type }, body);
    }
    case "malformed":
      return _send(res, 200, headers, '[{"id":"aa5a315d61ae9438b18d","files":{"hello_world.rb":');
    case "not-array":
      return _send(res, 200, headers, JSON.stringify({ message: "x" }));
    case "secondary-rate-limit":
      return _sendSecondaryLimit(world, res, headers, fault);
    case "answer":
      return _send(res, fault.status, { ...headers, ...fault.headers }, fault.body);
  }
}

/** Keep an answer back for `ms`, then run `then`; reset() and close() drop it. */
function _hold(world: FakeWorld, res: ServerResponse, ms: number, then: () => void): void {
  world.pending.add(res);
  const timer = setTimeout(() => {
    world.timers.delete(timer);
    world.pending.delete(res);
    then();
  }, ms);
  world.timers.add(timer);
}

const _HTML_PAGE =
  "<!DOCTYPE html>\n<html><head><title>Unicorn! &middot; GitHub</title></head>" +
  "<body><h1>No server is currently available to service your request.</h1></body></html>\n";

const _SECONDARY_LIMIT_MESSAGE =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
  "If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.";

function _sendSecondaryLimit(world: FakeWorld, res: ServerResponse, headers: Record<string, string>, limit: SecondaryLimit): void {
  const sent = { ...headers };
  if (limit.retryAfter !== undefined) sent["retry-after"] = String(limit.retryAfter);
  if (limit.remaining !== undefined) {
    sent["x-ratelimit-remaining"] = String(limit.remaining);
    sent["x-ratelimit-used"] = String(Math.max(0, world.rateLimit.limit - limit.remaining));
  }
  const body = JSON.stringify({
    message: limit.message ?? _SECONDARY_LIMIT_MESSAGE,
    documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
  });
  _send(res, limit.status ?? 403, sent, body);
}

// The secondary limit set for every login, using up one of its `times`.
function _takeSecondaryLimit(world: FakeWorld): Fault | undefined {
  const limit = world.secondaryLimit;
  if (!limit) return undefined;
  if (limit.times !== undefined) {
    if (limit.times <= 0) return void (world.secondaryLimit = undefined);
    if (--limit.times <= 0) world.secondaryLimit = undefined;
  }
  return { ...limit, kind: "secondary-rate-limit" };
}

// A window with a length starts again, full, once its reset has passed (GitHub's hourly window, shortened).
function _refill(world: FakeWorld): void {
  const window = world.rateLimit;
  const nowSeconds = Math.floor(Date.now() / 1000);
  if (window.windowSeconds === undefined || nowSeconds < window.resetAt) return;
  window.remaining = window.limit;
  window.resetAt = nowSeconds + window.windowSeconds;
}

function _answer(world: FakeWorld, req: IncomingMessage, res: ServerResponse, target: URL, login: string | undefined, options: _AnswerOptions = {}): void {
  if (world.rateLimit.remaining <= 0) {
    const message =
      `API rate limit exceeded for ${req.socket.remoteAddress ?? "127.0.0.1"}. (But here's the good news: ` +
      "Authenticated requests get a higher rate limit. Check out the documentation for more details.)";
    return _send(
      res,
      world.rateLimit.exceededStatus,
      _commonHeaders(world, req),
      JSON.stringify({
        message,
        documentation_url: "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
      }),
    );
  }
  const user = login === undefined ? undefined : world.users.get(login);
  const isList = /^\/users?\/[^/]+\/gists\/?$/.test(target.pathname);
  if (req.method !== "GET" || !user || !isList) {
    _spend(world);
    const body = { message: "Not Found", documentation_url: "https://docs.github.com/rest" };
    return _send(res, 404, _commonHeaders(world, req), JSON.stringify(body));
  }
  const page = _positiveInt(target.searchParams.get("page")) ?? 1;
  const perPage = Math.min(100, _positiveInt(target.searchParams.get("per_page")) ?? 30);
  const all = fakeGists(user.login, user.count, world.url);
  const body = JSON.stringify(all.slice((page - 1) * perPage, page * perPage));
  const pageUrl = new URL(`/user/${fakeUserId(user.login)}/gists${target.search}`, world.url);
  const link = linkHeader(pageUrl, page, Math.max(1, Math.ceil(all.length / perPage)));
  const tag = entityTag(body, world.etag);
  const modified = lastModified(all);
  const notModified =
    req.headers["if-none-match"] !== undefined
      ? matchesEntityTag(req.headers["if-none-match"], tag)
      : _notModifiedSince(req.headers["if-modified-since"], modified);
  if (!notModified || req.headers.authorization === undefined) _spend(world);
  const headers = { ..._commonHeaders(world, req), etag: tag, "last-modified": modified, ...(link ? { link } : {}) };
  if (notModified) return _send(res, 304, headers);
  if (options.truncated) return _sendTruncated(res, 200, headers, body);
  if (options.trickle) return _sendTrickle(world, res, 200, headers, body, options.trickle);
  _send(res, 200, headers, body, options.chunked);
}

function _spend(world: FakeWorld): void {
  world.rateLimit.remaining = Math.max(0, world.rateLimit.remaining - 1);
}

function _commonHeaders(world: FakeWorld, req: IncomingMessage): Record<string, string> {
  const authorized = req.headers.authorization !== undefined;
  return {
    "content-type": "application/json; charset=utf-8",
    "cache-control": `${authorized ? "private" : "public"}, max-age=60, s-maxage=60`,
    vary: "Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding",
    "x-github-api-version-selected": "2022-11-28",
    "x-github-media-type": "github.v3; format=json",
    "x-github-request-id": randomBytes(8).toString("hex").toUpperCase(),
    "x-ratelimit-limit": String(world.rateLimit.limit),
    "x-ratelimit-remaining": String(world.rateLimit.remaining),
    "x-ratelimit-used": String(world.rateLimit.limit - world.rateLimit.remaining),
    "x-ratelimit-reset": String(world.rateLimit.resetAt),
    "x-ratelimit-resource": "core",
    server: "github.com",
  };
}

function _loginOf(path: string, users: Map<string, { login: string }>): string | undefined {
  const byLogin = /^\/users\/([^/]+)\/gists\/?$/.exec(path);
  if (byLogin) {
    try {
      return decodeURIComponent(byLogin[1]!).toLowerCase();
    } catch {
      return undefined;
    }
  }
  const byId = /^\/user\/(\d+)\/gists\/?$/.exec(path);
  if (!byId) return undefined;
  return [...users.keys()].find((login) => fakeUserId(login) === Number(byId[1]));
}

function _flatHeaders(message: { headers: Record<string, string | string[] | number | undefined> }): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return flat;
}

function _positiveInt(value: string | null): number | undefined {
  const n = Number(value);
  return value !== null && Number.isInteger(n) && n >= 1 ? n : undefined;
}

function _notModifiedSince(since: string | undefined, modified: string): boolean {
  return since !== undefined && Date.parse(since) >= Date.parse(modified);
}

function _send(res: ServerResponse, status: number, headers: Record<string, string>, body?: string, chunked = false): void {
  if (body !== undefined && !chunked) headers["content-length"] = String(Buffer.byteLength(body));
  res.writeHead(status, headers);
  if (!chunked || body === undefined) return void res.end(body);
  const bytes = Buffer.from(body);
  for (let at = 0; at < bytes.length; at += 4096) res.write(bytes.subarray(at, at + 4096));
  res.end();
}

// The head promises every byte; half the body follows, then the connection closes under the client.
function _sendTruncated(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  const bytes = Buffer.from(body);
  res.writeHead(status, { ...headers, "content-length": String(bytes.length) });
  res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.socket?.destroy());
}

// Held in `pending` while it drips, so reset() and close() cut it off; stops when the client goes away.
function _sendTrickle(
  world: FakeWorld,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string,
  pace: { bytes: number; intervalMs: number },
): void {
  const bytes = Buffer.from(body);
  res.writeHead(status, { ...headers, "content-length": String(bytes.length) });
  world.pending.add(res);
  let at = 0;
  const drip = () => {
    if (res.destroyed) return void world.pending.delete(res);
    const piece = bytes.subarray(at, at + pace.bytes);
    at += piece.length;
    if (at >= bytes.length) {
      world.pending.delete(res);
      return void res.end(piece);
    }
    res.write(piece);
    const timer = setTimeout(() => {
      world.timers.delete(timer);
      drip();
    }, pace.intervalMs);
    world.timers.add(timer);
  };
  drip();
}
