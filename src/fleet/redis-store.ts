import { Buffer } from "node:buffer";
import type { StoredCopy } from "../cache/freshness.ts";
import type { BudgetSnapshot } from "../github/rate-limit-budget.ts";
import { epochPattern, type RedisLink } from "./redis-link.ts";
import { readBudgetSnapshot } from "./rate-limit-sharing.ts";
import type { Lease, SharedStore } from "./shared-store.ts";

/** Turns a stored copy into bytes and back; `decode` answers undefined for anything it cannot vouch for. */
export interface EntryCodec<V> {
  /** The format version written and read; it is part of every entry's key, so two versions never meet. */
  readonly version: number;
  encode(key: string, copy: StoredCopy<V>): Uint8Array;
  decode(key: string, bytes: Uint8Array): StoredCopy<V> | undefined;
}

/** Settings of the Redis store. */
export interface RedisStoreOptions<V> {
  link: RedisLink;
  codec: EntryCodec<V>;
  keyPrefix: string;
}

/** The shared store on Redis, with the count of unreadable entries it removed. */
export type RedisStore<V> = SharedStore<V> & { readonly dropped: number };

/**
 * Keys, all under REDIS_KEY_PREFIX: `<prefix>epoch` (the current epoch), `<prefix><epoch>:v<version>:<page>`
 * (entries) and `<prefix><epoch>:lease:<page>` (leases). A clear starts a new epoch and deletes exactly the
 * keys of the old one, so no other deployment's keys can match, whatever its prefix. `<prefix>budget` (GitHub's
 * rate limit as the fleet knows it) lives outside the epochs: a clear does not forget it. Messages go on the
 * channel `<prefix>events`.
 */
export function createRedisStore<V>(options: RedisStoreOptions<V>): RedisStore<V> {
  const { link, codec, keyPrefix } = options;
  const epochKey = `${keyPrefix}epoch`;
  const entryKey = (epoch: string, key: string) => `${keyPrefix}${epoch}:v${codec.version}:${key}`;
  const leaseKey = (epoch: string, key: string) => `${keyPrefix}${epoch}:lease:${key}`;
  const budgetKey = `${keyPrefix}budget`;
  const shareKey = (client: string) => `${keyPrefix}share:${client}`;
  const waiters = new Map<string, Set<() => void>>();
  const epochListeners: Array<(epoch: string) => void> = [];
  const budgetListeners: Array<(snapshot: BudgetSnapshot) => void> = [];
  let dropped = 0;

  // Deletes the keys of `epoch` (and only those: the epoch is 16 random hex digits followed by ":").
  const sweep = async (epoch: string) => {
    const pattern = `${_escapeGlob(`${keyPrefix}${epoch}:`)}*`;
    let cursor = "0";
    do {
      const page = await link.run("clear", (redis) => redis.scan(cursor, "MATCH", pattern, "COUNT", 500));
      if (page === undefined) return;
      cursor = page[0];
      if (page[1].length > 0) await link.run("clear", (redis) => redis.unlink(...page[1]));
    } while (cursor !== "0");
  };

  link.onEvent((event) => {
    if (event.type === "filled") for (const wake of waiters.get(event.key) ?? []) wake();
    if (event.type === "epoch") for (const listener of epochListeners) listener(event.epoch);
    if (event.type === "budget") for (const listener of budgetListeners) listener(event);
  });

  return {
    get dropped() {
      return dropped;
    },
    async epoch() {
      const text = await link.heartbeat((redis) => redis.eval(_epochScript, 1, epochKey, _newEpoch()) as Promise<string>);
      return typeof text === "string" && epochPattern.test(text) ? text : undefined;
    },
    async get(epoch, key) {
      const name = entryKey(epoch, key);
      const bytes = await link.run("get", (redis) => redis.getBuffer(name));
      if (bytes === undefined || bytes === null) return bytes;
      const copy = codec.decode(key, bytes);
      if (copy !== undefined) return copy;
      dropped++;
      // Part of the read, and allowed on a full Redis: not a write, whose success would say Redis has room again.
      await link.run("get", (redis) => redis.unlink(name));
      return null;
    },
    async put(epoch, key, copy, ttlMs) {
      const bytes = codec.encode(key, copy);
      const value = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const stored = await link.run("set", (redis) => redis.set(entryKey(epoch, key), value, "PX", Math.max(1, Math.floor(ttlMs))));
      if (stored === undefined) return false;
      link.publish({ type: "filled", key });
      return true;
    },
    async lease(epoch, key, ms): Promise<Lease> {
      const token = crypto.randomUUID();
      const answer = await link.run("lease", (redis) => redis.eval(_leaseScript, 1, leaseKey(epoch, key), token, String(ms)) as Promise<number>);
      if (answer === 1) return { kind: "granted", token };
      return answer === 0 ? { kind: "held" } : { kind: "unavailable" };
    },
    async release(epoch, key, token) {
      await link.run("release", (redis) => redis.eval(_releaseScript, 1, leaseKey(epoch, key), token));
    },
    async leaseHeld(epoch, key) {
      const held = await link.run("wait", (redis) => redis.exists(leaseKey(epoch, key)));
      return held === undefined ? undefined : held === 1;
    },
    nextFill(key, ms) {
      return new Promise<void>((resolve) => {
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
    },
    async clear(epoch) {
      const next = _newEpoch();
      const start = async () => (await link.run("clear", (redis) => redis.set(epochKey, next))) !== undefined;
      let started = await start();
      if (!started && link.full) {
        // A Redis full under noeviction refuses the new epoch: deleting the old one's keys first makes room.
        await sweep(epoch);
        started = await start();
      }
      if (!started) return undefined;
      link.publish({ type: "epoch", epoch: next });
      // The old epoch's keys are unreachable now; deleting them frees the memory at once instead of at expiry.
      await sweep(epoch);
      return next;
    },
    onEpoch(listener) {
      epochListeners.push(listener);
    },
    async budget() {
      const text = await link.run("budget", (redis) => redis.get(budgetKey));
      return text === undefined || text === null ? text : (_budget(text) ?? null);
    },
    async shareBudget(snapshot, ttlMs) {
      link.publish({ type: "budget", ...snapshot });
      await link.run("budget", (redis) => redis.set(budgetKey, JSON.stringify(snapshot), "PX", Math.max(1, Math.floor(ttlMs))));
    },
    onBudget(listener) {
      budgetListeners.push(listener);
    },
    async spendShare(client, capacity, refillPerMs) {
      const wait = await link.run("share", (redis) => redis.eval(_shareScript, 1, shareKey(client), String(capacity), String(refillPerMs)) as Promise<number>);
      return typeof wait === "number" ? wait : undefined;
    },
  };
}

// A token bucket on Redis's own clock: 0 when a token was taken, else the milliseconds until one is back. It
// expires once full again, so an idle client leaves nothing behind.
const _shareScript = `
local capacity = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local time = redis.call("time")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local tokens = capacity
local updated = now
if redis.call("type", KEYS[1]).ok == "hash" then
  tokens = tonumber(redis.call("hget", KEYS[1], "tokens")) or capacity
  updated = tonumber(redis.call("hget", KEYS[1], "updated")) or now
end
tokens = math.min(capacity, tokens + math.max(0, now - updated) * refill)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / refill) end
redis.call("del", KEYS[1])
redis.call("hset", KEYS[1], "tokens", tostring(tokens), "updated", tostring(now))
redis.call("pexpire", KEYS[1], math.ceil((capacity - tokens) / refill) + 1000)
return wait`;

// A budget as another replica wrote it; anything else under its name is ignored.
function _budget(text: string): BudgetSnapshot | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? readBudgetSnapshot(value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

// The current epoch; a missing one, or anything but an epoch under its name, is replaced by the one offered.
const _epochScript = `
local kind = redis.call("type", KEYS[1]).ok
if kind == "string" then
  local epoch = redis.call("get", KEYS[1])
  if string.len(epoch) == 16 and not string.find(epoch, "[^0-9a-f]") then return epoch end
end
if kind ~= "none" then redis.call("del", KEYS[1]) end
redis.call("set", KEYS[1], ARGV[1])
return ARGV[1]`;

// 1: granted; 0: held by a replica; -1: a key under the lease's name that no replica wrote (no expiry, or longer than a lease).
const _leaseScript = `
if redis.call("set", KEYS[1], ARGV[1], "PX", ARGV[2], "NX") then return 1 end
local ttl = redis.call("pttl", KEYS[1])
if ttl < 0 or ttl > tonumber(ARGV[2]) then return -1 end
return 0`;

const _releaseScript = 'if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end';

function _newEpoch(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// SCAN's MATCH is a glob: a prefix holding *, ?, [ or \ must match only itself.
function _escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);
}
