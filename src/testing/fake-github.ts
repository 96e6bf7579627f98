import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createFaultTable, type Fault } from "./fake-faults.ts";
import { handleControl } from "./fake-github-control.ts";
import {
  entityTag,
  fakeGists,
  fakeUserId,
  lastModified,
  linkHeader,
  matchesEntityTag,
  type FakeGist,
} from "./fake-gists.ts";

export type { Fault } from "./fake-faults.ts";
export type { FakeGist } from "./fake-gists.ts";

/** GitHub's primary rate-limit window as the fake tracks it; `resetAt` is epoch seconds. */
export interface RateLimitState {
  limit: number;
  remaining: number;
  resetAt: number;
  /** Status GitHub answers with once the window is spent: 403 (usual) or 429. */
  exceededStatus: 403 | 429;
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
}

/** Selects recorded requests: a login (case-insensitive) or a predicate. */
export type RequestFilter = string | ((request: RecordedRequest) => boolean);

/** How to start a fake GitHub. */
export interface FakeGithubOptions {
  port?: number;
  host?: string;
  /** Users present after start and after every reset(), login → gist count. */
  users?: Record<string, number>;
  rateLimit?: Partial<RateLimitState>;
  etag?: "weak" | "strong";
}

/** A running fake GitHub REST server and its controls. */
export interface FakeGithub {
  readonly url: string;
  close(): Promise<void>;
  reset(): void;
  setUser(login: string, gistCount: number): void;
  removeUser(login: string): void;
  /** Every gist of a user, newest first, exactly as the fake serves them. */
  gists(login: string): FakeGist[];
  users(): Record<string, number>;
  setRateLimit(update: Partial<RateLimitState>): void;
  readonly rateLimit: RateLimitState;
  setFault(login: string, fault: Fault | null): void;
  faults(): Record<string, Fault>;
  readonly requests: readonly RecordedRequest[];
  requestCount(filter?: RequestFilter): number;
  readonly inFlight: number;
  readonly maxInFlight: number;
  clearRequests(): void;
}

/** Start a fake GitHub on 127.0.0.1 (a free port unless one is given). */
export async function startFakeGithub(options: FakeGithubOptions = {}): Promise<FakeGithub> {
  const users = new Map<string, { login: string; count: number }>();
  const faults = createFaultTable();
  const pending = new Set<ServerResponse>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let requests: RecordedRequest[] = [];
  let rateLimit = _initialRateLimit(options.rateLimit);
  let inFlight = 0;
  let maxInFlight = 0;
  let url = "";

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path.startsWith("/_fake/")) return void handleControl(req, res, fake);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let done = false;
    const finish = () => {
      if (!done) (done = true), (inFlight -= 1), pending.delete(res);
    };
    res.once("finish", finish);
    res.once("close", finish);
    serveGithub(req, res);
  });

  function serveGithub(req: IncomingMessage, res: ServerResponse): void {
    const target = new URL(req.url ?? "/", url);
    const login = _loginOf(target.pathname, users);
    requests.push({
      method: req.method ?? "GET",
      path: target.pathname,
      query: target.searchParams,
      headers: _flatHeaders(req),
      at: Date.now(),
      login,
    });
    const fault = faults.take(login);
    if (!fault) return answer(req, res, target, login);
    switch (fault.kind) {
      case "hang":
        pending.add(res);
        return;
      case "latency": {
        pending.add(res);
        const timer = setTimeout(() => {
          timers.delete(timer);
          pending.delete(res);
          answer(req, res, target, login);
        }, fault.ms);
        timers.add(timer);
        return;
      }
      case "reset":
        req.socket.destroy();
        return;
      case "status": {
        const body = fault.body ?? JSON.stringify({ message: fault.status >= 500 ? "Server Error" : "Fault" });
        const type = /^\s*[[{]/.test(body) ? "application/json; charset=utf-8" : "text/html; charset=utf-8";
        return _send(res, fault.status, { ...commonHeaders(req), "content-type": type }, body);
      }
      case "malformed":
        return _send(res, 200, commonHeaders(req), '[{"id":"aa5a315d61ae9438b18d","files":{"hello_world.rb":');
      case "not-array":
        return _send(res, 200, commonHeaders(req), JSON.stringify({ message: "x" }));
      case "secondary-rate-limit":
        return _send(
          res,
          fault.status ?? 403,
          { ...commonHeaders(req), "retry-after": String(fault.retryAfter) },
          JSON.stringify({
            message:
              "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
              "If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.",
            documentation_url:
              "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
          }),
        );
    }
  }

  function answer(req: IncomingMessage, res: ServerResponse, target: URL, login: string | undefined): void {
    if (rateLimit.remaining <= 0) {
      const message =
        `API rate limit exceeded for ${req.socket.remoteAddress ?? "127.0.0.1"}. (But here's the good news: ` +
        "Authenticated requests get a higher rate limit. Check out the documentation for more details.)";
      return _send(res, rateLimit.exceededStatus, commonHeaders(req), JSON.stringify({
        message,
        documentation_url: "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
      }));
    }
    const user = login === undefined ? undefined : users.get(login);
    const isList = /^\/users?\/[^/]+\/gists\/?$/.test(target.pathname);
    if (req.method !== "GET" || !user || !isList) {
      spend();
      const body = { message: "Not Found", documentation_url: "https://docs.github.com/rest" };
      return _send(res, 404, commonHeaders(req), JSON.stringify(body));
    }
    const page = _positiveInt(target.searchParams.get("page")) ?? 1;
    const perPage = Math.min(100, _positiveInt(target.searchParams.get("per_page")) ?? 30);
    const all = fakeGists(user.login, user.count, url);
    const body = JSON.stringify(all.slice((page - 1) * perPage, page * perPage));
    const pageUrl = new URL(`/user/${fakeUserId(user.login)}/gists${target.search}`, url);
    const link = linkHeader(pageUrl, page, Math.max(1, Math.ceil(all.length / perPage)));
    const tag = entityTag(body, options.etag ?? "weak");
    const modified = lastModified(all);
    const notModified = req.headers["if-none-match"] !== undefined
      ? matchesEntityTag(req.headers["if-none-match"], tag)
      : _notModifiedSince(req.headers["if-modified-since"], modified);
    if (!notModified || req.headers.authorization === undefined) spend();
    const headers = { ...commonHeaders(req), etag: tag, "last-modified": modified, ...(link ? { link } : {}) };
    _send(res, notModified ? 304 : 200, headers, notModified ? undefined : body);
  }

  function spend(): void {
    rateLimit.remaining = Math.max(0, rateLimit.remaining - 1);
  }

  function commonHeaders(req: IncomingMessage): Record<string, string> {
    const authorized = req.headers.authorization !== undefined;
    return {
      "content-type": "application/json; charset=utf-8",
      "cache-control": `${authorized ? "private" : "public"}, max-age=60, s-maxage=60`,
      vary: "Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding",
      "x-github-api-version-selected": "2022-11-28",
      "x-github-media-type": "github.v3; format=json",
      "x-github-request-id": randomBytes(8).toString("hex").toUpperCase(),
      "x-ratelimit-limit": String(rateLimit.limit),
      "x-ratelimit-remaining": String(rateLimit.remaining),
      "x-ratelimit-used": String(rateLimit.limit - rateLimit.remaining),
      "x-ratelimit-reset": String(rateLimit.resetAt),
      "x-ratelimit-resource": "core",
      server: "github.com",
    };
  }

  function dropPending(): void {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    for (const res of pending) res.socket?.destroy();
    pending.clear();
  }

  function seedUsers(): void {
    users.clear();
    for (const [login, count] of Object.entries(options.users ?? {})) fake.setUser(login, count);
  }

  const fake: FakeGithub = {
    get url() {
      return url;
    },
    async close() {
      dropPending();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    reset() {
      dropPending();
      seedUsers();
      faults.clear();
      rateLimit = _initialRateLimit(options.rateLimit);
      fake.clearRequests();
    },
    setUser(login, gistCount) {
      if (!Number.isInteger(gistCount) || gistCount < 0) throw new Error("gistCount must be a whole number");
      users.set(login.toLowerCase(), { login, count: gistCount });
    },
    removeUser: (login) => void users.delete(login.toLowerCase()),
    gists(login) {
      const user = users.get(login.toLowerCase());
      return user ? fakeGists(user.login, user.count, url) : [];
    },
    users: () => Object.fromEntries([...users.values()].map((u) => [u.login, u.count])),
    setRateLimit(update) {
      rateLimit = { ...rateLimit, ...update };
    },
    get rateLimit() {
      return { ...rateLimit };
    },
    setFault: (login, fault) => faults.set(login, fault),
    faults: () => faults.list(),
    get requests() {
      return requests;
    },
    requestCount(filter) {
      if (filter === undefined) return requests.length;
      if (typeof filter === "function") return requests.filter(filter).length;
      return requests.filter((r) => r.login === filter.toLowerCase()).length;
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    clearRequests() {
      requests = [];
      maxInFlight = inFlight;
    },
  };

  seedUsers();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  url = `http://${options.host ?? "127.0.0.1"}:${address.port}`;
  return fake;
}

function _initialRateLimit(initial: Partial<RateLimitState> = {}): RateLimitState {
  const limit = initial.limit ?? 5000;
  return {
    limit,
    remaining: initial.remaining ?? limit,
    resetAt: initial.resetAt ?? Math.floor(Date.now() / 1000) + 3600,
    exceededStatus: initial.exceededStatus ?? 403,
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

function _flatHeaders(req: IncomingMessage): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
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

function _send(res: ServerResponse, status: number, headers: Record<string, string>, body?: string): void {
  if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
  res.writeHead(status, headers);
  res.end(body);
}

if (import.meta.main) {
  const { runFakeGithubCli } = await import("./fake-github-cli.ts");
  await runFakeGithubCli(process.argv.slice(2));
}
