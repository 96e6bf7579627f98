import QuickLRU from "quick-lru";
import type { ClientRateLimitConfig } from "../config.ts";

/** Token buckets per client address; memory is bounded by forgetting the least recently seen clients. */
export type ClientRateLimiter = ReturnType<typeof createClientRateLimiter>;

/** The verdict for one request: allowed, or refused with the seconds until a token is back. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
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
      const bucket = buckets.get(client) ?? { tokens: config.burst, updatedAt: at };
      bucket.tokens = Math.min(config.burst, bucket.tokens + (at - bucket.updatedAt) * refillPerMs);
      bucket.updatedAt = at;
      const allowed = bucket.tokens >= 1;
      if (allowed) bucket.tokens -= 1;
      buckets.set(client, bucket);
      const missing = Math.max(0, 1 - bucket.tokens);
      return {
        allowed,
        limit: config.burst,
        remaining: Math.floor(bucket.tokens),
        resetSeconds: Math.max(1, Math.ceil(missing / refillPerMs / 1000)),
      };
    },
    /**
     * The address a request is accounted to. X-Forwarded-For is used only when proxies are configured to be
     * trusted: the entry `trustedHops` from the right is the one the outermost trusted proxy saw.
     */
    clientOf(peer: string | undefined, forwardedFor: string | null): string {
      if (config.trustedHops > 0 && forwardedFor) {
        const hops = forwardedFor
          .split(",")
          .map((hop) => hop.trim())
          .filter(Boolean);
        const client = hops[hops.length - config.trustedHops];
        if (client) return client;
      }
      return peer ?? "unknown";
    },
  };
}
