/**
 * Reading an HTTP/1.1 answer's head for the load generator: the status, X-Cache, where the body ends and
 * Connection: close, in one pass over the bytes, with no string made for an answer the service commonly sends.
 */

/** What the generator reads of an answer's head; one per connection, filled in place for each answer. */
export interface AnswerHead {
  status: number;
  /** The X-Cache verdict in upper case, or null when the answer has none. */
  cache: string | null;
  /** Content-Length, or -1 when the head has none. */
  length: number;
  chunked: boolean;
  close: boolean;
  /** Where the body starts: the index just past the head's blank line. */
  bodyStart: number;
}

/** A head to fill with `readHead`. */
export function emptyHead(): AnswerHead {
  return { status: 0, cache: null, length: -1, chunked: false, close: false, bodyStart: 0 };
}

/**
 * Reads the head at the start of `bytes` into `head` and returns true, or returns false when its blank line has
 * not arrived yet. A line is looked at only when its first letter can start one of the four names it needs.
 */
export function readHead(bytes: Uint8Array, head: AnswerHead): boolean {
  const size = bytes.length;
  let line = _lineEnd(bytes, 0) + 2;
  if (line > size) return false;
  head.status = (bytes[9]! - 48) * 100 + (bytes[10]! - 48) * 10 + (bytes[11]! - 48);
  head.cache = null;
  head.length = -1;
  head.chunked = false;
  head.close = false;
  for (;;) {
    const end = _lineEnd(bytes, line);
    if (end + 1 >= size) return false;
    if (end === line) {
      head.bodyStart = end + 2;
      return true;
    }
    const first = bytes[line]! | 0x20;
    if (first === 0x63 && _named(bytes, line, end, "content-length:")) head.length = _digits(bytes, line + 15, end);
    else if (first === 0x78 && _named(bytes, line, end, "x-cache:")) head.cache = _verdict(bytes, line + 8, end);
    else if (first === 0x74 && _named(bytes, line, end, "transfer-encoding:")) head.chunked = _contains(bytes, line + 18, end, "chunked");
    else if (first === 0x63 && _named(bytes, line, end, "connection:")) head.close = _contains(bytes, line + 11, end, "close");
    line = end + 2;
  }
}

/** Where a chunked body starting at `start` ends (past the last chunk and the trailers), or -1 when not all here. */
export function chunkedEnd(bytes: Uint8Array, start: number): number {
  let position = start;
  for (;;) {
    const end = _lineEnd(bytes, position);
    if (end + 1 >= bytes.length) return -1;
    let size = 0;
    let digits = 0;
    for (let index = position; index < end; index++, digits++) {
      const value = _hex(bytes[index]!);
      // A chunk extension (";name=value") ends the size.
      if (value < 0) break;
      size = size * 16 + value;
    }
    if (digits === 0) return -1;
    if (size === 0) {
      // Trailer lines, if any, end with an empty line.
      for (let trailer = end + 2; ; ) {
        const trailerEnd = _lineEnd(bytes, trailer);
        if (trailerEnd + 1 >= bytes.length) return -1;
        if (trailerEnd === trailer) return trailerEnd + 2;
        trailer = trailerEnd + 2;
      }
    }
    position = end + 2 + size + 2;
    if (position > bytes.length) return -1;
  }
}

// The verdicts the service sends, so a common answer's X-Cache costs a comparison, not a new string.
const _verdicts = ["HIT", "MISS", "STALE", "REVALIDATED", "BYPASS"];

// The index of the CR that ends the line starting at `start`, or the buffer's length when it has not come yet.
function _lineEnd(bytes: Uint8Array, start: number): number {
  let index = start;
  while (index < bytes.length && bytes[index] !== 13) index++;
  return index;
}

// Whether the line at `start` begins with `name` (lower case, colon included), ignoring the case of its letters.
function _named(bytes: Uint8Array, start: number, end: number, name: string): boolean {
  if (end - start < name.length) return false;
  for (let index = 0; index < name.length; index++) {
    const byte = bytes[start + index]!;
    const want = name.charCodeAt(index);
    if (byte !== want && (byte | 0x20) !== want) return false;
  }
  return true;
}

// The decimal number between `start` and `end`, spaces around it skipped.
function _digits(bytes: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let index = start; index < end; index++) {
    const byte = bytes[index]!;
    if (byte >= 48 && byte <= 57) value = value * 10 + (byte - 48);
  }
  return value;
}

// Whether `word` (lower case) appears between `start` and `end`, in any case.
function _contains(bytes: Uint8Array, start: number, end: number, word: string): boolean {
  for (let from = start; from + word.length <= end; from++) {
    let index = 0;
    while (index < word.length && (bytes[from + index]! | 0x20) === word.charCodeAt(index)) index++;
    if (index === word.length) return true;
  }
  return false;
}

// The header value between `start` and `end`, trimmed, in upper case: one of the service's verdicts when it is one.
function _verdict(bytes: Uint8Array, start: number, end: number): string {
  let from = start;
  let to = end;
  while (from < to && (bytes[from] === 32 || bytes[from] === 9)) from++;
  while (to > from && (bytes[to - 1] === 32 || bytes[to - 1] === 9)) to--;
  for (const verdict of _verdicts) {
    if (to - from !== verdict.length) continue;
    let index = 0;
    // Clearing bit 0x20 upper-cases a letter; the verdicts are letters only.
    while (index < verdict.length && (bytes[from + index]! & 0xdf) === verdict.charCodeAt(index)) index++;
    if (index === verdict.length) return verdict;
  }
  return String.fromCharCode(...bytes.subarray(from, to)).toUpperCase();
}

// The value of a hexadecimal digit, or -1.
function _hex(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}
