import QuickLRU from "quick-lru";

/** A value held by the cache with the moment it stops being fresh. */
export interface CacheSlot<V> {
  value: V;
  storedAt: number;
  freshUntil: number;
}

/** Settings of a TTL cache; `now` is injectable so tests control time. */
export interface TtlCacheOptions {
  maxEntries: number;
  now?: () => number;
}

/** A bounded LRU map whose values carry their own freshness deadline. */
export type TtlCache<V> = ReturnType<typeof createTtlCache<V>>;

/** Creates a TTL cache on quick-lru: least recently used entries go first once `maxEntries` is reached. */
export function createTtlCache<V>(options: TtlCacheOptions) {
  const now = options.now ?? Date.now;
  let evictions = 0;
  const slots = new QuickLRU<string, CacheSlot<V>>({
    maxSize: options.maxEntries,
    onEviction: () => {
      evictions++;
    },
  });

  return {
    /** The value stored under `key` if it is still fresh. */
    fresh(key: string): CacheSlot<V> | undefined {
      const slot = slots.get(key);
      return slot && now() < slot.freshUntil ? slot : undefined;
    },
    /** Stores `value` as fresh for `ttlMs` milliseconds from now. */
    set(key: string, value: V, ttlMs: number): CacheSlot<V> {
      const storedAt = now();
      const slot = { value, storedAt, freshUntil: storedAt + ttlMs };
      slots.set(key, slot);
      return slot;
    },
    /** Forgets one key. */
    delete(key: string): boolean {
      return slots.delete(key);
    },
    /** Forgets everything. */
    clear(): void {
      slots.clear();
    },
    /** How many entries are held, fresh or not. */
    get size(): number {
      return slots.size;
    },
    /** How many entries were pushed out to respect the bound. */
    get evictions(): number {
      return evictions;
    },
  };
}
