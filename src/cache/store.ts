/** Something the store can weigh: the bytes it keeps alive. */
export interface Sized {
  bytes: number;
}

/** Bounds of the store: entries and bytes; whichever is reached first evicts. */
export interface StoreLimits {
  maxEntries: number;
  maxBytes: number;
}

/** A least-recently-used map bounded by entry count and by bytes. */
export type CacheStore<V extends Sized> = ReturnType<typeof createCacheStore<V>>;

/**
 * Creates the store. A Map keeps insertion order, so re-inserting on use makes its first key the least
 * recently used: eviction is exact and O(1), and the byte total is exact at every moment.
 */
export function createCacheStore<V extends Sized>(limits: StoreLimits) {
  const entries = new Map<string, V>();
  let bytes = 0;
  let evictions = 0;

  const remove = (key: string, value: V) => {
    entries.delete(key);
    bytes -= value.bytes;
  };

  return {
    /** The value under `key`, marked as just used. */
    get(key: string): V | undefined {
      const value = entries.get(key);
      if (value !== undefined) {
        entries.delete(key);
        entries.set(key, value);
      }
      return value;
    },
    /** The value under `key`, without touching its recency. */
    peek(key: string): V | undefined {
      return entries.get(key);
    },
    /** Stores `value`, then evicts least recently used entries until both bounds hold. A value larger than the byte bound is not kept. */
    set(key: string, value: V): boolean {
      const previous = entries.get(key);
      if (previous !== undefined) remove(key, previous);
      if (value.bytes > limits.maxBytes) return false;
      entries.set(key, value);
      bytes += value.bytes;
      while (entries.size > limits.maxEntries || bytes > limits.maxBytes) {
        const oldest = entries.keys().next().value as string;
        remove(oldest, entries.get(oldest)!);
        evictions++;
      }
      return true;
    },
    /** Adds `added` bytes to the entry under `key` (it grew in place), then evicts other entries until the bound holds. */
    grow(key: string, value: V, added: number): void {
      if (entries.get(key) !== value) return;
      bytes += added;
      while (bytes > limits.maxBytes && entries.size > 1) {
        const oldest = entries.keys().next().value as string;
        if (oldest === key) break;
        remove(oldest, entries.get(oldest)!);
        evictions++;
      }
    },
    /** Forgets one key. */
    delete(key: string): boolean {
      const value = entries.get(key);
      if (value === undefined) return false;
      remove(key, value);
      return true;
    },
    /** Forgets everything. */
    clear(): void {
      entries.clear();
      bytes = 0;
    },
    get size(): number {
      return entries.size;
    },
    get bytes(): number {
      return bytes;
    },
    get evictions(): number {
      return evictions;
    },
    limits,
  };
}
