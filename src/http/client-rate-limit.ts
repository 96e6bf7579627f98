import QuickLRU from "quick-lru";
import type { ClientRateLimitConfig } from "../config.ts";
import { fullBucket, takeToken, type Bucket } from "../token-bucket.ts";
import { clientAddress } from "./client-address.ts";

/** Token buckets per client address; memory is bounded by forgetting the least recently seen clients. */
export type ClientRateLimiter = ReturnType<typeof createClientRateLimiter>;

/** The verdict for one request: allowed, or refused with the seconds until a token is back. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
}

/** Creates the limiter; `maxClients` bounds how many buckets are kept. */
export function createClientRateLimiter(config: ClientRateLimitConfig, now: () => number = Date.now, maxClients = 50_000) {
  const buckets = new QuickLRU<string, Bucket>({ maxSize: maxClients });
  const refillPerMs = config.rps / 1000;

  return {
    enabled: config.rps > 0,
    /** Takes a token from `client`'s bucket if it has one. */
    take(client: string): RateDecision {
      const at = now();
      const bucket = buckets.get(client) ?? fullBucket(config.burst, at);
      const allowed = takeToken(bucket, config.burst, refillPerMs, at) === 0;
      buckets.set(client, bucket);
      const missing = Math.max(0, 1 - bucket.tokens);
      return {
        allowed,
        limit: config.burst,
        remaining: Math.floor(bucket.tokens),
        resetSeconds: Math.max(1, Math.ceil(missing / refillPerMs / 1000)),
      };
    },
    /** The address a request is accounted to (see client-address.ts). */
    clientOf(peer: string | undefined, forwardedFor: string | null): string {
      return clientAddress(peer, forwardedFor, config.trustedHops);
    },
  };
}
