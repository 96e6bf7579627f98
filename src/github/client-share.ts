import QuickLRU from "quick-lru";
import type { SharedStore } from "../fleet/shared-store.ts";
import { fullBucket, takeToken, type Bucket } from "../token-bucket.ts";

/** A client that has spent its share of GitHub's budget: 429 with the seconds until it may spend again. */
export class ShareSpent extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super("This client has spent its share of GitHub's budget for now: pages already cached still answer");
    this.name = "ShareSpent";
  }
}

/** Settings of the share. */
export interface ClientShareOptions {
  /** The share of GitHub's window (x-ratelimit-limit per hour) one client may spend (CLIENT_GITHUB_SHARE); 0: off. */
  share: number;
  /** The window's size as GitHub last said it, if it has. */
  windowLimit: () => number | undefined;
  /** Assumed until GitHub says: 5,000 with a token, 60 without. */
  assumedLimit: number;
  /** The fleet's shared store: shares count fleet-wide with REDIS_URL. */
  store?: SharedStore<unknown>;
  now?: () => number;
  /** Most clients counted in this replica (the least recently seen are forgotten). */
  maxClients?: number;
}

/** GitHub's primary window. */
const windowMs = 3_600_000;

/** Each client's share of GitHub's budget: calls it may cause per window. */
export type ClientShare = ReturnType<typeof createClientShare>;

/**
 * Creates the share: a token bucket per client holding its share of the window (at least one call), refilled
 * over the hour. Only the GitHub calls a client's requests cause are counted: pages nothing held, and requests
 * that bypass the cache. Counted in the shared store when there is one (so a client gets one share from the
 * fleet, not one per replica); in this replica alone when there is none or it cannot be reached.
 */
export function createClientShare(options: ClientShareOptions) {
  const now = options.now ?? Date.now;
  const local = new QuickLRU<string, Bucket>({ maxSize: options.maxClients ?? 50_000 });
  const capacity = () => Math.max(1, Math.floor(options.share * (options.windowLimit() ?? options.assumedLimit)));

  return {
    enabled: options.share > 0,
    /** Counts one GitHub call for `client`; throws ShareSpent when its share is spent. */
    async spend(client: string): Promise<void> {
      if (options.share <= 0) return;
      const size = capacity();
      const refillPerMs = size / windowMs;
      let waitMs = await options.store?.spendShare(client, size, refillPerMs);
      if (waitMs === undefined) {
        const bucket = local.get(client) ?? fullBucket(size, now());
        waitMs = takeToken(bucket, size, refillPerMs, now());
        local.set(client, bucket);
      }
      if (waitMs > 0) throw new ShareSpent(Math.max(1, Math.ceil(waitMs / 1000)));
    },
  };
}
