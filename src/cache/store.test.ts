import { describe, expect, test } from "bun:test";
import { createCacheStore } from "./store.ts";

const sized = (bytes: number) => ({ bytes });

describe("createCacheStore", () => {
  test("evicts the least recently used entry beyond maxEntries", () => {
    const store = createCacheStore<{ bytes: number }>({ maxEntries: 3, maxBytes: 1_000_000 });
    store.set("a", sized(1));
    store.set("b", sized(1));
    store.set("c", sized(1));
    store.get("a");
    store.set("d", sized(1));
    expect(store.peek("b")).toBeUndefined();
    expect([store.peek("a"), store.peek("c"), store.peek("d")].every(Boolean)).toBe(true);
    expect(store.size).toBe(3);
    expect(store.evictions).toBe(1);
  });

  test("keeps the byte total exact and within maxBytes", () => {
    const store = createCacheStore<{ bytes: number }>({ maxEntries: 100, maxBytes: 100 });
    for (let index = 0; index < 20; index++) {
      store.set(`k${index}`, sized(30));
      expect(store.bytes).toBeLessThanOrEqual(100);
    }
    expect(store.size).toBe(3);
    expect(store.bytes).toBe(90);
    store.set("k19", sized(10));
    expect(store.bytes).toBe(70);
    store.delete("k19");
    expect(store.bytes).toBe(60);
    store.clear();
    expect([store.size, store.bytes]).toEqual([0, 0]);
  });

  test("refuses a single value larger than the byte bound, dropping the old one", () => {
    const store = createCacheStore<{ bytes: number }>({ maxEntries: 10, maxBytes: 50 });
    store.set("a", sized(10));
    expect(store.set("a", sized(51))).toBe(false);
    expect(store.peek("a")).toBeUndefined();
    expect(store.bytes).toBe(0);
  });

  test("an entry that grows in place evicts others, never itself", () => {
    const store = createCacheStore<{ bytes: number }>({ maxEntries: 10, maxBytes: 100 });
    const grown = sized(40);
    store.set("old", sized(40));
    store.set("grown", grown);
    grown.bytes += 30;
    store.grow("grown", grown, 30);
    expect(store.peek("old")).toBeUndefined();
    expect([store.bytes, store.evictions]).toEqual([70, 1]);
    store.grow("missing", sized(1), 1000);
    expect(store.bytes).toBe(70);
  });

  test("peek does not refresh recency", () => {
    const store = createCacheStore<{ bytes: number }>({ maxEntries: 2, maxBytes: 1000 });
    store.set("a", sized(1));
    store.set("b", sized(1));
    store.peek("a");
    store.set("c", sized(1));
    expect(store.peek("a")).toBeUndefined();
  });
});
