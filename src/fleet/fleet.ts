import type { Freshness, StoredCopy, Timeline } from "../cache/freshness.ts";
import type { SharedStore } from "./shared-store.ts";

/** What the fleet needs to know of a cached value: whether it is a 404 (which lives by the negative window). */
export interface FleetValue {
  readonly negative: boolean;
}

/** What a fetch by this replica produced: the copy to share with the others, when it is worth storing. */
export interface Fetched<V> {
  readonly shared: StoredCopy<V> | undefined;
}

/** How a load across the fleet ended: another replica's copy, or this replica's own fetch. */
export type FleetLoad<V, R> = { kind: "copy"; copy: StoredCopy<V> } | { kind: "fetched"; result: R };

/** How waits for another replica's load ended, as the `outcome` label counts them. */
export const leaseOutcomes = ["filled", "failed", "timeout"] as const;
export type LeaseOutcome = (typeof leaseOutcomes)[number];

/** Counters of the fleet, for /cache/stats and the metrics. */
export interface FleetCounters {
  /** Reads of the shared tier that found a usable copy. */
  hits: number;
  /** Reads of the shared tier that found nothing usable. */
  misses: number;
  leaseWaits: Record<LeaseOutcome, number>;
}

/**
 * The seam between one replica's cache and the fleet's: the cache policy asks it for a newer copy, has it
 * load a key once for the whole fleet, and hears when the fleet's cache is cleared. Every method settles
 * within its own deadline and never throws; without the shared store it answers as if it were not there.
 */
export interface Fleet<V extends FleetValue> {
  /**
   * The shared copy of `key` when it is newer than `held`; undefined when there is none. While `held` is
   * kept, the shared tier is asked about the key at most once a second.
   */
  lookup(key: string, held: Timeline | undefined): Promise<StoredCopy<V> | undefined>;
  /**
   * Loads `key` once for the whole fleet. The replica that gets the lease re-reads the shared tier (another
   * may have stored it meanwhile), else runs `fetch` and shares its copy before giving the lease back; the
   * others wait for that copy, and fetch themselves when the holder fails or goes quiet. Without the shared
   * store, `fetch` runs at once. A copy fetched across a clear is never shared. With `fresh`, only a copy
   * fetched after the load began will do: no copy the shared tier held before (a request that bypasses the cache).
   */
  load<R extends Fetched<V>>(key: string, held: Timeline | undefined, fetch: () => Promise<R>, options?: { fresh?: boolean }): Promise<FleetLoad<V, R>>;
  /** Starts a new epoch: every replica empties its own tier (this one's caller already has). False if the store could not be asked. */
  clear(): Promise<boolean>;
  /** Calls `listener` whenever the fleet's cache was cleared elsewhere, or may have been while this replica could not hear of it. */
  onClear(listener: () => void): void;
  /** Looks at the store's epoch (the liveness probe); run about once a second. Resolves to whether the store answered. */
  heartbeat(): Promise<boolean>;
  readonly counters: FleetCounters;
}

/** Settings of the fleet. */
export interface FleetOptions<V> {
  store: SharedStore<V>;
  freshness: Freshness;
  /** How long a lease lasts, and so the longest a replica waits on another's load. */
  leaseMs: number;
  now?: () => number;
  /** Hears each wait on another replica's load as it starts (a trace event). */
  onLeaseWaitStarted?: () => void;
  /** Hears how each wait ended (a metric). */
  onLeaseWait?: (outcome: LeaseOutcome) => void;
}

// How often a waiting replica looks again when no "filled" message has come (messages are best effort).
const pollMs = 100;
// How long a held copy that is no longer fresh is answered without asking the shared tier again.
const lookupIntervalMs = 1_000;
// Keys whose last lookup is remembered; past this the record starts over (it only spares Redis reads).
const maxRememberedLookups = 10_000;

/** Creates the fleet over a shared store. */
export function createFleet<V extends FleetValue>(options: FleetOptions<V>): Fleet<V> {
  const { store, freshness, leaseMs } = options;
  const now = options.now ?? Date.now;
  const counters: FleetCounters = { hits: 0, misses: 0, leaseWaits: { filled: 0, failed: 0, timeout: 0 } };
  const clearListeners: Array<() => void> = [];
  const lookedAt = new Map<string, number>();
  // The epoch this replica last saw; undefined until the store first answers.
  let epoch: string | undefined;

  const adopt = (seen: string) => {
    if (seen === epoch) return;
    epoch = seen;
    lookedAt.clear();
    for (const listener of clearListeners) listener();
  };
  store.onEpoch(adopt);

  // The copy of `key` as this replica may use it (bounded by its own windows); null when there is none.
  const read = async (at: string, key: string): Promise<StoredCopy<V> | null | undefined> => {
    const copy = await store.get(at, key);
    if (copy === undefined) return undefined;
    const timeline = copy && freshness.bounded(copy, copy.value.negative, now());
    return timeline && freshness.servesStale(timeline, now()) ? { ...timeline, value: copy.value } : null;
  };

  // A read that answers a request (not one of a wait's polls), counted as a hit or a miss of the shared tier.
  const readCounted = async (at: string, key: string) => {
    const copy = await read(at, key);
    if (copy) counters.hits++;
    else if (copy === null) counters.misses++;
    return copy;
  };

  const put = async (at: string, key: string, copy: StoredCopy<V>) => {
    const ttlMs = freshness.expiryMs(copy, now());
    if (ttlMs > 0) await store.put(at, key, copy, ttlMs);
  };

  const settle = (outcome: LeaseOutcome, copy?: StoredCopy<V>) => {
    counters.leaseWaits[outcome]++;
    options.onLeaseWait?.(outcome);
    return copy;
  };

  // Waits while another replica loads `key`: its copy stored after `newerThan`, or undefined if it fails or goes quiet.
  const waitForCopy = async (at: string, key: string, newerThan: number) => {
    options.onLeaseWaitStarted?.();
    const deadline = now() + leaseMs;
    while (now() < deadline) {
      await store.nextFill(key, Math.min(pollMs, Math.max(1, deadline - now())));
      const copy = await read(at, key);
      if (copy === undefined) return settle("failed");
      if (copy !== null && copy.storedAt > newerThan) return settle("filled", copy);
      const held = await store.leaseHeld(at, key);
      if (held !== true) {
        // The holder stores before it lets go: a lease gone since the read above may have left its copy.
        const after = held === false ? await read(at, key) : undefined;
        return after && after.storedAt > newerThan ? settle("filled", after) : settle("failed");
      }
    }
    return settle("timeout");
  };

  // Fetches, then shares the copy under the epoch the load began in: across a clear it lands where no one reads.
  const fetchAndShare = async <R extends Fetched<V>>(at: string | undefined, key: string, fetch: () => Promise<R>): Promise<FleetLoad<V, R>> => {
    const result = await fetch();
    if (at !== undefined && result.shared) await put(at, key, result.shared);
    return { kind: "fetched", result };
  };

  return {
    counters,
    async lookup(key, held) {
      const at = epoch;
      if (at === undefined) return undefined;
      if (held) {
        const last = lookedAt.get(key);
        if (last !== undefined && now() - last < lookupIntervalMs) return undefined;
        if (lookedAt.size >= maxRememberedLookups) lookedAt.clear();
        lookedAt.set(key, now());
      }
      const copy = await readCounted(at, key);
      return copy && (!held || copy.storedAt > held.storedAt) && at === epoch ? copy : undefined;
    },
    async load(key, held, fetch, options = {}) {
      const at = epoch;
      if (at === undefined) return fetchAndShare(undefined, key, fetch);
      const newerThan = options.fresh ? Math.max(now(), held?.storedAt ?? -1) : (held?.storedAt ?? -1);
      const lease = await store.lease(at, key, leaseMs);
      if (lease.kind === "unavailable") return fetchAndShare(at, key, fetch);
      if (lease.kind === "held") {
        const copy = await waitForCopy(at, key, newerThan);
        return copy && at === epoch ? { kind: "copy", copy } : fetchAndShare(at, key, fetch);
      }
      try {
        // Another replica may have stored the key between this replica's read and its lease.
        const copy = options.fresh ? undefined : await readCounted(at, key);
        if (copy && copy.storedAt > newerThan && freshness.isFresh(copy, now())) return { kind: "copy", copy };
        return await fetchAndShare(at, key, fetch);
      } finally {
        void store.release(at, key, lease.token);
      }
    },
    async clear() {
      const at = epoch ?? (await store.epoch());
      if (at === undefined) return false;
      const next = await store.clear(at);
      if (next === undefined) return false;
      // This replica's own tier was emptied by the caller; its listeners need not hear of it again.
      epoch = next;
      lookedAt.clear();
      return true;
    },
    onClear(listener) {
      clearListeners.push(listener);
    },
    async heartbeat() {
      const seen = await store.epoch();
      if (seen === undefined) return false;
      adopt(seen);
      return true;
    },
  };
}
