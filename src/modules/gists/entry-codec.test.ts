import { describe, expect, test } from "bun:test";
import { createEntryCodec } from "./entry-codec.ts";
import { notFoundEntry, pageEntry } from "./entry.ts";

const gists = Array.from({ length: 20 }, (_, i) => ({
  id: `g${i}`,
  description: `gist number ${i} with enough words to be worth compressing`,
  url: `https://gist.github.com/g${i}`,
  created_at: "2020-01-01T00:00:00Z",
  files: {
    [`f${i}.md`]: {
      filename: `f${i}.md`,
      type: "text/markdown",
      language: "Markdown",
      raw_url: `https://gist.githubusercontent.com/g${i}/raw/f${i}.md`,
      size: 40 + i,
    },
  },
}));
const page = pageEntry({ gists, links: { next: 2 }, etag: '"up"' }, { username: "Octo", page: 1, perPage: 20 }, 300);
const copy = { value: page, storedAt: 1_000, freshUntil: 301_000, staleUntil: 3_901_000 };
const entryCodec = createEntryCodec(300);

describe("the shared tier's entry format", () => {
  test("a page comes back exactly: bodies, validators, ETag, timeline", () => {
    const decoded = entryCodec.decode("octo:1:20", entryCodec.encode("octo:1:20", copy))!;
    expect(decoded).toBeDefined();
    expect([decoded.storedAt, decoded.freshUntil, decoded.staleUntil]).toEqual([1_000, 301_000, 3_901_000]);
    expect(decoded.value.hit.identity).toEqual(page.hit.identity);
    expect(decoded.value.hit.gzip).toEqual(page.hit.gzip!);
    const { hit: _hit, stale: _stale, ...rest } = page;
    const { hit: _decodedHit, ...decodedRest } = decoded.value;
    expect(decodedRest).toEqual(rest);
  });

  test("the reading replica's own TTL goes into the bodies it rebuilds, the page and its ETag stay the same", () => {
    const decoded = createEntryCodec(1.5).decode("octo:1:20", entryCodec.encode("octo:1:20", copy))!;
    const body = JSON.parse(new TextDecoder().decode(decoded.value.hit.identity));
    expect(body.cache).toEqual({ hit: true, ttl_seconds: 1.5 });
    expect(body.data).toEqual(JSON.parse(new TextDecoder().decode(page.hit.identity)).data);
    expect(decoded.value.etag).toBe(page.etag);
  });

  test("a head whose frame is not the service's is refused", () => {
    const bytes = entryCodec.encode("octo:1:20", copy);
    const tampered = bytes.slice();
    tampered[tampered.byteLength - 1] = 0x20;
    expect(entryCodec.decode("octo:1:20", tampered)).toBeUndefined();
  });

  test("a cached 404 comes back as one", () => {
    const negative = { value: notFoundEntry("Ghost"), storedAt: 5, freshUntil: 60_005, staleUntil: 60_005 };
    const decoded = entryCodec.decode("ghost:1:30", entryCodec.encode("ghost:1:30", negative))!;
    expect([decoded.value.negative, decoded.value.username, decoded.value.hit.identity.byteLength]).toEqual([true, "Ghost", 0]);
  });

  test("anything else is refused: garbage, another version, a truncated or padded entry, another key's entry", () => {
    const bytes = entryCodec.encode("octo:1:20", copy);
    const otherVersion = bytes.slice();
    otherVersion[4] = entryCodec.version + 1;
    const badHeader = bytes.slice();
    badHeader[10] = 0xff;
    const refused = [
      new TextEncoder().encode("not an entry"),
      new Uint8Array(0),
      otherVersion,
      bytes.subarray(0, bytes.byteLength - 1),
      new Uint8Array([...bytes, 0]),
      badHeader,
    ].map((candidate) => entryCodec.decode("octo:1:20", candidate));
    expect(refused).toEqual(refused.map(() => undefined));
    expect(entryCodec.decode("other:1:20", bytes)).toBeUndefined();
  });

  test("a header with a field of the wrong type is refused", () => {
    const header = JSON.stringify({ key: "k", storedAt: "soon", freshUntil: 1, staleUntil: 2 });
    const encoded = new TextEncoder().encode(header);
    const bytes = new Uint8Array(9 + encoded.byteLength);
    bytes.set(new TextEncoder().encode("GAPI"), 0);
    bytes[4] = entryCodec.version;
    new DataView(bytes.buffer).setUint32(5, encoded.byteLength);
    bytes.set(encoded, 9);
    expect(entryCodec.decode("k", bytes)).toBeUndefined();
  });
});
