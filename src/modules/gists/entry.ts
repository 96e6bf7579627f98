import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { brotliCompressSync, constants as zlib } from "node:zlib";
import type { CachedValue } from "../../cache/policy.ts";
import type { GistsPage, Validators } from "../../github/client.ts";
import type { PreparedAnswer } from "../../http/way-out.ts";
import { gzip } from "../../runtime.ts";

/** Content codings the service can send. */
export type Encoding = "br" | "gzip" | "identity";

/** A body and its compressed forms (only for bodies big enough to be worth compressing). */
export interface EncodedBody {
  identity: Uint8Array<ArrayBuffer>;
  gzip?: Uint8Array<ArrayBuffer>;
  br?: Uint8Array<ArrayBuffer>;
}

/** A cached answer for one page (or a complete list, or a 404), encoded once when it is stored. */
export interface GistsEntry extends CachedValue {
  /** The login as the client asked for it, for the 404 message. */
  username: string;
  /**
   * How many leading bytes of the hit body are `{"data":[...],"pagination":{...}` without its closing brace
   * (the head): the `cache` part is appended to it per verdict. Lengths, not views, keep each entry small.
   */
  headLength: number;
  /** Where the data array's items end inside the head (they start after `{"data":[`), so pages can be joined. */
  itemsEnd: number;
  /** The body of a hit, with compressed forms made when stored. */
  hit: EncodedBody;
  /** A weak ETag of the data and pagination. */
  etag: string;
  /** GitHub's validators, for conditional revalidation. */
  upstream: Validators;
  hasNext: boolean;
  count: number;
  bytes: number;
  /** How long GitHub asked not to be asked again for this page (`x-poll-interval`), in milliseconds. */
  minFreshMs?: number;
  /** The latest stale body (its age changes every second), kept so an outage costs one encoding per second; not counted in `bytes`. */
  stale?: { age: number; body: EncodedBody };
  /** This second's prepared hit answers, by encoding, copied for each hit (they share the hit body's bytes). */
  templates?: { second: number; byEncoding: Partial<Record<Encoding, PreparedAnswer>> };
}

/** Bodies under this many bytes are sent uncompressed. */
export const compressionThreshold = 1024;

const encoder = new TextEncoder();
const dataPrefix = '{"data":[';

/** The entry for one page of gists fetched from GitHub (already in the API's shape, checked against its schema). */
export function pageEntry(page: GistsPage, request: { username: string; page: number; perPage: number }, ttlSeconds: number): GistsEntry {
  const data = page.gists;
  const itemsJson = JSON.stringify(data).slice(1, -1);
  const pagination = {
    page: request.page,
    per_page: request.perPage,
    count: data.length,
    has_next: page.links.next !== undefined,
    has_prev: page.links.prev !== undefined,
  };
  const entry = _entry(request.username, itemsJson, pagination, data.length, ttlSeconds, {
    upstream: { etag: page.etag, lastModified: page.lastModified },
    hasNext: pagination.has_next,
  });
  // GitHub's x-poll-interval: how long it asks clients to wait before asking again, a floor on the fresh window.
  if (page.pollIntervalSeconds !== undefined) entry.minFreshMs = page.pollIntervalSeconds * 1000;
  return entry;
}

/** The entry for a complete list: the items of every page joined, in order. */
export function completeEntry(username: string, pages: GistsEntry[], truncated: boolean, ttlSeconds: number): GistsEntry {
  const decoder = new TextDecoder();
  const parts = pages.map((page) => decoder.decode(page.hit.identity.subarray(dataPrefix.length, page.itemsEnd))).filter(Boolean);
  const count = pages.reduce((sum, page) => sum + page.count, 0);
  const pagination = { page: 1, per_page: 100, count, has_next: false, has_prev: false, pages: pages.length, truncated };
  return _entry(username, parts.join(","), pagination, count, ttlSeconds, { upstream: {}, hasNext: false });
}

/** The entry remembering that a user does not exist. */
export function notFoundEntry(username: string): GistsEntry {
  const empty = new Uint8Array(0);
  return {
    negative: true,
    username,
    headLength: 0,
    itemsEnd: 0,
    hit: { identity: empty },
    etag: "",
    upstream: {},
    hasNext: false,
    count: 0,
    bytes: 64 + username.length * 2,
  };
}

/** The body for a verdict: a hit's bytes as stored, or the head with a `cache` part for misses and stale answers. */
export function bodyFor(entry: GistsEntry, cache: { hit: boolean; ttlSeconds: number; staleAge?: number }): EncodedBody {
  if (cache.hit && cache.staleAge === undefined) return entry.hit;
  if (cache.staleAge !== undefined) {
    if (entry.stale?.age !== cache.staleAge) {
      entry.stale = { age: cache.staleAge, body: encodeBody(_withCache(headOf(entry), cache)) };
    }
    return entry.stale.body;
  }
  return { identity: _withCache(headOf(entry), cache) };
}

/** Gzips a body once, when it is big enough to be worth it. Brotli is added on the first hit that asks for it. */
export function encodeBody(identity: Uint8Array<ArrayBuffer>): EncodedBody {
  if (identity.byteLength < compressionThreshold) return { identity };
  return { identity, gzip: gzip(identity) };
}

/** Whether this runtime can brotli-compress. */
export const brotliAvailable = typeof brotliCompressSync === "function";

/**
 * The form of a stored body to send for a client's Accept-Encoding choice. A missing brotli form is made
 * now and kept on the body; `added` says how many bytes that stored, for the cache's byte bound.
 */
export function pickEncoding(body: EncodedBody, wanted: Encoding): { bytes: Uint8Array<ArrayBuffer>; encoding: Encoding; added: number } {
  if (wanted === "identity" || body.identity.byteLength < compressionThreshold) {
    return { bytes: body.identity, encoding: "identity", added: 0 };
  }
  if (wanted === "br" && brotliAvailable) {
    if (body.br) return { bytes: body.br, encoding: "br", added: 0 };
    body.br = _brotli(body.identity);
    return { bytes: body.br, encoding: "br", added: allocatedBytes(body.br) };
  }
  if (body.gzip) return { bytes: body.gzip, encoding: "gzip", added: 0 };
  body.gzip = gzip(body.identity);
  return { bytes: body.gzip, encoding: "gzip", added: allocatedBytes(body.gzip) };
}

/**
 * The memory a body takes, as the byte bound counts it: its length rounded up to the allocator's size class.
 * mimalloc (Bun's allocator) spaces classes a quarter of a power of two apart, so a 21 KB body takes 24 KiB.
 */
export function allocatedBytes(body: Uint8Array | undefined): number {
  if (body === undefined) return 0;
  const words = Math.max(1, Math.ceil(body.byteLength / 8));
  if (words <= 8) return words * 8;
  const step = 2 ** (Math.floor(Math.log2(words - 1)) - 2);
  return Math.ceil(words / step) * step * 8;
}

// Quality 5 with a 64 KiB window: close to the best ratio for JSON of this size, at a fraction of the memory.
function _brotli(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return brotliCompressSync(bytes, {
    params: {
      [zlib.BROTLI_PARAM_QUALITY]: 5,
      [zlib.BROTLI_PARAM_LGWIN]: 16,
      [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength,
    },
  }) as Uint8Array<ArrayBuffer>;
}

function _entry(
  username: string,
  itemsJson: string,
  pagination: Record<string, unknown>,
  count: number,
  ttlSeconds: number,
  extra: { upstream: Validators; hasNext: boolean },
): GistsEntry {
  const head = encoder.encode(`${dataPrefix}${itemsJson}],"pagination":${JSON.stringify(pagination)}`);
  const itemsEnd = dataPrefix.length + Buffer.byteLength(itemsJson, "utf8");
  return entryFromHead({ username, head, itemsEnd, count, ...extra }, ttlSeconds);
}

/** What an entry is made of besides its bodies: the head (`{"data":[...],"pagination":{...}`) and what it says. */
export interface EntryParts {
  username: string;
  head: Uint8Array;
  itemsEnd: number;
  count: number;
  upstream: Validators;
  hasNext: boolean;
}

/**
 * A page's entry from its head: the hit body (the head and this replica's `cache` part), its gzip form, its
 * ETag and its weight. Entries read from the shared tier are rebuilt here too, so every body this replica
 * sends says its own TTL.
 */
export function entryFromHead(parts: EntryParts, ttlSeconds: number): GistsEntry {
  // Encoded once: the hit body is the only copy, and the head is its first bytes.
  const hit = encodeBody(_concat(parts.head, encoder.encode(_cacheSuffix({ hit: true, ttlSeconds }))));
  const headLength = parts.head.byteLength;
  const etag = `W/"${createHash("sha1").update(hit.identity.subarray(0, headLength)).digest("base64url")}"`;
  const bytes = allocatedBytes(hit.identity) + allocatedBytes(hit.gzip) + allocatedBytes(hit.br);
  return {
    negative: false,
    username: parts.username,
    headLength,
    itemsEnd: parts.itemsEnd,
    hit,
    etag,
    upstream: parts.upstream,
    hasNext: parts.hasNext,
    count: parts.count,
    bytes,
  };
}

/** The head of an entry's body: its data and pagination, without the closing brace. */
export function headOf(entry: GistsEntry): Uint8Array<ArrayBuffer> {
  return entry.hit.identity.subarray(0, entry.headLength);
}

function _cacheSuffix(cache: { hit: boolean; ttlSeconds: number; staleAge?: number }): string {
  const stale = cache.staleAge === undefined ? "" : `,"stale":true,"age_seconds":${cache.staleAge}`;
  return `,"cache":{"hit":${cache.hit},"ttl_seconds":${cache.ttlSeconds}${stale}}}`;
}

function _withCache(head: Uint8Array, cache: { hit: boolean; ttlSeconds: number; staleAge?: number }): Uint8Array<ArrayBuffer> {
  return _concat(head, encoder.encode(_cacheSuffix(cache)));
}

function _concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
