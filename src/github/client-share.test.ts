import { describe, expect, test } from "bun:test";
import { createMemoryTier } from "../fleet/memory-store.ts";
import { createManualClock } from "../testing/manual-clock.ts";
import { createClientShare, ShareSpent } from "./client-share.ts";

/** How many calls `client` may make now before ShareSpent, and the seconds it is then told to wait. */
async function callsUntilSpent(share: ReturnType<typeof createClientShare>, client: string, most = 100): Promise<{ calls: number; retryAfter: number }> {
  for (let calls = 0; calls < most; calls++) {
    try {
      await share.spend(client);
    } catch (error) {
      if (!(error instanceof ShareSpent)) throw error;
      return { calls, retryAfter: error.retryAfterSeconds };
    }
  }
  return { calls: most, retryAfter: 0 };
}

describe("createClientShare", () => {
  test("a client may cause its share of GitHub's window, then waits while the hour refills it; others keep theirs", async () => {
    const clock = createManualClock();
    const share = createClientShare({ share: 0.25, windowLimit: () => 40, assumedLimit: 60, now: clock.now });
    expect(await callsUntilSpent(share, "10.0.0.1")).toEqual({ calls: 10, retryAfter: 360 });
    expect((await callsUntilSpent(share, "10.0.0.2")).calls).toBe(10);
    await clock.advance(360_000);
    expect((await callsUntilSpent(share, "10.0.0.1")).calls).toBe(1);
  });

  test("until GitHub says the window's size the assumed one counts, and a share is at least one call", async () => {
    let limit: number | undefined;
    const share = createClientShare({ share: 0.1, windowLimit: () => limit, assumedLimit: 60, now: () => 0 });
    expect((await callsUntilSpent(share, "a")).calls).toBe(6);
    limit = 5;
    expect((await callsUntilSpent(share, "b")).calls).toBe(1);
  });

  test("with a shared store a client has one share for the fleet; without one that answers, each replica counts alone", async () => {
    const clock = createManualClock();
    const tier = createMemoryTier(clock);
    const [first, second] = [tier.connect(), tier.connect()];
    const replica = (store: typeof first) => createClientShare({ share: 0.1, windowLimit: () => 50, assumedLimit: 60, store, now: clock.now });
    const [a, b] = [replica(first), replica(second)];
    expect((await callsUntilSpent(a, "scanner", 3)).calls).toBe(3);
    expect(await callsUntilSpent(b, "scanner")).toEqual({ calls: 2, retryAfter: 720 });
    second.reachable = false;
    expect((await callsUntilSpent(b, "scanner")).calls).toBe(5);
  });

  test("a share of 0 counts nothing", async () => {
    const share = createClientShare({ share: 0, windowLimit: () => 1, assumedLimit: 1 });
    expect(share.enabled).toBe(false);
    expect((await callsUntilSpent(share, "anyone", 50)).calls).toBe(50);
  });
});
