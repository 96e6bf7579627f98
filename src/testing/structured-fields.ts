// Structured Field Values (RFC 8941), as the tests read headers built on them (Cache-Status, RFC 9211).

/** A bare item: an Integer, a String, a Token (kept apart from a String) or a Boolean. */
export type Bare = string | number | boolean | { token: string };

/** One member of a List: its item and its parameters. */
export interface ListMember {
  item: Bare;
  params: Record<string, Bare>;
}

/** A strict parser of an RFC 8941 List of Items with Parameters (no inner lists, decimals or byte sequences): throws at the first byte the grammar refuses. */
export function parseList(input: string): ListMember[] {
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at ${at} in ${JSON.stringify(input)}`);
  };
  const skip = (chars: RegExp) => {
    while (at < input.length && chars.test(input[at]!)) at++;
  };
  const bare = (): Bare => {
    const char = input[at] ?? "";
    if (char === "-" || /\d/.test(char)) {
      const match = /^-?\d{1,15}/.exec(input.slice(at));
      if (!match || input[at + match[0].length] === ".") fail("an integer (no decimals here)");
      at += match![0].length;
      return Number(match![0]);
    }
    if (char === '"') {
      let text = "";
      for (at++; ; at++) {
        const next = input[at];
        if (next === undefined) fail("an unterminated string");
        if (next === '"') break;
        if (next === "\\") {
          at++;
          if (input[at] !== '"' && input[at] !== "\\") fail('an escape other than \\" or \\\\');
          text += input[at];
        } else if (next! < " " || next! > "~") fail("a character outside printable ASCII");
        else text += next;
      }
      at++;
      return text;
    }
    if (/[A-Za-z*]/.test(char)) {
      const match = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/.exec(input.slice(at))!;
      at += match[0].length;
      return { token: match[0] };
    }
    if (char === "?") {
      const value = input[at + 1];
      if (value !== "0" && value !== "1") fail("a boolean");
      at += 2;
      return value === "1";
    }
    return fail("a bare item");
  };
  const members: ListMember[] = [];
  skip(/ /);
  while (at < input.length) {
    const item = bare();
    const params: Record<string, Bare> = {};
    while (input[at] === ";") {
      at++;
      skip(/ /);
      const key = /^[a-z*][a-z0-9_\-.*]*/.exec(input.slice(at));
      if (!key) fail("a parameter key");
      at += key![0].length;
      if (input[at] === "=") {
        at++;
        params[key![0]] = bare();
      } else params[key![0]] = true;
    }
    members.push({ item, params });
    skip(/[ \t]/);
    if (at >= input.length) break;
    if (input[at] !== ",") fail("a comma between members");
    at++;
    skip(/[ \t]/);
    if (at >= input.length) fail("a member after the comma");
  }
  return members;
}

/** The parameters of one cache's Cache-Status member as plain values (a Token as its text). */
export type CacheStatus = Record<string, string | number | boolean> & { name: string };

// RFC 9211 §2: the parameters it defines, with their types.
const _cacheStatusTypes: Record<string, readonly string[]> = {
  hit: ["boolean"],
  fwd: ["token"],
  "fwd-status": ["integer"],
  ttl: ["integer"],
  stored: ["boolean"],
  collapsed: ["boolean"],
  key: ["string"],
  detail: ["string", "token"],
};
const _fwdReasons = new Set(["bypass", "method", "uri-miss", "vary-miss", "miss", "request", "stale", "partial"]);

/**
 * Reads a Cache-Status header (RFC 9211) with exactly one member, named `name`: every parameter of the defined type,
 * `fwd` one of the defined reasons, `hit` and `fwd` never together, `fwd-status`, `stored` and `collapsed` only with
 * `fwd`. Throws naming the first rule broken.
 */
export function readCacheStatus(header: string | null, name: string): CacheStatus {
  if (header === null) throw new Error("no Cache-Status header");
  const members = parseList(header);
  if (members.length !== 1) throw new Error(`Cache-Status has ${members.length} members, not 1: ${header}`);
  const { item, params } = members[0]!;
  const itemName = typeof item === "object" ? item.token : item;
  if (typeof itemName !== "string" || itemName !== name) throw new Error(`Cache-Status names ${JSON.stringify(item)}, not ${name}`);
  const status: CacheStatus = { name };
  for (const [key, value] of Object.entries(params)) {
    const kind = typeof value === "object" ? "token" : typeof value === "number" ? "integer" : typeof value;
    if (!_cacheStatusTypes[key]?.includes(kind)) throw new Error(`Cache-Status parameter ${key} is not one RFC 9211 defines as a ${kind}: ${header}`);
    status[key] = typeof value === "object" ? value.token : value;
  }
  if ("hit" in status && "fwd" in status) throw new Error(`Cache-Status has both hit and fwd: ${header}`);
  if ("fwd" in status && !_fwdReasons.has(String(status.fwd))) throw new Error(`Cache-Status fwd=${status.fwd} is no RFC 9211 reason`);
  const onlyWithFwd = ["fwd-status", "stored", "collapsed"].filter((key) => key in status);
  if (!("fwd" in status) && onlyWithFwd.length > 0) throw new Error(`Cache-Status has ${onlyWithFwd.join(", ")} without fwd: ${header}`);
  return status;
}
