import type { CachedValue } from "./policy.ts";

/** A value with the timeline it was stored with, as any tier holds it. */
export interface StoredCopy<V extends CachedValue> {
  readonly value: V;
  readonly storedAt: number;
  readonly freshUntil: number;
  readonly staleUntil: number;
}

/** The answer to asking for the fleet-wide right to load a key. */
export type Lease = { kind: "granted"; token: string } | { kind: "held" } | { kind: "unavailable" };

/**
 * A second cache tier behind the in-process one: shared by every replica, slower, and fallible. Every
 * method settles within its own deadline and never throws; `undefined` means the tier could not help, and the
 * caller goes on as if it were not there.
 */
export interface SharedTier<V extends CachedValue> {
  /** The tier's copy of `key`, if it holds a readable one. */
  get(key: string): Promise<StoredCopy<V> | undefined>;
  /** Stores `copy` until its stale window ends, and tells replicas waiting on the key. */
  put(key: string, copy: StoredCopy<V>): Promise<void>;
  /** Takes the right to load `key` from upstream for a bounded time, unless another replica has it. */
  lease(key: string): Promise<Lease>;
  /** Gives a granted lease back. */
  release(key: string, token: string): Promise<void>;
  /** Waits while another replica loads `key`: its copy stored after `newerThan`, or undefined if it fails or goes quiet. */
  waitFor(key: string, newerThan: number): Promise<StoredCopy<V> | undefined>;
  /** Removes every key of this service from the tier and tells every replica to empty its own; false if it could not. */
  clear(): Promise<boolean>;
  /** Calls `listener` when another replica clears the cache. */
  onClear(listener: () => void): void;
}
