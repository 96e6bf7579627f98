import type { StoredCopy } from "../../cache/freshness.ts";
import type { EntryCodec } from "../../fleet/redis-store.ts";
import { entryFromHead, headOf, notFoundEntry, type GistsEntry } from "./entry.ts";

/**
 * The shared tier's format of a gists entry: "GAPI", a version byte, the length of a JSON header (4 bytes,
 * big-endian), the header, then the entry's head (its data and pagination). The bodies, ETag and weight are
 * made again by the replica that reads it, with that replica's TTL in the `cache` part: nothing a replica
 * sends is decided by another's settings. The timeline is read as written; freshness.ts decides what it is worth.
 */
export function createEntryCodec(ttlSeconds: number): EntryCodec<GistsEntry> {
  return {
    version: 2,
    encode(key, copy) {
      const entry = copy.value;
      const head = entry.negative ? new Uint8Array(0) : headOf(entry);
      const header = encoder.encode(
        JSON.stringify({
          key,
          storedAt: copy.storedAt,
          freshUntil: copy.freshUntil,
          staleUntil: copy.staleUntil,
          negative: entry.negative,
          username: entry.username,
          itemsEnd: entry.itemsEnd,
          upstream: entry.upstream,
          hasNext: entry.hasNext,
          count: entry.count,
          headBytes: head.byteLength,
        } satisfies Header),
      );
      const out = new Uint8Array(magic.length + 5 + header.byteLength + head.byteLength);
      out.set(magic, 0);
      const view = new DataView(out.buffer);
      view.setUint8(magic.length, this.version);
      view.setUint32(magic.length + 1, header.byteLength);
      out.set(header, magic.length + 5);
      out.set(head, magic.length + 5 + header.byteLength);
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
      const headStart = fixed + headerBytes;
      if (headStart + header.headBytes !== bytes.byteLength || header.itemsEnd > header.headBytes) return undefined;
      const timeline = { storedAt: header.storedAt, freshUntil: header.freshUntil, staleUntil: header.staleUntil };
      if (header.negative) return { value: notFoundEntry(header.username), ...timeline } satisfies StoredCopy<GistsEntry>;
      const head = bytes.subarray(headStart);
      if (!_isHead(head, header.itemsEnd)) return undefined;
      const { username, itemsEnd, count, upstream, hasNext } = header;
      return { value: entryFromHead({ username, head, itemsEnd, count, upstream, hasNext }, ttlSeconds), ...timeline } satisfies StoredCopy<GistsEntry>;
    },
  };
}

const magic = new TextEncoder().encode("GAPI");
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const dataPrefix = encoder.encode('{"data":[');
const paginationMark = encoder.encode('],"pagination":{');

interface Header {
  key: string;
  storedAt: number;
  freshUntil: number;
  staleUntil: number;
  negative: boolean;
  username: string;
  itemsEnd: number;
  upstream: { etag?: string; lastModified?: string };
  hasNext: boolean;
  count: number;
  headBytes: number;
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
  const counts = ["storedAt", "freshUntil", "staleUntil", "itemsEnd", "count", "headBytes"];
  if (!counts.every((name) => Number.isSafeInteger(value[name]) && (value[name] as number) >= 0)) return undefined;
  if (typeof value.key !== "string" || typeof value.username !== "string") return undefined;
  if (typeof value.negative !== "boolean" || typeof value.hasNext !== "boolean") return undefined;
  const upstream = value.upstream as Record<string, unknown> | null;
  if (typeof upstream !== "object" || upstream === null) return undefined;
  if (upstream.etag !== undefined && typeof upstream.etag !== "string") return undefined;
  if (upstream.lastModified !== undefined && typeof upstream.lastModified !== "string") return undefined;
  const header = value as unknown as Header;
  return { ...header, upstream: { etag: upstream.etag as string | undefined, lastModified: upstream.lastModified as string | undefined } };
}

// The head's frame as this service writes it: the data array's start, its end at itemsEnd, and the pagination
// after it; valid UTF-8 throughout. What is inside was checked when the writing replica shaped it.
function _isHead(head: Uint8Array, itemsEnd: number): boolean {
  if (itemsEnd < dataPrefix.length || head[head.byteLength - 1] !== 0x7d) return false;
  if (dataPrefix.some((byte, i) => head[i] !== byte) || paginationMark.some((byte, i) => head[itemsEnd + i] !== byte)) return false;
  try {
    decoder.decode(head);
    return true;
  } catch {
    return false;
  }
}
