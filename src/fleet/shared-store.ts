import type { StoredCopy } from "../cache/freshness.ts";
import type { BudgetSnapshot } from "../github/rate-limit-budget.ts";

/**
 * Storage shared by every replica (Redis in the service, memory in tests): copies, leases and epochs, with no
 * policy of its own. Every key lives under an epoch, a random marker that every clear replaces, so a clear
 * leaves other deployments' keys alone and a replica that missed it notices on its next look at the epoch.
 * Nothing here throws or waits past its own deadline: `undefined` means the store could not be asked.
 */
export interface SharedStore<V> {
  /**
   * The current epoch, starting one when the store holds none (a new or emptied Redis). Also the liveness
   * probe: undefined when the store did not answer.
   */
  epoch(): Promise<string | undefined>;
  /** The copy of `key` in `epoch`: null when there is none or it cannot be read (it is then removed). */
  get(epoch: string, key: string): Promise<StoredCopy<V> | null | undefined>;
  /** Keeps `copy` for `ttlMs` and wakes replicas waiting for `key`; whether it was stored. */
  put(epoch: string, key: string, copy: StoredCopy<V>, ttlMs: number): Promise<boolean>;
  /** Takes the right to load `key` for `ms`: granted (with the token that gives it back), held by another, or unavailable. */
  lease(epoch: string, key: string, ms: number): Promise<Lease>;
  /** Gives a granted lease back (only the token's own). */
  release(epoch: string, key: string, token: string): Promise<void>;
  /** Whether a lease on `key` is held. */
  leaseHeld(epoch: string, key: string): Promise<boolean | undefined>;
  /** Resolves after `ms`, or sooner when a replica stores a copy of `key` (best effort: callers look again). */
  nextFill(key: string, ms: number): Promise<void>;
  /** Starts a new epoch, tells every replica, and deletes the keys of `epoch`; the new epoch, or undefined. */
  clear(epoch: string): Promise<string | undefined>;
  /** Calls `listener` with each epoch another replica starts. */
  onEpoch(listener: (epoch: string) => void): void;
  /** GitHub's budget as a replica last shared it (outside the epochs: a clear keeps it); null when none is kept. */
  budget(): Promise<BudgetSnapshot | null | undefined>;
  /** Keeps `snapshot` for `ttlMs` and tells every other replica. */
  shareBudget(snapshot: BudgetSnapshot, ttlMs: number): Promise<void>;
  /** Calls `listener` with each budget another replica shares. */
  onBudget(listener: (snapshot: BudgetSnapshot) => void): void;
  /**
   * Takes one token from `client`'s bucket of GitHub calls (holding `capacity`, refilled by `refillPerMs`), kept
   * for the fleet outside the epochs: 0 when taken, else the milliseconds until one is back.
   */
  spendShare(client: string, capacity: number, refillPerMs: number): Promise<number | undefined>;
}

/**
 * The answer to asking for a lease. `unavailable` also covers a lease key the service did not write (no expiry,
 * or longer than any lease): waiting on it would wait for nobody.
 */
export type Lease = { kind: "granted"; token: string } | { kind: "held" } | { kind: "unavailable" };
