import { Buffer } from "node:buffer";
import type { CachedValue } from "../cache/policy.ts";
import type { Lease, SharedTier, StoredCopy } from "../cache/tier.ts";
import type { RedisLink } from "./redis.ts";

/** Turns a stored copy into bytes and back; `decode` answers undefined for anything it cannot vouch for. */
export interface EntryCodec<V extends CachedValue> {
  /** The format version written and read; it is part of every entry's key, so two versions never meet. */
  readonly version: number;
  encode(key: string, copy: StoredCopy<V>): Uint8Array;
  decode(key: string, bytes: Uint8Array): StoredCopy<V> | undefined;
}

/** How waits for another replica's load ended, as the `outcome` label counts them. */
export const leaseOutcomes = ["filled", "failed", "timeout"] as const;
export type LeaseOutcome = (typeof leaseOutcomes)[number];

/** Counters of the shared tier, for /cache/stats and the metrics. */
export interface SharedTierCounters {
  hits: number;
  misses: number;
  dropped: number;
  leaseWaits: Record<LeaseOutcome, number>;
}

/** Settings of the Redis tier. */
export interface RedisTierOptions<V extends CachedValue> {
  link: RedisLink;
  codec: EntryCodec<V>;
  keyPrefix: string;
  /** How long a lease lasts (and so the longest a replica waits on another's load): the upstream deadline and a margin. */
  leaseMs: number;
  now?: () => number;
  onLeaseWait?: (outcome: LeaseOutcome) => void;
}

/** The shared tier on Redis, with its counters. */
export type RedisTier<V extends CachedValue> = SharedTier<V> & { readonly counters: SharedTierCounters };

// How often a waiting replica looks again when no "filled" message has come (messages are best effort).
const pollMs = 100;

const releaseScript = 'if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end';

/** Creates the shared tier: entries under `<prefix>v<version>:<key>`, leases, and fleet-wide clearing over `link`. */
export function createRedisTier<V extends CachedValue>(options: RedisTierOptions<V>): RedisTier<V> {
  const { link, codec, keyPrefix } = options;
  const now = options.now ?? Date.now;
  const counters: SharedTierCounters = { hits: 0, misses: 0, dropped: 0, leaseWaits: { filled: 0, failed: 0, timeout: 0 } };
  const entryKey = (key: string) => `${keyPrefix}v${codec.version}:${key}`;
  const leaseKey = (key: string) => `${keyPrefix}lease:${key}`;
  const generationKey = `${keyPrefix}generation`;
  const waiters = new Map<string, Set<() => void>>();
  const clearListeners: Array<() => void> = [];
  let generation: number | undefined;

  const emptyLocal = () => {
    for (const listener of clearListeners) listener();
  };
  link.onEvent((event) => {
    if (event.type === "filled") for (const wake of waiters.get(event.key) ?? []) wake();
    if (event.type === "clear") {
      generation = event.generation;
      emptyLocal();
    }
  });
  // A clear published while this replica was cut off is caught on reconnect by the generation it left behind.
  link.onConnect(() => {
    void link
      .run("get", (redis) => redis.get(generationKey))
      .then((text) => {
        if (text === undefined) return;
        const seen = Number(text ?? 0);
        if (generation !== undefined && seen !== generation) emptyLocal();
        generation = seen;
      });
  });

  const read = async (key: string): Promise<StoredCopy<V> | undefined | null> => {
    const bytes = await link.run("get", (redis) => redis.getBuffer(entryKey(key)));
    if (bytes === undefined) return undefined;
    if (bytes === null) return null;
    const copy = codec.decode(key, bytes);
    if (copy === undefined) {
      counters.dropped++;
      await link.run("set", (redis) => redis.unlink(entryKey(key)));
      return null;
    }
    return copy.staleUntil > now() ? copy : null;
  };

  const pause = (key: string, ms: number) =>
    new Promise<void>((resolve) => {
      const set = waiters.get(key) ?? new Set();
      waiters.set(key, set);
      const wake = () => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0) waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
    });

  const settle = (outcome: LeaseOutcome, copy?: StoredCopy<V>) => {
    counters.leaseWaits[outcome]++;
    options.onLeaseWait?.(outcome);
    return copy;
  };

  return {
    counters,
    async get(key) {
      const copy = await read(key);
      if (copy === null) counters.misses++;
      else if (copy !== undefined) counters.hits++;
      return copy ?? undefined;
    },
    async put(key, copy) {
      const ttlMs = Math.floor(copy.staleUntil - now());
      if (ttlMs < 1) return;
      const bytes = codec.encode(key, copy);
      const stored = await link.run("set", (redis) => redis.set(entryKey(key), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), "PX", ttlMs));
      if (stored !== undefined) link.publish({ type: "filled", key });
    },
    async lease(key): Promise<Lease> {
      const token = crypto.randomUUID();
      const answer = await link.run("lease", (redis) => redis.set(leaseKey(key), token, "PX", options.leaseMs, "NX"));
      if (answer === undefined) return { kind: "unavailable" };
      return answer === "OK" ? { kind: "granted", token } : { kind: "held" };
    },
    async release(key, token) {
      await link.run("release", (redis) => redis.eval(releaseScript, 1, leaseKey(key), token));
    },
    async waitFor(key, newerThan) {
      const deadline = now() + options.leaseMs;
      while (now() < deadline) {
        await pause(key, Math.min(pollMs, Math.max(1, deadline - now())));
        const copy = await read(key);
        if (copy === undefined) return settle("failed");
        if (copy !== null && copy.storedAt > newerThan) return settle("filled", copy);
        const held = await link.run("wait", (redis) => redis.exists(leaseKey(key)));
        if (held !== 1) {
          // The holder stores before it lets go: a lease gone since the read above may have left its copy.
          const after = held === 0 ? await read(key) : undefined;
          return after && after.storedAt > newerThan ? settle("filled", after) : settle("failed");
        }
      }
      return settle("timeout");
    },
    async clear() {
      const next = await link.run("clear", (redis) => redis.incr(generationKey));
      if (next === undefined) return false;
      generation = next;
      const pattern = `${_escapeGlob(keyPrefix)}*`;
      let cursor = "0";
      do {
        const page = await link.run("clear", (redis) => redis.scan(cursor, "MATCH", pattern, "COUNT", 500));
        if (page === undefined) return false;
        cursor = page[0];
        const keys = page[1].filter((name) => name !== generationKey);
        if (keys.length > 0 && (await link.run("clear", (redis) => redis.unlink(...keys))) === undefined) return false;
      } while (cursor !== "0");
      link.publish({ type: "clear", generation: next });
      return true;
    },
    onClear(listener) {
      clearListeners.push(listener);
    },
  };
}

// SCAN's MATCH is a glob: a prefix holding *, ?, [ or \ must match only itself.
function _escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);
}
