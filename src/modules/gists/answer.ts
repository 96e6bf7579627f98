import type { Resolution, Slot, Verdict } from "../../cache/policy.ts";
import { errorBody } from "../../http/errors.ts";
import { securityHeaders } from "../../http/security.ts";
import { bodyFor, pickEncoding, type EncodedBody, type Encoding, type GistsEntry } from "./entry.ts";

/** What an answer depends on besides the cached entry. */
export interface AnswerContext {
  requestId: string;
  acceptEncoding: string | null;
  ifNoneMatch: string | null;
  now: number;
}

/** Settings shared by every gists answer. */
export interface AnswerSettings {
  ttlSeconds: number;
  /** Whether a prepared Response may be cloned per hit (cheap on Bun; on Deno a clone tees a stream). */
  cloneTemplates: boolean;
  /** Told when a stored entry gained a compressed form, so the cache's byte count stays true. */
  grow(slot: Slot<GistsEntry>, added: number): void;
}

/** A gists answer: the page, a 304 for a matching If-None-Match, or the cached 404. */
export function gistsAnswer(resolution: Resolution<GistsEntry>, context: AnswerContext, settings: AnswerSettings): Response {
  const { slot, verdict } = resolution;
  const entry = slot.value;
  const secondsLeft = Math.max(0, Math.ceil((slot.freshUntil - context.now) / 1000));
  if (entry.negative) {
    return new Response(errorBody(`User '${entry.username}' not found`, context.requestId), {
      status: 404,
      headers: {
        "content-type": "application/json",
        "x-cache": verdict,
        "x-request-id": context.requestId,
        "cache-control": `public, max-age=${secondsLeft}`,
        ...securityHeaders,
      },
    });
  }
  const age = Math.max(0, Math.floor((context.now - slot.storedAt) / 1000));
  const maxAge = verdict === "STALE" ? 0 : secondsLeft;
  if (context.ifNoneMatch !== null && _etagMatches(context.ifNoneMatch, entry.etag)) {
    return new Response(null, { status: 304, headers: _headers(entry, verdict, maxAge, age, context.requestId, undefined) });
  }
  const encoding = negotiateEncoding(context.acceptEncoding);
  if (verdict === "HIT" && settings.cloneTemplates) return _fromTemplate(slot, encoding, maxAge, age, context, settings);
  const body = bodyFor(entry, {
    hit: verdict === "HIT" || verdict === "STALE",
    ttlSeconds: settings.ttlSeconds,
    staleAge: verdict === "STALE" ? Math.max(1, age) : undefined,
  });
  const chosen = _encode(slot, body, encoding, settings);
  return new Response(chosen.bytes, {
    status: 200,
    headers: _headers(entry, verdict, maxAge, age, context.requestId, chosen.encoding),
  });
}

interface Template {
  response: Response;
  headers: Headers;
}
interface Templates {
  second: number;
  byEncoding: Partial<Record<Encoding, Template>>;
}
const templates = new WeakMap<Slot<GistsEntry>, Templates>();

// A hit's answer differs from the last one only in its request id (and, once a second, its Age and max-age),
// so it is prepared once per second and cloned: a clone shares the body and copies the headers, which costs
// less than building a Response from its parts. The request id goes into the template just before the clone,
// which saves reaching for the new answer's headers.
function _fromTemplate(
  slot: Slot<GistsEntry>,
  encoding: Encoding,
  maxAge: number,
  age: number,
  context: AnswerContext,
  settings: AnswerSettings,
): Response {
  const entry = slot.value;
  const second = Math.floor(context.now / 1000);
  let prepared = templates.get(slot);
  if (prepared === undefined || prepared.second !== second) {
    prepared = { second, byEncoding: {} };
    templates.set(slot, prepared);
  }
  let template = prepared.byEncoding[encoding];
  if (template === undefined) {
    const chosen = _encode(slot, entry.hit, encoding, settings);
    const response = new Response(chosen.bytes, { status: 200, headers: _headers(entry, "HIT", maxAge, age, "", chosen.encoding) });
    template = { response, headers: response.headers };
    prepared.byEncoding[encoding] = template;
  }
  template.headers.set("x-request-id", context.requestId);
  return template.response.clone();
}

// The stored hit body may gain a brotli form (counted in the cache); one-off bodies (a miss, a stale answer)
// are gzipped rather than brotli-compressed, which costs far more for a body sent once.
function _encode(slot: Slot<GistsEntry>, body: EncodedBody, wanted: Encoding, settings: AnswerSettings) {
  if (body !== slot.value.hit) return pickEncoding(body, wanted === "br" ? "gzip" : wanted);
  const chosen = pickEncoding(body, wanted);
  if (chosen.added > 0) settings.grow(slot, chosen.added);
  return chosen;
}

function _headers(
  entry: GistsEntry,
  verdict: Verdict,
  maxAge: number,
  age: number,
  requestId: string,
  encoding: Encoding | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-cache": verdict,
    etag: entry.etag,
    "cache-control": `public, max-age=${maxAge}`,
    vary: "Accept-Encoding",
    ...securityHeaders,
  };
  if (requestId) headers["x-request-id"] = requestId;
  if (verdict === "STALE") headers.age = String(age);
  if (encoding !== undefined && encoding !== "identity") headers["content-encoding"] = encoding;
  return headers;
}

const negotiated = new Map<string, Encoding>();

/** The best coding a client accepts: br, then gzip, else identity (q=0 refuses a coding). */
export function negotiateEncoding(header: string | null): Encoding {
  if (header === null || header === "") return "identity";
  const known = negotiated.get(header);
  if (known !== undefined) return known;
  const accepted = new Set<string>();
  for (const part of header.toLowerCase().split(",")) {
    const [name, ...params] = part.trim().split(";");
    const q = params.map((param) => param.trim()).find((param) => param.startsWith("q="));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    if (name) accepted.add(name.trim());
  }
  const choice: Encoding =
    accepted.has("br") || accepted.has("*") ? "br" : accepted.has("gzip") || accepted.has("x-gzip") ? "gzip" : "identity";
  // A handful of distinct headers covers nearly every client; the bound keeps hostile ones from growing it.
  if (negotiated.size < 256) negotiated.set(header, choice);
  return choice;
}

function _etagMatches(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  const wanted = opaque(etag);
  return ifNoneMatch.split(",").some((tag) => opaque(tag) === wanted);
}
