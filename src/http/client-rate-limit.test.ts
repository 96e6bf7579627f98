import { describe, expect, test } from "bun:test";
import { createClientRateLimiter } from "./client-rate-limit.ts";

describe("createClientRateLimiter", () => {
  test("a bucket of `burst` tokens refilled at `rps`", () => {
    let now = 0;
    const limiter = createClientRateLimiter({ rps: 2, burst: 3, trustedHops: 0 }, () => now);
    const taken = Array.from({ length: 5 }, () => limiter.take("a").allowed);
    expect(taken).toEqual([true, true, true, false, false]);
    const refused = limiter.take("a");
    expect(refused).toMatchObject({ allowed: false, limit: 3, remaining: 0, resetSeconds: 1 });
    expect(limiter.take("b").allowed).toBe(true);
    now += 500;
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("a").allowed).toBe(false);
  });

  test("X-Forwarded-For counts only when proxies are trusted, read from the right", () => {
    const closed = createClientRateLimiter({ rps: 1, burst: 1, trustedHops: 0 });
    expect(closed.clientOf("127.0.0.6", "1.2.3.4")).toBe("127.0.0.6");
    const behindGateway = createClientRateLimiter({ rps: 1, burst: 1, trustedHops: 1 });
    expect(behindGateway.clientOf("127.0.0.6", "6.6.6.6, 1.2.3.4")).toBe("1.2.3.4");
    expect(behindGateway.clientOf("127.0.0.6", null)).toBe("127.0.0.6");
    const twoHops = createClientRateLimiter({ rps: 1, burst: 1, trustedHops: 2 });
    expect(twoHops.clientOf("10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.9")).toBe("1.2.3.4");
    expect(twoHops.clientOf("10.0.0.1", "1.2.3.4")).toBe("10.0.0.1");
  });

  test("is off at 0 requests per second", () => {
    expect(createClientRateLimiter({ rps: 0, burst: 1, trustedHops: 0 }).enabled).toBe(false);
  });
});
