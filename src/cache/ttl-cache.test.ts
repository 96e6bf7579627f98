import { describe, expect, test } from "bun:test";
import { createTtlCache } from "./ttl-cache.ts";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("createTtlCache", () => {
  test("serves a value until its TTL passes", () => {
    const time = clock();
    const cache = createTtlCache<string>({ maxEntries: 10, now: time.now });
    cache.set("a", "one", 1000);
    expect(cache.fresh("a")?.value).toBe("one");
    time.advance(999);
    expect(cache.fresh("a")?.value).toBe("one");
    time.advance(1);
    expect(cache.fresh("a")).toBeUndefined();
  });

  test("a TTL of zero is never fresh", () => {
    const cache = createTtlCache<string>({ maxEntries: 10 });
    cache.set("a", "one", 0);
    expect(cache.fresh("a")).toBeUndefined();
  });

  test("records when a value was stored", () => {
    const time = clock(5000);
    const cache = createTtlCache<string>({ maxEntries: 10, now: time.now });
    expect(cache.set("a", "one", 100)).toEqual({ value: "one", storedAt: 5000, freshUntil: 5100 });
  });

  test("drops the least recently used entry beyond its bound", () => {
    const cache = createTtlCache<number>({ maxEntries: 2 });
    for (let index = 0; index < 50; index++) cache.set(`k${index}`, index, 60_000);
    expect(cache.size).toBeLessThanOrEqual(4);
    expect(cache.fresh("k49")?.value).toBe(49);
    expect(cache.fresh("k0")).toBeUndefined();
    expect(cache.evictions).toBeGreaterThan(0);
  });

  test("clear and delete forget entries", () => {
    const cache = createTtlCache<number>({ maxEntries: 10 });
    cache.set("a", 1, 60_000);
    cache.set("b", 2, 60_000);
    expect(cache.delete("a")).toBe(true);
    expect(cache.fresh("a")).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
