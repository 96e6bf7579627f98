import type { StoredCopy } from "../cache/freshness.ts";
import type { BudgetSnapshot } from "../github/rate-limit-budget.ts";
import { fullBucket, takeToken, type Bucket } from "../token-bucket.ts";
import type { Lease, SharedStore } from "./shared-store.ts";

/** Time as the memory tier sees it: the current moment, and a callback after a delay (cancellable). */
export interface TierClock {
  now(): number;
  after(ms: number, callback: () => void): () => void;
}

/** The real clock. */
export const realClock: TierClock = {
  now: Date.now,
  after(ms, callback) {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
};

/** One replica's connection to a memory tier, with switches for the faults a network and a Redis can cause. */
export interface MemoryConnection<V> extends SharedStore<V> {
  /** False: every call answers undefined, as a Redis that is down or cut off. */
  reachable: boolean;
  /** False: messages from other replicas (fills, new epochs) are lost, as pub/sub messages are when a link drops. */
  hearsMessages: boolean;
}

/** A shared tier in memory, with Redis's semantics (expiring copies and leases, epochs, messages between replicas). */
export type MemoryTier<V> = ReturnType<typeof createMemoryTier<V>>;

/**
 * Creates a tier shared by the connections made from it: the unit tests' stand-in for Redis, driven by an
 * injected clock, so a fleet's races (a holder that dies, a copy that arrives late, a lease that expires, a
 * clear during a wait, a store that comes and goes) run in milliseconds and always the same way.
 */
export function createMemoryTier<V>(clock: TierClock = realClock) {
  const copies = new Map<string, { copy: StoredCopy<V>; expiresAt: number }>();
  const leases = new Map<string, { token: string; expiresAt: number }>();
  const connections = new Set<_Connection<V>>();
  let epoch: string | undefined;
  let budget: { snapshot: BudgetSnapshot; expiresAt: number } | undefined;
  const shares = new Map<string, Bucket>();
  let epochs = 0;
  let tokens = 0;

  const live = <T extends { expiresAt: number }>(map: Map<string, T>, name: string): T | undefined => {
    const item = map.get(name);
    if (item && item.expiresAt <= clock.now()) {
      map.delete(name);
      return undefined;
    }
    return item;
  };
  const others = (self: _Connection<V>) => [...connections].filter((connection) => connection !== self && connection.reachable && connection.hearsMessages);

  const connect = (): MemoryConnection<V> => {
    const waiters = new Map<string, Set<() => void>>();
    const epochListeners: Array<(epoch: string) => void> = [];
    const budgetListeners: Array<(snapshot: BudgetSnapshot) => void> = [];
    const connection: _Connection<V> = {
      reachable: true,
      hearsMessages: true,
      wake(key) {
        for (const wake of waiters.get(key) ?? []) wake();
      },
      tell(next) {
        for (const listener of epochListeners) listener(next);
      },
      hear(snapshot) {
        for (const listener of budgetListeners) listener(snapshot);
      },
      async epoch() {
        if (!connection.reachable) return undefined;
        epoch ??= `epoch-${++epochs}`;
        return epoch;
      },
      async get(at, key) {
        if (!connection.reachable) return undefined;
        return live(copies, `${at}:${key}`)?.copy ?? null;
      },
      async put(at, key, copy, ttlMs) {
        if (!connection.reachable) return false;
        copies.set(`${at}:${key}`, { copy, expiresAt: clock.now() + ttlMs });
        for (const other of others(connection)) other.wake(key);
        return true;
      },
      async lease(at, key, ms): Promise<Lease> {
        if (!connection.reachable) return { kind: "unavailable" };
        const name = `${at}:lease:${key}`;
        const held = live(leases, name);
        if (held) return held.expiresAt - clock.now() > ms ? { kind: "unavailable" } : { kind: "held" };
        const token = `token-${++tokens}`;
        leases.set(name, { token, expiresAt: clock.now() + ms });
        return { kind: "granted", token };
      },
      async release(at, key, token) {
        if (!connection.reachable) return;
        const name = `${at}:lease:${key}`;
        if (live(leases, name)?.token === token) leases.delete(name);
      },
      async leaseHeld(at, key) {
        if (!connection.reachable) return undefined;
        return live(leases, `${at}:lease:${key}`) !== undefined;
      },
      nextFill(key, ms) {
        return new Promise<void>((resolve) => {
          const set = waiters.get(key) ?? new Set();
          waiters.set(key, set);
          const wake = () => {
            cancel();
            set.delete(wake);
            if (set.size === 0) waiters.delete(key);
            resolve();
          };
          const cancel = clock.after(ms, wake);
          set.add(wake);
        });
      },
      async clear(at) {
        if (!connection.reachable) return undefined;
        epoch = `epoch-${++epochs}`;
        for (const name of [...copies.keys(), ...leases.keys()]) {
          if (name.startsWith(`${at}:`)) {
            copies.delete(name);
            leases.delete(name);
          }
        }
        for (const other of others(connection)) other.tell(epoch);
        return epoch;
      },
      onEpoch(listener) {
        epochListeners.push(listener);
      },
      async budget() {
        if (!connection.reachable) return undefined;
        if (budget && budget.expiresAt <= clock.now()) budget = undefined;
        return budget?.snapshot ?? null;
      },
      async shareBudget(snapshot, ttlMs) {
        if (!connection.reachable) return;
        budget = { snapshot, expiresAt: clock.now() + ttlMs };
        for (const other of others(connection)) other.hear(snapshot);
      },
      onBudget(listener) {
        budgetListeners.push(listener);
      },
      async spendShare(client, capacity, refillPerMs) {
        if (!connection.reachable) return undefined;
        const bucket = shares.get(client) ?? fullBucket(capacity, clock.now());
        shares.set(client, bucket);
        return takeToken(bucket, capacity, refillPerMs, clock.now());
      },
    };
    connections.add(connection);
    return connection;
  };

  return {
    /** A new replica's connection. */
    connect,
    /** Forgets everything, as a Redis restarted without persistence does; no message tells anyone. */
    lose(): void {
      copies.clear();
      leases.clear();
      epoch = undefined;
      budget = undefined;
      shares.clear();
    },
    /** Puts a lease on `key` that no replica holds and that never expires, as a foreign key under the lease's name would. */
    plantForeignLease(key: string): void {
      if (epoch !== undefined) leases.set(`${epoch}:lease:${key}`, { token: "foreign", expiresAt: Number.POSITIVE_INFINITY });
    },
    /** Stores a copy as a replica with other settings (or a hostile writer) would, bypassing every check. */
    plantCopy(key: string, copy: StoredCopy<V>, ttlMs: number): void {
      if (epoch !== undefined) copies.set(`${epoch}:${key}`, { copy, expiresAt: clock.now() + ttlMs });
    },
    /** The copy stored under `key` in the current epoch, as the tier holds it. */
    peek(key: string): StoredCopy<V> | undefined {
      return epoch === undefined ? undefined : live(copies, `${epoch}:${key}`)?.copy;
    },
    /** Keys held in every epoch, for checking that a clear took exactly its own. */
    get size(): number {
      return copies.size;
    },
  };
}

interface _Connection<V> extends MemoryConnection<V> {
  wake(key: string): void;
  tell(epoch: string): void;
  hear(snapshot: BudgetSnapshot): void;
}
