import { createCacheStore, type Sized, type StoreLimits } from "./store.ts";

/** A cached value: sized for the byte bound; negative values (a 404) are never served stale. */
export interface CachedValue extends Sized {
  readonly negative: boolean;
}

/** A value in the cache with its timeline: fresh until `freshUntil`, servable stale until `staleUntil`. */
export interface Slot<V extends CachedValue> extends Sized {
  readonly key: string;
  readonly value: V;
  readonly storedAt: number;
  readonly freshUntil: number;
  readonly staleUntil: number;
  /** Earliest moment a background refresh may start again after one failed. */
  nextRefreshAt: number;
}

/** How an answer used the cache, as sent in `X-Cache`. */
export type Verdict = "HIT" | "MISS" | "STALE" | "REVALIDATED" | "BYPASS";

/** What a loader got from upstream: a new value, or "not modified" (renew the previous one). */
export type LoadOutcome<V> = { kind: "value"; value: V } | { kind: "not-modified" };

/** Fetches a value; `previous` (if any) may be revalidated instead of refetched. */
export type Loader<V extends CachedValue> = (previous: Slot<V> | undefined) => Promise<LoadOutcome<V>>;

/** A cached answer and how it was obtained; `error` is set when a stale copy stood in for a failure. */
export interface Resolution<V extends CachedValue> {
  slot: Slot<V>;
  verdict: Verdict;
  error?: unknown;
}

/**
 * How to resolve a key: `serve-stale` answers from a stale copy at once and refreshes in the background;
 * `revalidate` refreshes a stale copy before answering; `bypass` always asks upstream.
 */
export type ResolveMode = "serve-stale" | "revalidate" | "bypass";

/** Settings of the policy; every duration is derived from the value, so 404s can live shorter. */
export interface PolicyOptions<V extends CachedValue> {
  limits: StoreLimits;
  ttlMs(value: V): number;
  staleMs(value: V): number;
  /** Whether a stale copy may answer in place of this upstream failure. */
  servesStaleAfter(error: unknown): boolean;
  /** Pause before another background refresh after one failed. */
  refreshBackoffMs: number;
  onBackgroundError?(key: string, error: unknown): void;
  now?: () => number;
}

/** Counters of the policy, for /cache/stats and the metrics. */
export interface PolicyStats {
  hits: number;
  misses: number;
  staleServed: number;
  coalesced: number;
  revalidated: number;
}

/** The cache policy: TTL, stale windows, coalescing, stale-if-error, over a bounded store. */
export type CachePolicy<V extends CachedValue> = ReturnType<typeof createCachePolicy<V>>;

/**
 * Per-entry memory beyond the stored bodies (counted at their allocator size class) that the byte bound also
 * counts: the slot, the entry's objects, strings and buffer headers, its key, the fast path's record of it and
 * allocator pages kept by evictions. Measured on Bun 1.4 as the growth of resident memory per cached page beyond
 * its bodies: about 3.5 KB (`bun ops/scripts/bench.ts --only overhead`: 10,000 users at 8, 32 and 64 MiB bounds).
 */
export const slotOverheadBytes = 3584;

/** Creates the policy (nginx's proxy_cache_lock, _use_stale, _background_update and _revalidate, in one place). */
export function createCachePolicy<V extends CachedValue>(options: PolicyOptions<V>) {
  const now = options.now ?? Date.now;
  const store = createCacheStore<Slot<V>>(options.limits);
  const inflight = new Map<string, Promise<{ slot: Slot<V>; renewed: boolean }>>();
  const stats: PolicyStats = { hits: 0, misses: 0, staleServed: 0, coalesced: 0, revalidated: 0 };

  const slotOf = (key: string, value: V, storedAt: number): Slot<V> => {
    const freshUntil = storedAt + options.ttlMs(value);
    return {
      key,
      value,
      storedAt,
      freshUntil,
      staleUntil: freshUntil + options.staleMs(value),
      nextRefreshAt: 0,
      bytes: value.bytes + slotOverheadBytes,
    };
  };

  const load = async (key: string, loader: Loader<V>, previous: Slot<V> | undefined) => {
    const outcome = await loader(previous);
    if (outcome.kind === "not-modified") {
      if (!previous) throw new Error("upstream answered 'not modified' to an unconditional request");
      const renewed = slotOf(key, previous.value, now());
      store.set(key, renewed);
      stats.revalidated++;
      return { slot: renewed, renewed: true };
    }
    const slot = slotOf(key, outcome.value, now());
    if (slot.staleUntil > slot.storedAt) store.set(key, slot);
    else store.delete(key);
    return { slot, renewed: false };
  };

  // One upstream request per key at a time: later callers wait for the first one's result or error.
  const coalesce = (key: string, loader: Loader<V>, previous: Slot<V> | undefined) => {
    const pending = inflight.get(key);
    if (pending) {
      stats.coalesced++;
      return pending;
    }
    const started = load(key, loader, previous).finally(() => inflight.delete(key));
    inflight.set(key, started);
    return started;
  };

  const refreshInBackground = (key: string, loader: Loader<V>, slot: Slot<V>) => {
    if (inflight.has(key) || now() < slot.nextRefreshAt) return;
    coalesce(key, loader, slot).catch((error) => {
      slot.nextRefreshAt = now() + options.refreshBackoffMs;
      options.onBackgroundError?.(key, error);
    });
  };

  return {
    /** A fresh slot for `key`, marked as just used, without counting anything (the fast path counts its own hit). */
    peekFresh(key: string, at: number = now()): Slot<V> | undefined {
      const slot = store.get(key);
      return slot !== undefined && at < slot.freshUntil ? slot : undefined;
    },
    /** Counts a hit answered outside `resolve`. */
    countHit(): void {
      stats.hits++;
    },
    /** Answers `key` from the cache or through `loader`, by `mode`. Throws the upstream error when no copy can stand in. */
    async resolve(key: string, loader: Loader<V>, mode: ResolveMode): Promise<Resolution<V>> {
      const slot = mode === "bypass" ? store.peek(key) : store.get(key);
      if (slot && mode !== "bypass") {
        const at = now();
        if (at < slot.freshUntil) {
          stats.hits++;
          return { slot, verdict: "HIT" };
        }
        if (mode === "serve-stale" && at < slot.staleUntil) {
          stats.staleServed++;
          refreshInBackground(key, loader, slot);
          return { slot, verdict: "STALE" };
        }
      }
      stats.misses++;
      try {
        const loaded = mode === "bypass" ? await load(key, loader, slot) : await coalesce(key, loader, slot);
        const verdict: Verdict = mode === "bypass" ? "BYPASS" : loaded.renewed ? "REVALIDATED" : "MISS";
        return { slot: loaded.slot, verdict };
      } catch (error) {
        const held = store.peek(key) ?? slot;
        if (mode === "bypass" || !held || held.value.negative || !options.servesStaleAfter(error)) throw error;
        stats.staleServed++;
        return { slot: held, verdict: "STALE", error };
      }
    },
    /** Accounts for `added` bytes a held value now keeps (a compressed form made on demand). */
    grow(slot: Slot<V>, added: number): void {
      slot.value.bytes += added;
      slot.bytes += added;
      store.grow(slot.key, slot, added);
    },
    /** Empties the cache (counters keep counting). */
    clear(): void {
      store.clear();
    },
    stats,
    get size(): number {
      return store.size;
    },
    get bytes(): number {
      return store.bytes;
    },
    get evictions(): number {
      return store.evictions;
    },
    get inflight(): number {
      return inflight.size;
    },
    limits: options.limits,
  };
}
