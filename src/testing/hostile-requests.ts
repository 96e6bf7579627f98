import { seededRandom } from "../loadtest/zipf.ts";

// Generated hostile requests that an HTTP client can still send (fetch): random and over-long paths, odd
// encodings, near misses of cached targets, huge and repeated query parameters, every method, odd headers,
// big bodies. Malformed HTTP that no client would send is in hostile-raw.ts.

/** A seeded source of numbers in [0, 1) and the helpers built on it. */
export interface Dice {
  readonly seed: number;
  next(): number;
  int(low: number, high: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** Dice from a seed: the same seed gives the same requests. */
export function createDice(seed: number): Dice {
  const next = seededRandom(seed);
  const int = (low: number, high: number) => low + Math.floor(next() * (high - low + 1));
  return { seed, next, int, pick: (items) => items[int(0, items.length - 1)]!, chance: (p) => next() < p };
}

/** A GitHub login as the README defines it: 1-39 letters, digits and single hyphens, no hyphen first or last. */
export const validLogin = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

/** Paths the service answers itself; they are not logins. */
export const ownPaths = new Set(["", "health", "healthz", "readyz", "metrics", "swagger", "cache"]);

/** What the run knows: a user the fake has, and targets cached before the run (the hit path knows them). */
export interface HostileContext {
  login: string;
  cached: readonly string[];
}

/** One request for fetch, and what its answer must be besides "not a 5xx, in time". */
export interface FetchCase {
  kind: string;
  method: string;
  /** Path and query, resolved against the service's URL. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** `status`: the exact answer (input known invalid, body too large); `page`: a 200 must be this page. */
  expect?: { status: number } | { page: number; perPage: number };
}

/** `count` fetch cases drawn from every generator. */
export function hostileFetches(dice: Dice, context: HostileContext, count: number): FetchCase[] {
  const generators = [randomPath, longPath, oddEncoding, nearMiss, nearMiss, hugeQuery, anyMethod, oddHeaders, preflight];
  return Array.from({ length: count }, () => dice.pick(generators)(dice, context));
}

const pathChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$&'()*+,;=:@";
const encodings = [
  "%",
  "%z",
  "%2",
  "%00",
  "%0d%0a",
  "%0a",
  "%09",
  "%20",
  "+",
  "%2F",
  "%2f",
  "%252F",
  "%5C",
  "%2e%2e",
  "%C0%AF",
  "%C0%80",
  "%ED%A0%80",
  "%FF%FE",
  "%E2%80%AE",
  "%EF%BB%BF",
  "%F0%9F%92%A9",
  "%u0041",
  "%%30",
  "%C3%A9",
  "%7F",
  "%3F",
  "%23",
  "%26",
];
const unicode = ["é", "ß", "日本", "💩", "\u202e", "\ufeff", "İ", "ﬀ", "Ａ"];

function randomText(dice: Dice, length: number): string {
  let text = "";
  while (text.length < length) {
    const roll = dice.next();
    if (roll < 0.7) text += pathChars[dice.int(0, pathChars.length - 1)];
    else if (roll < 0.85) text += dice.pick(encodings);
    else if (roll < 0.95) text += encodeURIComponent(dice.pick(unicode));
    else text += "/";
  }
  return text;
}

function randomQuery(dice: Dice): string {
  if (dice.chance(0.5)) return "";
  const pairs = Array.from({ length: dice.int(1, 4) }, () => {
    const name = dice.chance(0.6) ? dice.pick(["page", "per_page", "use_cache", "all"]) : randomText(dice, dice.int(0, 8));
    return `${name}=${randomText(dice, dice.int(0, 12))}`;
  });
  return `?${pairs.join(dice.pick(["&", "&&", ";", "&amp;"]))}`;
}

function randomPath(dice: Dice): FetchCase {
  return { kind: "random-path", method: "GET", path: `/${randomText(dice, dice.int(0, 48))}${randomQuery(dice)}`, headers: {} };
}

function longPath(dice: Dice, context: HostileContext): FetchCase {
  const length = dice.pick([64, 257, 1024, 4096, 8192, 16_384, 30_000]);
  const unit = dice.pick(["a", "-", "a-", context.login, "%41", "é"]);
  const segment = encodeURI(unit.repeat(Math.ceil(length / unit.length))).slice(0, length);
  const path = dice.chance(0.5) ? `/${segment}` : `/${context.login}?page=1&x=${segment}`;
  return { kind: "long-path", method: dice.pick(["GET", "GET", "HEAD", "DELETE"]), path, headers: {} };
}

function oddEncoding(dice: Dice, context: HostileContext): FetchCase {
  const parts = Array.from({ length: dice.int(1, 4) }, () => dice.pick([...encodings, context.login, "a", "-"]));
  const inQuery = dice.chance(0.4);
  const path = inQuery ? `/${context.login}?${dice.pick(["page", "per_page", "use_cache", parts[0]!])}=${parts.join("")}` : `/${parts.join("")}`;
  return { kind: "encoding", method: "GET", path, headers: {} };
}

/** Variants of a cached target that must not be answered as the target (or as anything) without validation. */
function nearMiss(dice: Dice, context: HostileContext): FetchCase {
  const L = context.login;
  const valid: Array<[string, number, number]> = [
    [`/${L.toUpperCase()}?page=1&per_page=5`, 1, 5],
    [`/${L}?per_page=5&page=1`, 1, 5],
    [`/${L}?page=1&per_page=5&`, 1, 5],
    [`/${L}?page=1&per_page=5&foo=bar`, 1, 5],
    [`/${L}?page=01&per_page=05`, 1, 5],
    [`/${L}?page=1&per_page=5&use_cache=true`, 1, 5],
    [`/${L}?page=2&per_page=5`, 2, 5],
    [`/${L}?page=1&per_page=6`, 1, 6],
    [`/${L}?page=1`, 1, 30],
    [`/${L}`, 1, 30],
    [`/${L}?per_page=5`, 1, 5],
    [`/${L}?page=3&per_page=5`, 3, 5],
    // Lenient number forms the validation accepts: each must still be answered as the page it names.
    [`/${L}?page=1&per_page=%205`, 1, 5],
    [`/${L}?page=1&per_page=0x5`, 1, 5],
    [`/${L}?page=1&per_page=1e1`, 1, 10],
    [`/${L}?page=1&per_page=5&per_page=6`, 1, 6],
    [`/%${L.charCodeAt(0).toString(16)}${L.slice(1)}?page=1&per_page=5`, 1, 5],
  ];
  const invalid = [
    ...["0", "101", "500", "-5", "5.5", "5%00", "abc", "", "5x", "Infinity", "NaN", "5,6", "99999999999999999999"].map((v) => `/${L}?page=1&per_page=${v}`),
    ...["0", "101", "-1", "1.5", "1%00", "%00"].map((v) => `/${L}?page=${v}&per_page=5`),
    ...["yes", "maybe", "1", "0", "%00"].map((v) => `/${L}?page=1&per_page=5&use_cache=${v}`),
    `/${L}?all=yes`,
    `/${L}_?page=1&per_page=5`,
    `/${L}-?page=1&per_page=5`,
    `/-${L}?page=1&per_page=5`,
    `/${L}.json?page=1&per_page=5`,
    `/${L}%00?page=1&per_page=5`,
    `/${L}%20?page=1&per_page=5`,
    `/%20${L}?page=1&per_page=5`,
    `/${L}%3Fpage=1&per_page=5`,
    `/${L}${"a".repeat(40)}?page=1&per_page=5`,
    `/${L}%0d%0aX-Injected:%201?page=1&per_page=5`,
  ];
  const headers: Record<string, string> = dice.chance(0.5) ? { "accept-encoding": dice.pick(["gzip", "br", "identity", "gzip, br", "*"]) } : {};
  if (dice.chance(0.55)) {
    const [path, page, perPage] = dice.pick(valid);
    return { kind: "near-miss", method: "GET", path, headers, expect: { page, perPage } };
  }
  return { kind: "near-miss-invalid", method: "GET", path: dice.pick(invalid), headers, expect: { status: 422 } };
}

function hugeQuery(dice: Dice, context: HostileContext): FetchCase {
  const base = dice.chance(0.7) ? `/${context.login}` : dice.pick(context.cached).split("?")[0]!;
  const shape = dice.int(0, 3);
  let query: string;
  if (shape === 0) query = Array.from({ length: dice.pick([10, 100, 1000, 3000]) }, () => `page=${dice.int(1, 100)}`).join("&");
  else if (shape === 1) query = `per_page=${"9".repeat(dice.pick([20, 400, 5000, 30_000]))}`;
  else if (shape === 2) query = Array.from({ length: dice.pick([50, 500, 2000]) }, (_, i) => `k${i}=${i}`).join("&");
  else query = `page=1&x=${"%41".repeat(dice.pick([100, 3000, 10_000]))}`;
  return { kind: "huge-query", method: "GET", path: `${base}?${query}`, headers: {} };
}

const methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND", "PURGE", "FOO", "M-SEARCH", "LINK", "patch", "post"];

function anyMethod(dice: Dice, context: HostileContext): FetchCase {
  const method = dice.pick(methods);
  const path = dice.chance(0.5)
    ? dice.pick(context.cached)
    : dice.pick(["/", "/health", "/healthz", "/readyz", "/metrics", "/cache", "/cache/stats", "/swagger", "/swagger/json", `/${context.login}`]);
  // Bun's fetch sends a body only with the standard methods that take one.
  const canHaveBody = ["POST", "PUT", "PATCH", "DELETE", "post"].includes(method);
  if (!canHaveBody || dice.chance(0.4)) return { kind: "method", method, path, headers: {} };
  const size = dice.pick([0, 1, 100, 4096, 65_536, 65_537, 70_000, 200_000]);
  const body = dice.chance(0.5) ? "{".repeat(size) : "x".repeat(size);
  const headers = { "content-type": dice.pick(["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) };
  // Bun refuses a body over 64 KiB before it is read (documented); Deno has no such limit, so only the binary is held to it.
  return { kind: "method-body", method, path, headers, body, expect: size > 65_536 ? { status: 413 } : undefined };
}

function oddHeaders(dice: Dice, context: HostileContext): FetchCase {
  const choices: Array<() => [string, string]> = [
    () => ["x-request-id", dice.pick(["", " ", "x".repeat(dice.pick([129, 4000, 12_000])), "a\tb", "../../etc", '"},{"level":"error', "ü"])],
    () => ["accept-encoding", dice.pick(["br;q=abc, *;q=-1", "gzip;q=1e309", ",,,,", "x".repeat(5000), "identity;q=0, *;q=0", "gzip, gzip, gzip"])],
    () => ["if-none-match", dice.pick(["*", "W/", '"', 'W/"x", '.repeat(500), '""', "null"])],
    () => ["if-modified-since", dice.pick(["yesterday", "Thu, 01 Jan 1970 00:00:00 GMT", "-1", "9".repeat(40)])],
    () => ["x-forwarded-for", dice.pick(["", "::::", "1.1.1.1, ".repeat(500), "not-an-ip", "127.0.0.1"])],
    () => ["origin", dice.pick(["null", "http://evil.example", "x".repeat(3000), "file://", "http://127.0.0.1"])],
    () => ["authorization", dice.pick(["Bearer", "Bearer ", "Basic Og==", `Bearer ${"t".repeat(8000)}`, "Negotiate x"])],
    () => ["range", dice.pick(["bytes=0-0", "bytes=-1", "bytes=99999999999-", "lines=1-2"])],
    () => ["cookie", "a=b; ".repeat(dice.pick([1, 500, 2000]))],
    () => ["accept", dice.pick(["text/html", "*/*;q=x", "application/xml", ""])],
    () => ["content-length", "0"],
    () => ["host", dice.pick(["evil.example", "x", "localhost:1"])],
    () => [`x-${randomText(dice, 8).replace(/[^A-Za-z0-9-]/g, "")}`, "\u00ff\u00fe latin1 \u0080"],
  ];
  const headers: Record<string, string> = {};
  for (let i = dice.int(1, 4); i > 0; i--) {
    const [name, value] = dice.pick(choices)();
    headers[name] = value;
  }
  if (dice.chance(0.2)) for (let i = 0; i < dice.pick([50, 200]); i++) headers[`x-many-${i}`] = String(i);
  return {
    kind: "headers",
    method: dice.pick(["GET", "GET", "HEAD"]),
    path: dice.pick([...context.cached, "/", "/healthz", `/${context.login}?page=2`]),
    headers,
  };
}

function preflight(dice: Dice, context: HostileContext): FetchCase {
  const headers: Record<string, string> = {
    origin: dice.pick(["http://example.com", "null", "http://evil.example", "x".repeat(dice.pick([1, 2000]))]),
    "access-control-request-method": dice.pick(["GET", "DELETE", "FOO", "", "G E T", "x".repeat(1000)]),
  };
  if (dice.chance(0.5)) headers["access-control-request-headers"] = dice.pick(["x-request-id", "*", ",,,", "a".repeat(4000), "content-type, x-evil"]);
  return { kind: "preflight", method: "OPTIONS", path: dice.pick([...context.cached, "/", "/cache", `/${randomText(dice, 10)}`]), headers };
}
