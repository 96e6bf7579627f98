import { createCacheStore, type Sized, type StoreLimits } from "./store.ts";
import type { SharedTier, StoredCopy } from "./tier.ts";

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
  /** When the shared tier was last asked for a newer copy while this one was no longer fresh. */
  sharedCheckedAt: number;
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

/** What a trace shows of how the cache answered: waits on another fetch, and stale answers. */
export type CacheEvent = "coalesced" | "lease-wait" | "stale" | "stale-after-error";

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
  /** Hears each wait on another fetch and each stale answer, in the async context of the request concerned. */
  onEvent?(event: CacheEvent): void;
  /** A tier shared with other replicas, consulted before upstream and filled after it. */
  shared?: SharedTier<V>;
  now?: () => number;
}

/** Counters of the policy, for /cache/stats and the metrics. */
export interface PolicyStats {
  hits: number;
  misses: number;
  staleServed: number;
  coalesced: number;
  revalidated: number;
  /** Hits answered from a copy another replica stored (also counted in `hits`). */
  sharedHits: number;
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

// How long a local copy that is no longer fresh is answered without asking the shared tier again for a newer one.
const sharedRecheckMs = 1_000;

/** Creates the policy (nginx's proxy_cache_lock, _use_stale, _background_update and _revalidate, in one place). */
export function createCachePolicy<V extends CachedValue>(options: PolicyOptions<V>) {
  const now = options.now ?? Date.now;
  const store = createCacheStore<Slot<V>>(options.limits);
  const inflight = new Map<string, Promise<{ slot: Slot<V>; renewed: boolean }>>();
  const sharedReads = new Map<string, Promise<Slot<V> | undefined>>();
  const stats: PolicyStats = { hits: 0, misses: 0, staleServed: 0, coalesced: 0, revalidated: 0, sharedHits: 0 };
  const { shared } = options;

  const slotOf = (key: string, value: V, storedAt: number): Slot<V> => {
    const freshUntil = storedAt + options.ttlMs(value);
    return _slot(key, { value, storedAt, freshUntil, staleUntil: freshUntil + options.staleMs(value) });
  };

  // A copy from the shared tier keeps the timeline it was stored with: it is never fresh here for longer than there.
  const install = (key: string, copy: StoredCopy<V>): Slot<V> => {
    const slot = _slot(key, copy);
    store.set(key, slot);
    return slot;
  };

  // The shared tier's copy when it is newer than `held`, installed here; one read per key at a time.
  const readShared = (key: string, held: Slot<V> | undefined): Promise<Slot<V> | undefined> => {
    if (!shared) return Promise.resolve(undefined);
    const pending = sharedReads.get(key);
    if (pending) return pending;
    const reading = shared
      .get(key)
      .then((copy) => (copy && (!held || copy.storedAt > held.storedAt) ? install(key, copy) : undefined))
      .finally(() => sharedReads.delete(key));
    sharedReads.set(key, reading);
    return reading;
  };

  const fetchUpstream = async (key: string, loader: Loader<V>, previous: Slot<V> | undefined) => {
    const outcome = await loader(previous);
    let loaded: { slot: Slot<V>; renewed: boolean };
    if (outcome.kind === "not-modified") {
      if (!previous) throw new Error("upstream answered 'not modified' to an unconditional request");
      loaded = { slot: slotOf(key, previous.value, now()), renewed: true };
      store.set(key, loaded.slot);
      stats.revalidated++;
    } else {
      loaded = { slot: slotOf(key, outcome.value, now()), renewed: false };
      if (loaded.slot.staleUntil > loaded.slot.storedAt) store.set(key, loaded.slot);
      else store.delete(key);
    }
    if (shared && loaded.slot.staleUntil > loaded.slot.storedAt) await shared.put(key, loaded.slot);
    return loaded;
  };

  // Across the fleet, one replica loads a key at a time (the lease holder); the others wait for its copy and
  // load themselves only when it fails or goes quiet. Without a shared tier this is a plain upstream fetch.
  const load = async (key: string, loader: Loader<V>, previous: Slot<V> | undefined) => {
    if (!shared) return fetchUpstream(key, loader, previous);
    const lease = await shared.lease(key);
    if (lease.kind === "held") {
      options.onEvent?.("lease-wait");
      const copy = await shared.waitFor(key, previous?.storedAt ?? -1);
      if (copy) {
        stats.coalesced++;
        return { slot: install(key, copy), renewed: false };
      }
      return fetchUpstream(key, loader, store.peek(key) ?? previous);
    }
    if (lease.kind === "unavailable") return fetchUpstream(key, loader, previous);
    try {
      // Another replica may have stored the key between this replica's read and its lease.
      const copy = await shared.get(key);
      if (copy && copy.storedAt > (previous?.storedAt ?? -1) && now() < copy.freshUntil) {
        stats.coalesced++;
        return { slot: install(key, copy), renewed: false };
      }
      return await fetchUpstream(key, loader, previous);
    } finally {
      void shared.release(key, lease.token);
    }
  };

  // One upstream request per key at a time: later callers wait for the first one's result or error.
  const coalesce = (key: string, loader: Loader<V>, previous: Slot<V> | undefined) => {
    const pending = inflight.get(key);
    if (pending) {
      stats.coalesced++;
      options.onEvent?.("coalesced");
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
      let slot = mode === "bypass" ? store.peek(key) : store.get(key);
      if (mode !== "bypass") {
        if (slot && now() < slot.freshUntil) {
          stats.hits++;
          return { slot, verdict: "HIT" };
        }
        if (shared && !(slot && now() - slot.sharedCheckedAt < sharedRecheckMs)) {
          const newer = await readShared(key, slot);
          if (newer && now() < newer.freshUntil) {
            stats.hits++;
            stats.sharedHits++;
            return { slot: newer, verdict: "HIT" };
          }
          slot = newer ?? slot;
          if (slot) slot.sharedCheckedAt = now();
        }
      }
      if (slot && mode !== "bypass") {
        const at = now();
        if (mode === "serve-stale" && at < slot.staleUntil) {
          stats.staleServed++;
          options.onEvent?.("stale");
          refreshInBackground(key, loader, slot);
          return { slot, verdict: "STALE" };
        }
      }
      stats.misses++;
      try {
        const loaded = mode === "bypass" ? await fetchUpstream(key, loader, slot) : await coalesce(key, loader, slot);
        const verdict: Verdict = mode === "bypass" ? "BYPASS" : loaded.renewed ? "REVALIDATED" : "MISS";
        return { slot: loaded.slot, verdict };
      } catch (error) {
        const held = store.peek(key) ?? slot;
        if (mode === "bypass" || !held || held.value.negative || !options.servesStaleAfter(error)) throw error;
        stats.staleServed++;
        options.onEvent?.("stale-after-error");
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

function _slot<V extends CachedValue>(key: string, copy: StoredCopy<V>): Slot<V> {
  return {
    key,
    value: copy.value,
    storedAt: copy.storedAt,
    freshUntil: copy.freshUntil,
    staleUntil: copy.staleUntil,
    nextRefreshAt: 0,
    sharedCheckedAt: -Infinity,
    bytes: copy.value.bytes + slotOverheadBytes,
  };
}
