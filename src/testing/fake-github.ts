import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createFaultTable, parseSecondaryLimit, type Fault, type SecondaryLimit } from "./fake-faults.ts";
import { handleControl } from "./fake-github-control.ts";
import { serveGithub, type FakeWorld, type RateLimitState, type RecordedRequest } from "./fake-github-routes.ts";
import { fakeGists, type FakeGist } from "./fake-gists.ts";

export type { Fault, SecondaryLimit } from "./fake-faults.ts";
export type { FakeGist } from "./fake-gists.ts";
export type { RateLimitState, RecordedRequest } from "./fake-github-routes.ts";

/** Selects recorded requests: a login (case-insensitive) or a predicate. */
export type RequestFilter = string | ((request: RecordedRequest) => boolean);

/** How to start a fake GitHub. */
export interface FakeGithubOptions {
  port?: number;
  host?: string;
  /** Users present after start and after every reset(), login → gist count. */
  users?: Record<string, number>;
  /** The primary window: `{ limit, windowSeconds }` makes a small budget that refills at each reset. */
  rateLimit?: Partial<RateLimitState>;
  /** A secondary limit set from the start (and after every reset()). */
  secondaryLimit?: SecondaryLimit & { times?: number };
  etag?: "weak" | "strong";
  /**
   * Logins starting with `prefix` (case-insensitive) exist without being set, with `gists(login)` gists each:
   * a population of any size, made when first asked for (load and soak runs).
   */
  autoUsers?: { prefix: string; gists: number | ((login: string) => number) };
}

/** A running fake GitHub REST server and its controls. */
export interface FakeGithub {
  readonly url: string;
  close(): Promise<void>;
  /** Back to the starting users and a full rate limit; faults, held requests and the request log dropped. */
  reset(): void;
  setUser(login: string, gistCount: number): void;
  removeUser(login: string): void;
  /** Every gist of a user, newest first, exactly as the fake serves them. */
  gists(login: string): FakeGist[];
  users(): Record<string, number>;
  setRateLimit(update: Partial<RateLimitState>): void;
  readonly rateLimit: RateLimitState;
  setFault(login: string, fault: Fault | null): void;
  /**
   * Answer every login's next `times` requests (all, without `times`) with a secondary limit in the given form;
   * null clears it. It comes before any login's own fault.
   */
  setSecondaryLimit(limit: (SecondaryLimit & { times?: number }) | null): void;
  readonly secondaryLimit: (SecondaryLimit & { times?: number }) | undefined;
  faults(): Record<string, Fault>;
  readonly requests: readonly RecordedRequest[];
  requestCount(filter?: RequestFilter): number;
  readonly inFlight: number;
  readonly maxInFlight: number;
  clearRequests(): void;
}

/** Start a fake GitHub on 127.0.0.1 (a free port unless one is given). */
export async function startFakeGithub(options: FakeGithubOptions = {}): Promise<FakeGithub> {
  const world: FakeWorld = {
    url: "",
    users: new Map(),
    faults: createFaultTable(),
    rateLimit: _initialRateLimit(options.rateLimit),
    secondaryLimit: _copy(options.secondaryLimit),
    etag: options.etag ?? "weak",
    requests: [],
    pending: new Set(),
    timers: new Set(),
    autoUser: _autoUser(options.autoUsers),
  };
  let inFlight = 0;
  let maxInFlight = 0;

  const server = createServer((req, res) => {
    if ((req.url ?? "/").startsWith("/_fake/")) return void handleControl(req, res, fake);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let done = false;
    const finish = () => {
      if (!done) (done = true), (inFlight -= 1), world.pending.delete(res);
    };
    res.once("finish", finish);
    res.once("close", finish);
    serveGithub(world, req, res);
  });

  const dropPending = () => {
    for (const timer of world.timers) clearTimeout(timer);
    world.timers.clear();
    for (const res of world.pending) res.socket?.destroy();
    world.pending.clear();
  };
  const seedUsers = () => {
    world.users.clear();
    for (const [login, count] of Object.entries(options.users ?? {})) fake.setUser(login, count);
  };

  const fake: FakeGithub = {
    get url() {
      return world.url;
    },
    async close() {
      dropPending();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    reset() {
      dropPending();
      seedUsers();
      world.faults.clear();
      world.rateLimit = _initialRateLimit(options.rateLimit);
      world.secondaryLimit = _copy(options.secondaryLimit);
      fake.clearRequests();
    },
    setUser(login, gistCount) {
      if (!Number.isInteger(gistCount) || gistCount < 0) throw new Error("gistCount must be a whole number");
      world.users.set(login.toLowerCase(), { login, count: gistCount });
    },
    removeUser: (login) => void world.users.delete(login.toLowerCase()),
    gists(login) {
      const user = world.users.get(login.toLowerCase());
      return user ? fakeGists(user.login, user.count, world.url) : [];
    },
    users: () => Object.fromEntries([...world.users.values()].map((u) => [u.login, u.count])),
    setRateLimit(update) {
      world.rateLimit = { ...world.rateLimit, ...update };
    },
    get rateLimit() {
      return { ...world.rateLimit };
    },
    setFault: (login, fault) => world.faults.set(login, fault),
    setSecondaryLimit(limit) {
      world.secondaryLimit = limit === null || (limit.times !== undefined && limit.times <= 0) ? undefined : _copy(parseSecondaryLimit(limit));
    },
    get secondaryLimit() {
      return _copy(world.secondaryLimit);
    },
    faults: () => world.faults.list(),
    get requests() {
      return world.requests;
    },
    requestCount(filter) {
      if (filter === undefined) return world.requests.length;
      if (typeof filter === "function") return world.requests.filter(filter).length;
      return world.requests.filter((r) => r.login === filter.toLowerCase()).length;
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    clearRequests() {
      world.requests = [];
      maxInFlight = inFlight;
    },
  };

  seedUsers();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  world.url = `http://${options.host ?? "127.0.0.1"}:${(server.address() as AddressInfo).port}`;
  return fake;
}

function _autoUser(auto: FakeGithubOptions["autoUsers"]): FakeWorld["autoUser"] {
  if (!auto) return undefined;
  const prefix = auto.prefix.toLowerCase();
  const { gists } = auto;
  return (login) => (login.startsWith(prefix) ? { login, count: typeof gists === "number" ? gists : gists(login) } : undefined);
}

function _initialRateLimit(initial: Partial<RateLimitState> = {}): RateLimitState {
  const limit = initial.limit ?? 5000;
  const state: RateLimitState = {
    limit,
    remaining: initial.remaining ?? limit,
    resetAt: initial.resetAt ?? Math.floor(Date.now() / 1000) + (initial.windowSeconds ?? 3600),
    exceededStatus: initial.exceededStatus ?? 403,
  };
  if (initial.windowSeconds !== undefined) state.windowSeconds = initial.windowSeconds;
  return state;
}

function _copy<T extends object>(value: T | undefined): T | undefined {
  return value === undefined ? undefined : { ...value };
}

if (import.meta.main) {
  // The CLI gets the factory passed in: importing this module back would deadlock Deno's top-level await.
  const { runFakeGithubCli } = await import("./fake-github-cli.ts");
  await runFakeGithubCli(process.argv.slice(2), startFakeGithub);
}
