/** A token bucket's state: tokens held (fractions count) and when they were last counted. */
export interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** A full bucket at `at`. */
export function fullBucket(capacity: number, at: number): Bucket {
  return { tokens: capacity, updatedAt: at };
}

/**
 * Refills `bucket` for the time since it was last counted (at `refillPerMs` tokens a millisecond, up to
 * `capacity`) and takes one token when it holds one: 0, else the milliseconds until it will.
 */
export function takeToken(bucket: Bucket, capacity: number, refillPerMs: number, at: number): number {
  bucket.tokens = Math.min(capacity, bucket.tokens + Math.max(0, at - bucket.updatedAt) * refillPerMs);
  bucket.updatedAt = at;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return 0;
  }
  return Math.ceil((1 - bucket.tokens) / refillPerMs);
}
