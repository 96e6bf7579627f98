import type { Fleet } from "../fleet/fleet.ts";
import type { Freshness, StoredCopy } from "./freshness.ts";
import { createCacheStore, type Sized, type StoreLimits } from "./store.ts";

/** A cached value: sized for the byte bound; a negative value (a 404) lives by the negative window. */
export interface CachedValue extends Sized {
  readonly negative: boolean;
  /** How long the value asks to stay fresh at least (GitHub's `x-poll-interval`), in milliseconds. */
  readonly minFreshMs?: number;
}

/** A value in the local tier with its timeline (see freshness.ts). */
export interface Slot<V extends CachedValue> extends StoredCopy<V>, Sized {
  readonly key: string;
  /** Earliest moment a background refresh may start again after one failed. */
  nextRefreshAt: number;
  /** Answers given from this slot (fresh or stale): how popular the page is, when the budget runs low. */
  answers: number;
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
  /** Set when the request went upstream (MISS, REVALIDATED, BYPASS). */
  forward?: Forward;
}

/** How a request that went upstream was answered (what RFC 9211's Cache-Status calls fwd, fwd-status, collapsed, stored). */
export interface Forward {
  /** A copy was held when the request went upstream: an expired one, or one a bypass passed over. */
  held: boolean;
  /** What upstream answered: 200 a value, 304 the held copy renewed, 404 a negative value; unset for another replica's copy. */
  status?: 200 | 304 | 404;
  /** The request waited for another's load (in this replica, or another replica's through the fleet) instead of its own. */
  collapsed: boolean;
  /** The copy answered was stored. */
  stored: boolean;
}

/** What a trace shows of how the cache answered: waits on another fetch, and stale answers. */
export type CacheEvent = "coalesced" | "lease-wait" | "stale" | "stale-after-error";

/**
 * How to resolve a key: `allow-stale` answers from a stale copy at once and refreshes it in the background;
 * `fresh` refreshes a stale copy before answering; `bypass` always asks upstream (requests bypassing together, in
 * this replica or across the fleet, share one upstream fetch begun after they arrived).
 */
export type ResolveMode = "allow-stale" | "fresh" | "bypass";

/** Settings of the local tier. */
export interface PolicyOptions<V extends CachedValue> {
  limits: StoreLimits;
  freshness: Freshness;
  /** Whether a held copy may answer in place of this upstream failure. */
  servesStaleAfter(error: unknown): boolean;
  onBackgroundError?(key: string, error: unknown): void;
  /** Hears each wait on another fetch and each stale answer, in the async context of the request concerned. */
  onEvent?(event: CacheEvent): void;
  /** The other replicas, consulted before upstream and told after it (REDIS_URL). */
  fleet?: Fleet<V>;
  now?: () => number;
}

/** Counters of the local tier, for /cache/stats and the metrics. */
export interface PolicyStats {
  hits: number;
  misses: number;
  staleServed: number;
  coalesced: number;
  revalidated: number;
  /** Hits answered from a copy another replica stored (also counted in `hits`). */
  sharedHits: number;
}

/** The local tier's policy: freshness, stale-while-revalidate, stale-if-error and coalescing, over a bounded store. */
export type CachePolicy<V extends CachedValue> = ReturnType<typeof createCachePolicy<V>>;

/**
 * Per-entry memory beyond the stored bodies (counted at their allocator size class) that the byte bound also
 * counts: the slot, the entry's objects, strings and buffer headers, its key, the hit path's record of it and
 * allocator pages kept by evictions. Measured on Bun 1.4 as the growth of resident memory per cached page beyond
 * its bodies: about 3.5 KB (`bun ops/scripts/bench.ts --only overhead`: 10,000 users at 8, 32 and 64 MiB bounds).
 */
export const slotOverheadBytes = 3584;

// What one load produced: the slot to answer with, whether a 304 renewed it, the copy to share (if stored), what
// upstream answered (unset: another replica loaded it) and whether this tier stored it.
interface Loaded<V extends CachedValue> {
  slot: Slot<V>;
  renewed: boolean;
  shared: Slot<V> | undefined;
  status?: Forward["status"];
  stored: boolean;
}

/** Creates the policy (nginx's proxy_cache_lock, _use_stale, _background_update and _revalidate, in one place). */
export function createCachePolicy<V extends CachedValue>(options: PolicyOptions<V>) {
  const { freshness } = options;
  const fleet = freshness.caching ? options.fleet : undefined;
  const now = options.now ?? Date.now;
  const store = createCacheStore<Slot<V>>(options.limits);
  const inflight = new Map<string, Promise<Loaded<V>>>();
  // Bypassing loads apart from the others: a bypass never takes a copy that was cached before it asked.
  const bypassing = new Map<string, Promise<Loaded<V>>>();
  const stats: PolicyStats = { hits: 0, misses: 0, staleServed: 0, coalesced: 0, revalidated: 0, sharedHits: 0 };
  // Bumped by every clear: a load that began before it answers its own request but stores nothing.
  let generation = 0;

  const keep = (key: string, copy: StoredCopy<V>): Slot<V> => {
    const slot = _slot(key, copy);
    store.set(key, slot);
    return slot;
  };

  const fetchUpstream = async (key: string, loader: Loader<V>, previous: Slot<V> | undefined): Promise<Loaded<V>> => {
    const begun = generation;
    const outcome = await loader(previous);
    if (outcome.kind === "not-modified" && !previous) throw new Error("the loader renewed a copy it was not given");
    const renewed = outcome.kind === "not-modified";
    const value = outcome.kind === "value" ? outcome.value : previous!.value;
    const at = now();
    const timeline = freshness.timeline(at, value.negative, value.minFreshMs);
    const slot = _slot(key, { value, ...(timeline ?? freshness.unstored(at)) });
    if (renewed) stats.revalidated++;
    const status = renewed ? 304 : value.negative ? 404 : 200;
    if (begun !== generation) return { slot, renewed, shared: undefined, status, stored: false };
    const stored = timeline !== undefined && store.set(key, slot);
    if (!timeline) store.delete(key);
    return { slot, renewed, shared: timeline ? slot : undefined, status, stored };
  };

  // Across the fleet one replica loads a key at a time; a copy another replica loaded is kept here too.
  const load = async (key: string, loader: Loader<V>, previous: Slot<V> | undefined, fresh = false): Promise<Loaded<V>> => {
    if (!fleet) return fetchUpstream(key, loader, previous);
    const begun = generation;
    const done = await fleet.load(key, previous, () => fetchUpstream(key, loader, store.peek(key) ?? previous), { fresh });
    if (done.kind === "fetched") return done.result;
    stats.coalesced++;
    const stored = begun === generation;
    return { slot: stored ? keep(key, done.copy) : _slot(key, done.copy), renewed: false, shared: undefined, stored };
  };

  // One load per key at a time (one for the requests that bypass the cache, one for the others): later callers
  // wait for the first one's result or error.
  const coalesce = (key: string, loader: Loader<V>, previous: Slot<V> | undefined, loads = inflight) => {
    const pending = loads.get(key);
    if (pending) {
      stats.coalesced++;
      options.onEvent?.("coalesced");
      return pending;
    }
    const started: Promise<Loaded<V>> = load(key, loader, previous, loads === bypassing).finally(() => {
      if (loads.get(key) === started) loads.delete(key);
    });
    loads.set(key, started);
    return started;
  };

  const refreshInBackground = (key: string, loader: Loader<V>, slot: Slot<V>) => {
    if (inflight.has(key) || now() < slot.nextRefreshAt || !freshness.refreshesInBackground(slot.answers)) return;
    coalesce(key, loader, slot).catch((error) => {
      slot.nextRefreshAt = freshness.nextRefreshAfterFailure(now());
      options.onBackgroundError?.(key, error);
    });
  };

  // A use_cache=false request: always asks upstream (a held copy's validators may still spare the body).
  const bypass = async (key: string, loader: Loader<V>): Promise<Resolution<V>> => {
    stats.misses++;
    const held = store.peek(key);
    const joined = bypassing.has(key);
    const loaded = await coalesce(key, loader, held, bypassing);
    return { slot: loaded.slot, verdict: "BYPASS", forward: _forward(held, loaded, joined) };
  };

  // Stale-if-error: a held copy answers in place of a failure that allows it.
  const standIn = (key: string, slot: Slot<V> | undefined, error: unknown): Resolution<V> => {
    const held = store.peek(key) ?? slot;
    if (!held || !freshness.standsInForError(held.value.negative) || !options.servesStaleAfter(error)) throw error;
    stats.staleServed++;
    options.onEvent?.("stale-after-error");
    return { slot: held, verdict: "STALE", error };
  };

  return {
    /** The fresh slot for `key`, marked as just used, or undefined; counts nothing (the hit path counts its own hit). */
    peekFresh(key: string, at: number): Slot<V> | undefined {
      const slot = store.get(key);
      return slot !== undefined && freshness.isFresh(slot, at) ? slot : undefined;
    },
    /** Counts a hit answered from `slot` outside `resolve`. */
    countHit(slot: Slot<V>): void {
      stats.hits++;
      slot.answers++;
    },
    /** Answers `key` from the cache or through `loader`, by `mode`. Throws the upstream error when no copy can stand in. */
    async resolve(key: string, loader: Loader<V>, mode: ResolveMode): Promise<Resolution<V>> {
      if (mode === "bypass") return bypass(key, loader);
      let slot = store.get(key);
      if (slot && freshness.isFresh(slot, now())) {
        stats.hits++;
        slot.answers++;
        return { slot, verdict: "HIT" };
      }
      if (fleet) {
        const copy = await fleet.lookup(key, slot);
        if (copy) {
          slot = keep(key, copy);
          if (freshness.isFresh(slot, now())) {
            stats.hits++;
            stats.sharedHits++;
            slot.answers++;
            return { slot, verdict: "HIT" };
          }
        }
        // A load of this replica may have ended while the shared tier was asked: its copy answers, or a second
        // load would start (and fetch again when no lease can be had: a full or unreachable Redis).
        const landed = store.get(key);
        if (landed && landed !== slot && freshness.isFresh(landed, now())) {
          stats.hits++;
          return { slot: landed, verdict: "HIT" };
        }
      }
      if (slot && mode === "allow-stale" && freshness.servesStale(slot, now())) {
        stats.staleServed++;
        slot.answers++;
        options.onEvent?.("stale");
        refreshInBackground(key, loader, slot);
        return { slot, verdict: "STALE" };
      }
      stats.misses++;
      const joined = inflight.has(key);
      try {
        const loaded = await coalesce(key, loader, slot);
        return { slot: loaded.slot, verdict: loaded.renewed ? "REVALIDATED" : "MISS", forward: _forward(slot, loaded, joined) };
      } catch (error) {
        return standIn(key, slot, error);
      }
    },
    /** Accounts for `added` bytes a held value now keeps (a compressed form made on demand). */
    grow(slot: Slot<V>, added: number): void {
      slot.value.bytes += added;
      slot.bytes += added;
      store.grow(slot.key, slot, added);
    },
    /** Empties the local tier; loads in flight answer their requests but store nothing (counters keep counting). */
    clear(): void {
      generation++;
      inflight.clear();
      bypassing.clear();
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
      return inflight.size + bypassing.size;
    },
    limits: options.limits,
  };
}

// A copy loaded without a status is another replica's: this request waited for that replica's load.
function _forward<V extends CachedValue>(held: Slot<V> | undefined, loaded: Loaded<V>, joined: boolean): Forward {
  return { held: held !== undefined, status: loaded.status, collapsed: joined || loaded.status === undefined, stored: loaded.stored };
}

function _slot<V extends CachedValue>(key: string, copy: StoredCopy<V>): Slot<V> {
  return {
    key,
    value: copy.value,
    storedAt: copy.storedAt,
    freshUntil: copy.freshUntil,
    staleUntil: copy.staleUntil,
    nextRefreshAt: 0,
    answers: 0,
    bytes: copy.value.bytes + slotOverheadBytes,
  };
}
