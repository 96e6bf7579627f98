import { describe, expect, test } from "bun:test";
import { gunzipSync, brotliDecompressSync } from "node:zlib";
import { negotiateEncoding } from "./answer.ts";
import type { Gist } from "./model.ts";
import { allocatedBytes, bodyFor, completeEntry, notFoundEntry, pageEntry, pickEncoding } from "./entry.ts";

/** A file in the API's shape; `language` is null for a kind GitHub does not recognise. */
const file = (gistId: string, filename: string, language: string | null) => ({
  filename,
  type: language === null ? "text/plain" : "text/markdown",
  language,
  raw_url: `https://gist.githubusercontent.com/octo/${gistId}/raw/${gistId}0/${filename}`,
  size: 40 + filename.length,
});

const gist = (id: string): Gist => ({
  id,
  description: id === "b" ? null : `gist ${id}`,
  url: `https://gist.github.com/${id}`,
  created_at: "2020-01-01T00:00:00Z",
  files: { [`${id}.md`]: file(id, `${id}.md`, "Markdown"), "notes.txt": file(id, "notes.txt", null) },
});

const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

describe("gists entries", () => {
  test("a page entry holds the hit body and a head the other verdicts extend", () => {
    const entry = pageEntry(
      { gists: [gist("a"), gist("b")], links: { next: 2 }, etag: '"up"', lastModified: "Mon" },
      { username: "Octo", page: 1, perPage: 2 },
      300,
    );
    expect(decode(entry.hit.identity)).toEqual({
      data: [
        { id: "a", description: "gist a", url: "https://gist.github.com/a", created_at: "2020-01-01T00:00:00Z", files: gist("a").files },
        { id: "b", description: null, url: "https://gist.github.com/b", created_at: "2020-01-01T00:00:00Z", files: gist("b").files },
      ],
      pagination: { page: 1, per_page: 2, count: 2, has_next: true, has_prev: false },
      cache: { hit: true, ttl_seconds: 300 },
    });
    expect(decode(bodyFor(entry, { hit: false, ttlSeconds: 300 }).identity).cache).toEqual({ hit: false, ttl_seconds: 300 });
    expect(decode(bodyFor(entry, { hit: true, ttlSeconds: 300, staleAge: 42 }).identity).cache).toEqual({
      hit: true,
      ttl_seconds: 300,
      stale: true,
      age_seconds: 42,
    });
    expect(entry.upstream).toEqual({ etag: '"up"', lastModified: "Mon" });
    expect(entry.etag).toMatch(/^W\/"[\w-]+"$/);
    expect(entry.bytes).toBe(allocatedBytes(entry.hit.identity) + allocatedBytes(entry.hit.gzip) + allocatedBytes(entry.hit.br));
  });

  test("GitHub's x-poll-interval travels with the page as the floor of its fresh window", () => {
    const asked = pageEntry({ gists: [gist("a")], links: {}, pollIntervalSeconds: 60 }, { username: "o", page: 1, perPage: 1 }, 5);
    const plain = pageEntry({ gists: [gist("a")], links: {} }, { username: "o", page: 1, perPage: 1 }, 5);
    expect([asked.minFreshMs, plain.minFreshMs]).toEqual([60_000, undefined]);
  });

  test("a complete list joins the pages' items in order", () => {
    const first = pageEntry({ gists: [gist("a"), gist("b")], links: { next: 2 } }, { username: "o", page: 1, perPage: 100 }, 60);
    const empty = pageEntry({ gists: [], links: {} }, { username: "o", page: 3, perPage: 100 }, 60);
    const second = pageEntry({ gists: [gist("c")], links: {} }, { username: "o", page: 2, perPage: 100 }, 60);
    const all = decode(completeEntry("o", [first, second, empty], false, 60).hit.identity);
    expect(all.data.map((item: { id: string }) => item.id)).toEqual(["a", "b", "c"]);
    expect(all.pagination).toEqual({ page: 1, per_page: 100, count: 3, has_next: false, has_prev: false, pages: 3, truncated: false });
  });

  test("bodies over 1 KB are stored gzipped, and gain a brotli form when first asked", () => {
    const big = pageEntry({ gists: Array.from({ length: 40 }, (_, index) => gist(`g${index}`)), links: {} }, { username: "o", page: 1, perPage: 40 }, 60);
    expect(gunzipSync(big.hit.gzip!)).toEqual(Buffer.from(big.hit.identity));
    expect(big.hit.br).toBeUndefined();
    const first = pickEncoding(big.hit, "br");
    expect([first.encoding, first.added]).toEqual(["br", allocatedBytes(big.hit.br)]);
    expect(brotliDecompressSync(big.hit.br!)).toEqual(Buffer.from(big.hit.identity));
    expect(pickEncoding(big.hit, "br").added).toBe(0);
    expect(pickEncoding(big.hit, "gzip")).toEqual({ bytes: big.hit.gzip!, encoding: "gzip", added: 0 });
    const small = pageEntry({ gists: [gist("a")], links: {} }, { username: "o", page: 1, perPage: 1 }, 60);
    expect(small.hit.gzip).toBeUndefined();
    expect(pickEncoding(small.hit, "gzip").encoding).toBe("identity");
  });

  test("bodies count as the allocator's size classes hold them: a quarter of a power of two apart", () => {
    const sized = (length: number) => allocatedBytes(new Uint8Array(length));
    expect([0, 1, 8, 9, 64, 65].map(sized)).toEqual([8, 8, 8, 16, 64, 80]);
    // Sizes Bun's mimalloc reported for the cache's bodies: 20,000 B in 20 KiB blocks, 21,163 B in 24 KiB, 3,947 B in 4 KiB.
    expect([20_000, 21_163, 3_947, 16_384, 16_385].map(sized)).toEqual([20_480, 24_576, 4_096, 16_384, 20_480]);
    for (const length of [100, 1_000, 10_000, 100_000, 1_000_000]) {
      expect(sized(length)).toBeGreaterThanOrEqual(length);
      expect(sized(length)).toBeLessThanOrEqual(length * 1.25 + 8);
    }
    expect(allocatedBytes(undefined)).toBe(0);
  });

  test("a 404 entry is small and negative", () => {
    const entry = notFoundEntry("ghost");
    expect([entry.negative, entry.username, entry.count]).toEqual([true, "ghost", 0]);
  });
});

describe("negotiateEncoding", () => {
  test.each([
    [null, "identity"],
    ["", "identity"],
    ["gzip", "gzip"],
    ["gzip, deflate, br", "br"],
    ["br;q=0, gzip", "gzip"],
    ["gzip;q=0", "identity"],
    ["identity", "identity"],
    ["*", "br"],
    ["GZIP", "gzip"],
    ["deflate", "identity"],
  ])("%p → %s", (header, expected) => {
    expect(negotiateEncoding(header)).toBe(expected as "br" | "gzip" | "identity");
  });
});
