import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { hostileRawRequests, type RawCase } from "../testing/hostile-raw.ts";
import { createDice, hostileFetches, ownPaths, validLogin, type FetchCase, type HostileContext } from "../testing/hostile-requests.ts";
import { rawExchange } from "../testing/raw-http.ts";
import { useStack } from "./stack.ts";

// Thousands of generated hostile requests against the compiled binary: never a 5xx, never a hang, never a crash,
// never an answer meant for another request, nothing invalid upstream, memory bounded. The seed is random per
// run and printed with every failure; FUZZ_SEED=<n> replays a run request for request.

const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32));
const fetchCount = Number(process.env.FUZZ_FETCHES ?? 4000);
const rawCount = Number(process.env.FUZZ_RAW ?? 1000);
const requestTimeoutMs = 5_000;
// Idle the binary holds ~56 MiB and ~80 MiB after hit runs (README, Performance); this run caches a few hundred
// small pages and 404s (well under 1 MiB). 200 MB leaves room for allocator slack, yet a run that kept request
// data (30 KB paths, 200 KB bodies, 100 KB headers, thousands of them) would pass it.
const rssBoundMb = 200;
const login = "fuzzcat";

/** Answers that break a rule, grouped by rule and kind of request, with a count and two requests to replay. */
function createViolations() {
  const groups = new Map<string, { count: number; examples: string[] }>();
  return {
    add(rule: string, example: string): void {
      const group = groups.get(rule) ?? { count: 0, examples: [] };
      group.count++;
      if (group.examples.length < 2) group.examples.push(example);
      groups.set(rule, group);
    },
    list: () => [...groups].map(([rule, { count, examples }]) => ({ rule, count, examples })),
  };
}

/** The path and query of `path` as fetch sends it (WHATWG URL normalisation: dot segments, percent-encoding). */
function sentPath(base: string, path: string): string {
  const url = new URL(`${base}${path}`);
  return `${url.pathname}${url.search}`;
}

/** True when the target's one path segment (empty ones aside) can name a login or a page of the service, raw or percent-decoded. */
function mayBeLogin(pathname: string): boolean {
  const segments = pathname.split("/").filter(Boolean);
  if (segments.length !== 1) return false;
  let decoded = segments[0]!;
  try {
    decoded = decodeURIComponent(decoded);
  } catch {
    // Not decodable: judged as sent.
  }
  return validLogin.test(segments[0]!) || validLogin.test(decoded) || ownPaths.has(decoded.toLowerCase());
}

function show(path: string): string {
  return JSON.stringify(path.length > 160 ? `${path.slice(0, 160)}...(${path.length} chars)` : path);
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Math.round(Number(match?.[1] ?? 0) / 1024);
}

/** Runs `work` over `items` with at most `width` at once. */
async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

describe("fuzz [binary]", () => {
  const s = useStack("binary", {}, { users: { [login]: 12 }, rateLimit: { limit: 10_000_000 } });
  const context: HostileContext = {
    login,
    cached: [`/${login}`, `/${login}?page=1&per_page=5`, `/${login}?page=2&per_page=5`, `/${login}?all=true`],
  };
  const statuses: Record<string, number> = {};
  const count = (key: string | number) => (statuses[key] = (statuses[key] ?? 0) + 1);
  let rssBefore = 0;

  test("warm: the cached targets answer 200, twice (the second from the hit path)", async () => {
    for (const target of [...context.cached, ...context.cached]) expect((await s.request(target)).status).toBe(200);
    rssBefore = rssMb(s.service.pid);
  });

  test(`${fetchCount} generated requests through fetch: no 5xx, no hang, no answer meant for another request`, async () => {
    const dice = createDice(seed);
    const cases = hostileFetches(dice, context, fetchCount);
    const violations = createViolations();
    const clientErrors: string[] = [];
    await inParallel(cases, 16, async (c: FetchCase) => {
      const path = sentPath(s.service.url, c.path);
      const what = `${c.method} ${show(path)}${Object.keys(c.headers).length ? ` headers ${show(JSON.stringify(c.headers))}` : ""}`;
      const rule = (text: string) => `${text} (${c.kind} ${c.method})`;
      let res: Response;
      let text: string;
      try {
        res = await fetch(`${s.service.url}${path}`, {
          method: c.method,
          headers: c.headers,
          body: c.body,
          signal: AbortSignal.timeout(requestTimeoutMs),
          redirect: "manual",
        });
        text = await res.text();
      } catch (error) {
        const name = (error as Error).name;
        if (name === "TimeoutError" || name === "AbortError") return void (count("hang"), violations.add(rule("no answer in time"), what));
        count("client-error");
        return void clientErrors.push(`${what} → ${(error as Error).message}`);
      }
      count(res.status);
      if (res.status >= 500) violations.add(rule(`${res.status}`), `${what} → ${text.slice(0, 120)}`);
      if (c.expect && "status" in c.expect && res.status !== c.expect.status) violations.add(rule(`${res.status} where ${c.expect.status} is due`), what);
      if (c.expect && "page" in c.expect && res.status === 200 && c.method === "GET") {
        const pagination = JSON.parse(text).pagination;
        const want = { page: c.expect.page, per_page: c.expect.perPage };
        if (pagination?.page !== want.page || pagination?.per_page !== want.per_page) {
          violations.add(rule("200 for another page"), `${what} → ${JSON.stringify(pagination)}, expected ${JSON.stringify(want)}`);
        }
      }
      const pathname = path.split("?")[0]!;
      if (["GET", "HEAD"].includes(c.method) && res.status === 200 && !mayBeLogin(pathname) && text.startsWith('{"data":[')) {
        violations.add(rule("200 with gists for a target that names no login"), what);
      }
    });
    console.log(`fuzz seed=${seed} fetch: ${cases.length} requests, answers ${JSON.stringify(statuses)}`);
    // A request that ends without an answer is either the server dropping it or fetch refusing to send it: both need a look.
    expect({ seed, violations: violations.list(), clientErrors: clientErrors.slice(0, 20) }).toEqual({
      seed,
      violations: [],
      clientErrors: [],
    });
  }, 60_000);

  test(`${rawCount} malformed HTTP exchanges on raw sockets: no 5xx, every complete request answered or closed`, async () => {
    const dice = createDice(seed ^ 0x5bd1e995);
    const port = Number(new URL(s.service.url).port);
    const cases = hostileRawRequests(dice, context, `127.0.0.1:${port}`, rawCount);
    const violations = createViolations();
    const answers: Record<string, number> = {};
    let parserRejections = 0;
    await inParallel(cases, 8, async (c: RawCase) => {
      const exchange = await rawExchange(port, c.bytes, {
        expectResponses: Math.max(1, c.requests),
        timeoutMs: c.requests === 0 ? 300 : 3_000,
        pieceDelayMs: c.pieceDelayMs,
      });
      const what = show(c.bytes);
      for (const response of exchange.responses) {
        answers[response.status] = (answers[response.status] ?? 0) + 1;
        // Bun's HTTP parser answers 505 (without reaching the application) to request lines it cannot parse;
        // the service cannot change that, so it is counted and reported, not failed. Every answer the
        // service itself builds carries X-Request-Id: any 5xx with one fails.
        const fromParser = response.status === 505 && response.headers["x-request-id"] === undefined;
        if (fromParser) parserRejections++;
        else if (response.status >= 500) violations.add(`${response.status} (${c.kind})`, what);
        if (c.notGists && response.status === 200 && response.body.startsWith('{"data":[')) {
          violations.add(`200 with gists for a target that is not a gists page (${c.kind})`, what);
        }
      }
      answers[exchange.ended] = (answers[exchange.ended] ?? 0) + 1;
      if (c.requests > 0 && exchange.ended === "timeout" && exchange.responses.length < c.requests) {
        violations.add(`${exchange.responses.length} of ${c.requests} answers and no close in 3 s (${c.kind})`, what);
      }
    });
    console.log(`fuzz seed=${seed} raw: ${cases.length} exchanges, ${JSON.stringify(answers)}, ${parserRejections} refused by Bun's parser (505)`);
    expect({ seed, violations: violations.list() }).toEqual({ seed, violations: [] });
  }, 60_000);

  /** GET `target` with a Host header of `host` (none when undefined) on a raw socket. */
  const askWithHost = async (target: string, host: string | undefined) => {
    const port = Number(new URL(s.service.url).port);
    const head = host === undefined ? "" : `Host: ${host}\r\n`;
    const exchange = await rawExchange(port, `GET ${target} HTTP/1.1\r\n${head}Connection: close\r\n\r\n`, { expectResponses: 1, timeoutMs: 3_000 });
    const response = exchange.responses[0];
    return { target, host, status: response?.status ?? exchange.ended, gists: response?.body.startsWith('{"data":[') ?? false };
  };

  test("a valid Host value (RFC 9110: any reg-name, with or without a port) routes like the proper one", async () => {
    const ask = askWithHost;
    const proper = new URL(s.service.url).host;
    const answers = [];
    // Valid Host values (RFC 9110 7.2: any reg-name, with or without a port) must route like the proper one.
    for (const host of ["api", "x", "svc", "gists-api", "gists-api.default.svc", "localhost", "[::1]:8080", proper]) {
      answers.push(await ask("/healthz", host), await ask("/a_b", host), await ask(`/${login}?page=2&per_page=5`, host));
    }
    const expected = answers.map((a) => ({ ...a, status: a.target === "/a_b" ? 422 : 200, gists: a.target.startsWith(`/${login}`) }));
    expect(answers).toEqual(expected);
  });

  test("an invalid Host value may be refused, but never gets another request's page nor changes what GET / answers", async () => {
    const ask = askWithHost;
    // Start from an empty cache and hit path: the raw exchanges above may already have mixed them up.
    expect((await fetch(`${s.service.url}/cache`, { method: "DELETE" })).status).toBe(200);
    const rootBefore = await (await fetch(`${s.service.url}/`)).json();
    const invalid = [];
    for (const host of [undefined, "", "a b", "x/y", "a?b", "@"]) {
      await ask(`/${login}?page=1&per_page=3`, host);
      for (const target of ["/", "/health", "/a_b", `/${login}?page=3&per_page=1`]) invalid.push(await ask(target, host));
    }
    const mixedUp = invalid.filter((a) => a.gists && !(a.target.startsWith(`/${login}`) && a.status === 200));
    const rootAfter = await (await fetch(`${s.service.url}/`)).json();
    const healthy = { status: "healthy", service: "github-gists-api" };
    expect({ mixedUp, rootBefore, rootAfter }).toEqual({ mixedUp: [], rootBefore: healthy, rootAfter: healthy });
  });

  test("afterwards: alive, /healthz 200, GitHub saw only valid logins and pages, every log line is JSON, RSS bounded", async () => {
    expect(s.service.exitCode).toBeUndefined();
    expect((await fetch(`${s.service.url}/healthz`)).status).toBe(200);
    const invalidUpstream = s.fake.requests
      .map((r) => {
        const match = /^\/users\/([^/]+)\/gists$/.exec(r.path);
        const name = match ? decodeURIComponent(match[1]!) : "";
        const numbers = ["page", "per_page"].map((key) => Number(r.query.get(key)));
        const ok = validLogin.test(name) && numbers.every((n) => Number.isInteger(n) && n >= 1 && n <= 100);
        return ok ? undefined : `${r.method} ${r.path}?${r.query}`;
      })
      .filter(Boolean);
    expect({ seed, invalidUpstream }).toEqual({ seed, invalidUpstream: [] });
    await Bun.sleep(100);
    const notJson = s.service
      .stdout()
      .split("\n")
      .filter((line) => line !== "")
      .filter((line) => {
        try {
          return typeof JSON.parse(line) !== "object";
        } catch {
          return true;
        }
      })
      .map((line) => line.slice(0, 200));
    expect({ seed, notJson: notJson.slice(0, 10) }).toEqual({ seed, notJson: [] });
    const rss = rssMb(s.service.pid);
    console.log(`fuzz seed=${seed} upstream requests ${s.fake.requestCount()}, RSS ${rssBefore} MB before, ${rss} MB after (bound ${rssBoundMb} MB)`);
    expect(rss).toBeLessThan(rssBoundMb);
  });
});
