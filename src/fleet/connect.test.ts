import { describe, expect, test } from "bun:test";
import { createFreshness } from "../cache/freshness.ts";
import { createRateLimitBudget } from "../github/rate-limit-budget.ts";
import { createLogger } from "../logger.ts";
import { createMetrics } from "../metrics/registry.ts";
import { createEntryCodec } from "../modules/gists/entry-codec.ts";
import { unusedPort } from "../testing/free-port.ts";
import { joinFleet } from "./connect.ts";

// Joining a fleet whose Redis nobody listens on: a real connection, refused. The e2e tier runs real Redis.
describe("joinFleet without a reachable Redis", () => {
  test("the replica reports the shared tier down once (never its password), answers alone, and closes cleanly", async () => {
    const lines: string[] = [];
    const logger = createLogger("info", (text) => lines.push(text));
    const freshness = createFreshness({ ttlMs: 1_000, staleMs: 0, negativeTtlMs: 0 });
    const budget = createRateLimitBudget();
    const membership = joinFleet(
      { url: `redis://gists:s3cret-word@127.0.0.1:${await unusedPort()}/0`, keyPrefix: "gists-api:", commandTimeoutMs: 50 },
      { codec: createEntryCodec(1), freshness, leaseMs: 100, metrics: createMetrics({ processMetrics: false }), logger, budget: () => budget },
    );
    await membership.connected;
    const fetched = await membership.fleet.load("octocat:1:30", undefined, async () => ({ shared: undefined, answer: "from GitHub" }));
    expect(fetched).toEqual({ kind: "fetched", result: { shared: undefined, answer: "from GitHub" } });
    expect(await membership.fleet.lookup("octocat:1:30", undefined)).toBeUndefined();
    expect(await membership.fleet.clear()).toBe(false);
    membership.budgetChanged({ remaining: 1, resetAt: Date.now() / 1000 + 60, pausedUntilMs: 0 });
    expect(membership.stats()).toMatchObject({ state: "down", full: false, hits: 0, misses: 0 });
    expect(membership.stats().fallbacks).toBeGreaterThan(0);
    await membership.close();
    logger.flush();
    const warnings = lines
      .join("")
      .split("\n")
      .filter((line) => line.includes("shared cache unavailable"));
    expect(warnings.length).toBe(1);
    expect(lines.join("")).not.toContain("s3cret-word");
  });
});
