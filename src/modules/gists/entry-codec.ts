import type { StoredCopy } from "../../cache/tier.ts";
import type { EntryCodec } from "../../fleet/tier.ts";
import { allocatedBytes, notFoundEntry, type GistsEntry } from "./entry.ts";

/**
 * The shared tier's format of a gists entry: "GAPI", a version byte, the length of a JSON header (4 bytes,
 * big-endian), the header, then the hit body and its gzip form. The brotli form is made again where it is asked for.
 */
export const entryCodec: EntryCodec<GistsEntry> = {
  version: 1,
  encode(key, copy) {
    const entry = copy.value;
    const gzip = entry.hit.gzip;
    const header = encoder.encode(
      JSON.stringify({
        key,
        storedAt: copy.storedAt,
        freshUntil: copy.freshUntil,
        staleUntil: copy.staleUntil,
        negative: entry.negative,
        username: entry.username,
        headLength: entry.headLength,
        itemsEnd: entry.itemsEnd,
        etag: entry.etag,
        upstream: entry.upstream,
        hasNext: entry.hasNext,
        count: entry.count,
        identityBytes: entry.hit.identity.byteLength,
        gzipBytes: gzip?.byteLength ?? 0,
      } satisfies Header),
    );
    const out = new Uint8Array(magic.length + 5 + header.byteLength + entry.hit.identity.byteLength + (gzip?.byteLength ?? 0));
    out.set(magic, 0);
    const view = new DataView(out.buffer);
    view.setUint8(magic.length, this.version);
    view.setUint32(magic.length + 1, header.byteLength);
    let offset = magic.length + 5;
    out.set(header, offset);
    offset += header.byteLength;
    out.set(entry.hit.identity, offset);
    if (gzip) out.set(gzip, offset + entry.hit.identity.byteLength);
    return out;
  },
  decode(key, bytes) {
    const fixed = magic.length + 5;
    if (bytes.byteLength < fixed || magic.some((byte, i) => bytes[i] !== byte)) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint8(magic.length) !== this.version) return undefined;
    const headerBytes = view.getUint32(magic.length + 1);
    if (fixed + headerBytes > bytes.byteLength) return undefined;
    const header = _header(bytes.subarray(fixed, fixed + headerBytes));
    if (header === undefined || header.key !== key) return undefined;
    const bodyStart = fixed + headerBytes;
    if (bodyStart + header.identityBytes + header.gzipBytes !== bytes.byteLength) return undefined;
    if (header.headLength > header.identityBytes || header.itemsEnd > header.headLength) return undefined;
    // Copies, so the entry keeps only its own bytes, not the whole reply.
    const identity = bytes.slice(bodyStart, bodyStart + header.identityBytes);
    const gzip = header.gzipBytes > 0 ? bytes.slice(bodyStart + header.identityBytes) : undefined;
    const entry: GistsEntry = {
      negative: header.negative,
      username: header.username,
      headLength: header.headLength,
      itemsEnd: header.itemsEnd,
      hit: gzip ? { identity, gzip } : { identity },
      etag: header.etag,
      upstream: header.upstream,
      hasNext: header.hasNext,
      count: header.count,
      // Weighed as the entry module weighs what it builds, so a copy from another replica counts the same.
      bytes: header.negative ? notFoundEntry(header.username).bytes : allocatedBytes(identity) + allocatedBytes(gzip),
    };
    return { value: entry, storedAt: header.storedAt, freshUntil: header.freshUntil, staleUntil: header.staleUntil } satisfies StoredCopy<GistsEntry>;
  },
};

const magic = new TextEncoder().encode("GAPI");
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

interface Header {
  key: string;
  storedAt: number;
  freshUntil: number;
  staleUntil: number;
  negative: boolean;
  username: string;
  headLength: number;
  itemsEnd: number;
  etag: string;
  upstream: { etag?: string; lastModified?: string };
  hasNext: boolean;
  count: number;
  identityBytes: number;
  gzipBytes: number;
}

// Every field checked for its type: an entry written by anything else is refused, never half-read.
function _header(bytes: Uint8Array): Header | undefined {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const counts = ["storedAt", "freshUntil", "staleUntil", "headLength", "itemsEnd", "count", "identityBytes", "gzipBytes"];
  if (!counts.every((name) => Number.isSafeInteger(value[name]) && (value[name] as number) >= 0)) return undefined;
  if (typeof value.key !== "string" || typeof value.username !== "string" || typeof value.etag !== "string") return undefined;
  if (typeof value.negative !== "boolean" || typeof value.hasNext !== "boolean") return undefined;
  const upstream = value.upstream as Record<string, unknown> | null;
  if (typeof upstream !== "object" || upstream === null) return undefined;
  if (upstream.etag !== undefined && typeof upstream.etag !== "string") return undefined;
  if (upstream.lastModified !== undefined && typeof upstream.lastModified !== "string") return undefined;
  const header = value as unknown as Header;
  if (!(header.storedAt <= header.freshUntil && header.freshUntil <= header.staleUntil)) return undefined;
  return { ...header, upstream: { etag: upstream.etag as string | undefined, lastModified: upstream.lastModified as string | undefined } };
}
