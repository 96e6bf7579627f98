import type { Freshness } from "../../cache/freshness.ts";
import type { Resolution, Slot, Verdict } from "../../cache/policy.ts";
import { errorResponse } from "../../http/errors.ts";
import { PreparedAnswer } from "../../http/way-out.ts";
import { cacheStatusOf } from "./cache-status.ts";
import { bodyFor, pickEncoding, type EncodedBody, type Encoding, type GistsEntry } from "./entry.ts";

/** What an answer depends on besides the cached entry. */
export interface AnswerContext {
  acceptEncoding: string | null;
  ifNoneMatch: string | null;
  now: number;
}

/** Settings shared by every gists answer. */
export interface AnswerSettings {
  freshness: Freshness;
  /** Whether a prepared Response may be cloned per hit (cheap on Bun; on Deno a clone tees a stream). */
  cloneTemplates: boolean;
  /** Told when a stored entry gained a compressed form, so the cache's byte count stays true. */
  grow(slot: Slot<GistsEntry>, added: number): void;
}

/**
 * The answer for each way a request used the cache: one method per verdict, and the 304 and the cached 404.
 * Each carries what depends on the entry and the resolution (`X-Cache`, `Cache-Status`, freshness); the way out
 * adds what every answer carries (request id, security headers, CORS).
 */
export interface GistsAnswers {
  /** A fresh copy: the hit body prepared when the entry was stored (on Bun, a per-second prepared answer the way out copies). */
  HIT(slot: Slot<GistsEntry>, context: AnswerContext): Response | PreparedAnswer;
  /** A stale copy standing in: its body says how old it is (kept on the entry for the current age). */
  STALE(resolution: Resolution<GistsEntry>, context: AnswerContext): Response;
  /** Fetched from GitHub for this request. */
  MISS(resolution: Resolution<GistsEntry>, context: AnswerContext): Response;
  /** Renewed by a 304 from GitHub for this request. */
  REVALIDATED(resolution: Resolution<GistsEntry>, context: AnswerContext): Response;
  /** Fetched because the client asked `use_cache=false`. */
  BYPASS(resolution: Resolution<GistsEntry>, context: AnswerContext): Response;
  /** The client's If-None-Match matches: no body. */
  notModified(resolution: Resolution<GistsEntry>, context: AnswerContext): Response;
  /** The user does not exist, as GitHub said and the cache remembers. */
  notFound(resolution: Resolution<GistsEntry>, context: AnswerContext & { requestId: string }): Response;
}

/** The answers, for one configuration. */
export function createGistsAnswers(settings: AnswerSettings): GistsAnswers {
  const { freshness } = settings;
  const ttlSeconds = freshness.ttlSeconds;
  const fetched = (resolution: Resolution<GistsEntry>, context: AnswerContext) => {
    const { slot } = resolution;
    const body = bodyFor(slot.value, { hit: false, ttlSeconds });
    const chosen = _encode(slot, body, negotiateEncoding(context.acceptEncoding), settings);
    const cacheStatus = cacheStatusOf(resolution, freshness, context.now);
    return new Response(chosen.bytes, {
      status: 200,
      headers: _headers(slot.value, resolution.verdict, cacheStatus, freshness.maxAgeSeconds(slot, context.now), 0, chosen.encoding),
    });
  };
  return {
    HIT(slot, context) {
      const encoding = negotiateEncoding(context.acceptEncoding);
      if (settings.cloneTemplates) return _prepared(slot, encoding, context, settings);
      const chosen = _encode(slot, slot.value.hit, encoding, settings);
      const cacheStatus = cacheStatusOf({ slot, verdict: "HIT" }, freshness, context.now);
      return new Response(chosen.bytes, {
        status: 200,
        headers: _headers(slot.value, "HIT", cacheStatus, freshness.maxAgeSeconds(slot, context.now), 0, chosen.encoding),
      });
    },
    STALE(resolution, context) {
      const { slot } = resolution;
      const age = freshness.ageSeconds(slot, context.now);
      const body = bodyFor(slot.value, { hit: true, ttlSeconds, staleAge: Math.max(1, age) });
      const chosen = _encode(slot, body, negotiateEncoding(context.acceptEncoding), settings);
      const cacheStatus = cacheStatusOf(resolution, freshness, context.now);
      return new Response(chosen.bytes, { status: 200, headers: _headers(slot.value, "STALE", cacheStatus, 0, age, chosen.encoding) });
    },
    MISS: fetched,
    REVALIDATED: fetched,
    BYPASS: fetched,
    notModified(resolution, context) {
      const { slot, verdict } = resolution;
      const maxAge = verdict === "STALE" ? 0 : freshness.maxAgeSeconds(slot, context.now);
      const cacheStatus = cacheStatusOf(resolution, freshness, context.now);
      return new Response(null, {
        status: 304,
        headers: _headers(slot.value, verdict, cacheStatus, maxAge, freshness.ageSeconds(slot, context.now), undefined),
      });
    },
    notFound(resolution, context) {
      const { slot } = resolution;
      return errorResponse(404, `User '${slot.value.username}' not found`, context.requestId, {
        "x-cache": resolution.verdict,
        "cache-status": cacheStatusOf(resolution, freshness, context.now),
        "cache-control": `public, max-age=${freshness.maxAgeSeconds(slot, context.now)}`,
      });
    },
  };
}

/** The answer to a resolved request: the cached 404, a 304 for a matching If-None-Match, or the verdict's answer. */
export function answerFor(
  answers: GistsAnswers,
  resolution: Resolution<GistsEntry>,
  context: AnswerContext & { requestId: string },
): Response | PreparedAnswer {
  const { slot, verdict } = resolution;
  if (slot.value.negative) return answers.notFound(resolution, context);
  if (context.ifNoneMatch !== null && _etagMatches(context.ifNoneMatch, slot.value.etag)) return answers.notModified(resolution, context);
  return verdict === "HIT" ? answers.HIT(slot, context) : answers[verdict](resolution, context);
}

// A hit's answer differs from the last one only in its request id (and, once a second, its max-age and ttl), so the
// entry keeps one prepared answer per second and encoding, which the way out copies for each hit: a copy shares
// the body and copies the headers, which costs less than building a Response from its parts.
function _prepared(slot: Slot<GistsEntry>, encoding: Encoding, context: AnswerContext, settings: AnswerSettings): PreparedAnswer {
  const entry = slot.value;
  const second = Math.floor(context.now / 1000);
  let prepared = entry.templates;
  if (prepared === undefined || prepared.second !== second) {
    prepared = { second, byEncoding: {} };
    entry.templates = prepared;
  }
  let answer = prepared.byEncoding[encoding];
  if (answer === undefined) {
    const chosen = _encode(slot, entry.hit, encoding, settings);
    const cacheStatus = cacheStatusOf({ slot, verdict: "HIT" }, settings.freshness, context.now);
    const headers = _headers(entry, "HIT", cacheStatus, settings.freshness.maxAgeSeconds(slot, context.now), 0, chosen.encoding);
    answer = new PreparedAnswer(new Response(chosen.bytes, { status: 200, headers }));
    prepared.byEncoding[encoding] = answer;
  }
  return answer;
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
  cacheStatus: string,
  maxAge: number,
  age: number,
  encoding: Encoding | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-cache": verdict,
    "cache-status": cacheStatus,
    etag: entry.etag,
    "cache-control": `public, max-age=${maxAge}`,
    vary: "Accept-Encoding",
  };
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
  const choice: Encoding = accepted.has("br") || accepted.has("*") ? "br" : accepted.has("gzip") || accepted.has("x-gzip") ? "gzip" : "identity";
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
