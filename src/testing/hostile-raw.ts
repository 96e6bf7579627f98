import type { Dice, HostileContext } from "./hostile-requests.ts";

// Generated malformed HTTP/1.x that only a raw socket sends: NUL, bare CR and LF, CRLF injection, bad versions
// and methods, odd Host headers, folded and nameless headers, too many or too large headers, conflicting
// lengths, broken chunking, pipelining, partial and slow requests, binary garbage.

/** One exchange on a fresh connection. */
export interface RawCase {
  kind: string;
  /** The bytes, as latin1 text. */
  bytes: string;
  /** Complete requests in `bytes` (answers to wait for); 0 when deliberately incomplete, so silence is fine. */
  requests: number;
  /** True when no request in `bytes` asks for a gists page: a 200 carrying gists would answer something else. */
  notGists: boolean;
  /** Write in pieces this far apart (a slow client). */
  pieceDelayMs?: number;
}

/** `count` raw cases for a service whose proper Host value is `host`. */
export function hostileRawRequests(dice: Dice, context: HostileContext, host: string, count: number): RawCase[] {
  const generators = [control, badLine, oddHost, oddHost, badHeaders, bodies, pipelined, partial, garbage];
  return Array.from({ length: count }, () => dice.pick(generators)(dice, context, host));
}

type Generator = (dice: Dice, context: HostileContext, host: string) => RawCase;

const request = (line: string, headers: string[], body = "") => `${line}\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n${body}`;

/** Targets that are not gists pages, and one that is. */
function notGistsTarget(dice: Dice): string {
  return dice.pick(["/", "/health", "/healthz", "/readyz", "/a_b", "/-x", "/a..b", "/%00", "/cache/stats", "/nope/nope"]);
}

const control: Generator = (dice, context, host) => {
  const at = dice.pick(["target", "header-name", "header-value", "method", "version"]);
  const bad = dice.pick(["\0", "\r", "\n", "\x7f", "\x1b", "\t", "\x0b", "\x0c"]);
  const target = at === "target" ? `/${context.login.slice(0, 2)}${bad}${context.login.slice(2)}` : notGistsTarget(dice);
  const method = at === "method" ? `G${bad}ET` : "GET";
  const version = at === "version" ? `HTTP/1${bad}1` : "HTTP/1.1";
  const headers = [`Host: ${host}`];
  if (at === "header-name") headers.push(`X-Od${bad}d: 1`);
  if (at === "header-value") headers.push(`X-Odd: a${bad}b`);
  return { kind: `control-in-${at}`, bytes: request(`${method} ${target} ${version}`, headers), requests: 1, notGists: at !== "target" };
};

const badLine: Generator = (dice, context, host) => {
  const target = dice.chance(0.5) ? dice.pick(context.cached) : notGistsTarget(dice);
  const lines = [
    `GET ${target} HTTP/1.2`,
    `GET ${target} HTTP/2.0`,
    `GET ${target} HTTP/0.9`,
    `GET ${target} HTTP/9.9`,
    `GET ${target} http/1.1`,
    `GET ${target} HTTP/1.1 `,
    `GET ${target}`,
    `GET  ${target}  HTTP/1.1`,
    `GET ${target} HTTP/1.1 extra`,
    `get ${target} HTTP/1.1`,
    `${"G".repeat(dice.pick([20, 1000]))} ${target} HTTP/1.1`,
    `G(E)T ${target} HTTP/1.1`,
    `GÉT ${target} HTTP/1.1`,
    `TRACE ${target} HTTP/1.1`,
    `CONNECT 127.0.0.1:22 HTTP/1.1`,
    `OPTIONS * HTTP/1.1`,
    `GET * HTTP/1.1`,
    `GET http://evil.example${target} HTTP/1.1`,
    `GET https://${host}${target} HTTP/1.1`,
    `GET //evil.example${target} HTTP/1.1`,
    `GET ${target}#fragment HTTP/1.1`,
    `GET ${target} ${target} HTTP/1.1`,
    `GET ${target}?a=1\r\nX-Injected: 1 HTTP/1.1`,
    `GET ${target.replace("/", "")} HTTP/1.1`,
    `GET /${"\u00e9\u00ff\u0080".repeat(dice.int(1, 50))} HTTP/1.1`,
    `GET /${"a".repeat(dice.pick([8_000, 70_000]))} HTTP/1.1`,
    ` GET ${target} HTTP/1.1`,
  ];
  const line = dice.pick(lines);
  const asksForGists = line.includes(context.login) && !line.includes("/a_b");
  return { kind: "request-line", bytes: request(line, [`Host: ${host}`]), requests: 1, notGists: !asksForGists };
};

/** The Host header must never change which answer a target gets: not its route, and never another request's cached page. */
const oddHost: Generator = (dice, context) => {
  const value = dice.pick([
    "",
    " ",
    "a b",
    "x",
    "api",
    "svc",
    "/",
    "?",
    "#",
    "@",
    "x/y",
    "a?b",
    "evil.example",
    "[::1",
    "127.0.0.1:99999",
    "h".repeat(dice.pick([300, 9000])),
    "\u00e9",
  ]);
  const target = dice.chance(0.5) ? dice.pick([...context.cached, `/${context.login}?page=2&per_page=3`]) : notGistsTarget(dice);
  const headers = dice.pick([[`Host: ${value}`], [`Host: ${value}`, `Host: ${value}`], [`Host: a`, `Host: b`], []]);
  const gists = target.startsWith(`/${context.login}`);
  return { kind: "host", bytes: request(`GET ${target} HTTP/1.1`, [...headers, "Connection: close"]), requests: 1, notGists: !gists };
};

const badHeaders: Generator = (dice, context, host) => {
  const target = dice.chance(0.5) ? dice.pick(context.cached) : notGistsTarget(dice);
  const shapes: Array<() => string[]> = [
    () => [`Host: ${host}`, "X-Folded: a", " continued"],
    () => [`Host: ${host}`, "\tX-Tab-First: 1"],
    () => [`Host: ${host}`, "NoColonHere"],
    () => [`Host: ${host}`, ": empty-name"],
    () => [`Host: ${host}`, "X-Space : before-colon"],
    () => [`Host: ${host}`, "X(Bad)Name: 1"],
    () => [`Host: ${host}`, `X-Huge: ${"h".repeat(dice.pick([8_000, 17_000, 65_536, 100_000]))}`],
    () => [`Host: ${host}`, ...Array.from({ length: dice.pick([100, 300, 1000]) }, (_, i) => `X-Many-${i}: ${i}`)],
    () => [`Host: ${host}`, `X-Request-Id: ${"\u00ff".repeat(50)}`],
    () => [`Host: ${host}`, "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: x", "Sec-WebSocket-Version: 13"],
    () => [`Host: ${host}`, "Upgrade: h2c", "Connection: Upgrade, HTTP2-Settings", "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"],
    () => [`Host: ${host}`, "Connection: keep-alive, close, upgrade"],
    () => [`Host: ${host}`, "Expect: 100-continue"],
    () => [`Host: ${host}`, "Expect: the-unexpected"],
    () => [`Host: ${host}`, `Accept-Encoding: ${"gzip;q=0.".repeat(500)}`],
    () => [`Host: ${host}`, `If-None-Match: ${'"'.repeat(1000)}`],
  ];
  return { kind: "headers", bytes: request(`GET ${target} HTTP/1.1`, dice.pick(shapes)()), requests: 1, notGists: !target.startsWith(`/${context.login}`) };
};

const bodies: Generator = (dice, context, host) => {
  const target = dice.pick([...context.cached, "/cache", "/health"]);
  const method = dice.pick(["POST", "PUT", "DELETE", "GET"]);
  const complete: Array<[string[], string]> = [
    [["Content-Length: 5", "Content-Length: 6"], "hello!"],
    [["Content-Length: 5", "Transfer-Encoding: chunked"], "0\r\n\r\n"],
    [["Transfer-Encoding: chunked", "Content-Length: 5"], "0\r\n\r\n"],
    [["Content-Length: -1"], ""],
    [["Content-Length: abc"], ""],
    [["Content-Length: 1e3"], ""],
    [["Content-Length: 99999999999999999999999"], ""],
    [["Transfer-Encoding: chunked"], "zz\r\nhello\r\n0\r\n\r\n"],
    [["Transfer-Encoding: chunked"], "5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n"],
    [["Transfer-Encoding: chunked"], `${"f".repeat(20)}\r\nx\r\n0\r\n\r\n`],
    [["Transfer-Encoding: chunked"], "-5\r\nhello\r\n0\r\n\r\n"],
    [["Transfer-Encoding: gzip"], "xyz"],
    [["Transfer-Encoding: chunked, chunked"], "0\r\n\r\n"],
    [["Transfer-Encoding: identity"], ""],
    [[`Content-Length: ${70_000}`], "x".repeat(70_000)],
    [["Transfer-Encoding: chunked"], `${(70_000).toString(16)}\r\n${"x".repeat(70_000)}\r\n0\r\n\r\n`],
  ];
  const [headers, body] = dice.pick(complete);
  return { kind: "body", bytes: request(`${method} ${target} HTTP/1.1`, [`Host: ${host}`, ...headers], body), requests: 1, notGists: false };
};

const pipelined: Generator = (dice, context, host) => {
  const count = dice.int(2, 6);
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const target = dice.chance(0.6) ? dice.pick(context.cached) : notGistsTarget(dice);
    parts.push(request(`GET ${target} HTTP/1.1`, [`Host: ${host}`]));
  }
  // A broken request last: everything before it must still be answered.
  const broken = dice.chance(0.5);
  if (broken) parts.push(request("GET /\0 HTTP/1.1", [`Host: ${host}`]));
  return { kind: "pipelined", bytes: parts.join(""), requests: count + (broken ? 1 : 0), notGists: false };
};

const partial: Generator = (dice, context, host) => {
  const whole = request(`GET ${dice.pick(context.cached)} HTTP/1.1`, [`Host: ${host}`, "Accept: */*"]);
  if (dice.chance(0.3)) return { kind: "slow", bytes: whole, requests: 1, notGists: false, pieceDelayMs: 15 };
  const cut = dice.chance(0.3)
    ? request("POST /cache HTTP/1.1", [`Host: ${host}`, "Content-Length: 100"], "only a little")
    : whole.slice(0, dice.int(1, whole.length - 2));
  return { kind: "partial", bytes: cut, requests: 0, notGists: false };
};

const garbage: Generator = (dice) => {
  // Only bytes with an end of head (CRLF CRLF) after a request line are complete; for the rest, waiting is fair.
  const shapes: Array<() => [string, number]> = [
    () => {
      const bytes = Array.from({ length: dice.pick([1, 16, 300, 5000]) }, () => String.fromCharCode(dice.int(0, 255))).join("");
      return [bytes, /[^\r\n][\s\S]*\r\n\r\n/.test(bytes) ? 1 : 0];
    },
    () => [`\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03${"\0".repeat(64)}`, 0],
    () => ["PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 1],
    () => ["\r\n\r\n\r\n\r\n", 0],
    () => ["\r\n".repeat(5000), 0],
    () => ["GET / HTTP/1.1\n\n", 0],
    () => ["GET / HTTP/1.1\r\r\r\r", 0],
  ];
  const [bytes, requests] = dice.pick(shapes)();
  return { kind: "garbage", bytes, requests, notGists: true };
};
