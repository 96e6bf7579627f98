import { describe, expect, test } from "bun:test";
import { createFleet, type Fleet } from "../fleet/fleet.ts";
import { createMemoryTier } from "../fleet/memory-store.ts";
import { createManualClock } from "../testing/manual-clock.ts";
import { createFreshness, popularAnswers } from "./freshness.ts";
import { createCachePolicy, slotOverheadBytes, type LoadOutcome, type Loader } from "./policy.ts";

interface Value {
  negative: boolean;
  bytes: number;
  text: string;
  minFreshMs?: number;
}

const value = (text: string, negative = false): Value => ({ text, negative, bytes: text.length });

function setup(overrides: { ttl?: number; stale?: number } = {}) {
  let now = 1_000_000;
  const backgroundErrors: unknown[] = [];
  const policy = createCachePolicy<Value>({
    limits: { maxEntries: 100, maxBytes: 1_000_000 },
    // A failed background refresh waits the TTL, at least a second, before the next: 1 s with these windows.
    freshness: createFreshness({ ttlMs: overrides.ttl ?? 1000, staleMs: overrides.stale ?? 5000, negativeTtlMs: 500 }),
    servesStaleAfter: (error) => !(error instanceof Error && error.message === "gone"),
    onBackgroundError: (_key, error) => backgroundErrors.push(error),
    now: () => now,
  });
  return { policy, advance: (ms: number) => (now += ms), at: () => now, backgroundErrors };
}

function loader(outcomes: Array<LoadOutcome<Value> | Error>) {
  const calls: Array<string | undefined> = [];
  let release: (() => void) | undefined;
  const gate = { hold: false };
  const load: Loader<Value> = async (previous) => {
    calls.push(previous?.value.text);
    if (gate.hold) await new Promise<void>((resolve) => (release = resolve));
    const next = outcomes.shift();
    if (next instanceof Error) throw next;
    if (!next) throw new Error("no more outcomes");
    return next;
  };
  return { load, calls, gate, release: () => release?.() };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("createCachePolicy", () => {
  test("a miss loads, then hits until the TTL passes", async () => {
    const { policy, advance } = setup();
    const source = loader([{ kind: "value", value: value("v1") }]);
    expect((await policy.resolve("k", source.load, "allow-stale")).verdict).toBe("MISS");
    advance(999);
    const hit = await policy.resolve("k", source.load, "allow-stale");
    expect([hit.verdict, hit.slot.value.text]).toEqual(["HIT", "v1"]);
    expect(source.calls).toEqual([undefined]);
    expect(policy.stats).toMatchObject({ hits: 1, misses: 1 });
  });

  test("concurrent misses share one load, and its error", async () => {
    const { policy } = setup();
    const source = loader([new Error("boom")]);
    source.gate.hold = true;
    const waiting = Array.from({ length: 10 }, () => policy.resolve("k", source.load, "allow-stale"));
    await settle();
    source.release();
    const results = await Promise.allSettled(waiting);
    expect(results.every((result) => result.status === "rejected")).toBe(true);
    expect(source.calls.length).toBe(1);
    expect(policy.stats.coalesced).toBe(9);
    expect(policy.size).toBe(0);
  });

  test("a stale entry answers at once and refreshes once in the background", async () => {
    const { policy, advance } = setup();
    const source = loader([
      { kind: "value", value: value("v1") },
      { kind: "value", value: value("v2") },
    ]);
    await policy.resolve("k", source.load, "allow-stale");
    advance(1500);
    source.gate.hold = true;
    const stale = await Promise.all([1, 2, 3].map(() => policy.resolve("k", source.load, "allow-stale")));
    expect(stale.map((r) => `${r.verdict}:${r.slot.value.text}`)).toEqual(["STALE:v1", "STALE:v1", "STALE:v1"]);
    expect(source.calls).toEqual([undefined, "v1"]);
    source.release();
    await settle();
    const fresh = await policy.resolve("k", source.load, "allow-stale");
    expect([fresh.verdict, fresh.slot.value.text]).toEqual(["HIT", "v2"]);
    expect(policy.stats.staleServed).toBe(3);
  });

  test("a failed background refresh keeps the stale copy and waits before trying again", async () => {
    const { policy, advance, backgroundErrors } = setup();
    const source = loader([{ kind: "value", value: value("v1") }, new Error("down"), { kind: "value", value: value("v2") }]);
    await policy.resolve("k", source.load, "allow-stale");
    advance(1500);
    expect((await policy.resolve("k", source.load, "allow-stale")).verdict).toBe("STALE");
    await settle();
    expect(backgroundErrors.length).toBe(1);
    expect((await policy.resolve("k", source.load, "allow-stale")).verdict).toBe("STALE");
    expect(source.calls.length).toBe(2);
    // The next try waits what freshness.ts says: the TTL, at least a second.
    advance(999);
    await policy.resolve("k", source.load, "allow-stale");
    await settle();
    expect(source.calls.length).toBe(2);
    advance(1);
    await policy.resolve("k", source.load, "allow-stale");
    await settle();
    expect(source.calls.length).toBe(3);
    expect((await policy.resolve("k", source.load, "allow-stale")).slot.value.text).toBe("v2");
  });

  test("'not modified' renews the held value without replacing it", async () => {
    const { policy, advance } = setup({ stale: 0 });
    const source = loader([{ kind: "value", value: value("v1") }, { kind: "not-modified" }]);
    const first = await policy.resolve("k", source.load, "allow-stale");
    advance(1200);
    const renewed = await policy.resolve("k", source.load, "allow-stale");
    expect(renewed.verdict).toBe("REVALIDATED");
    expect(renewed.slot.value).toBe(first.slot.value);
    expect(renewed.slot.freshUntil).toBe(first.slot.freshUntil + 1200);
    expect(source.calls).toEqual([undefined, "v1"]);
    expect(policy.stats.revalidated).toBe(1);
  });

  test("past the stale window a failure is answered by the old copy (stale-if-error)", async () => {
    const { policy, advance } = setup({ stale: 0 });
    const source = loader([{ kind: "value", value: value("v1") }, new Error("down")]);
    await policy.resolve("k", source.load, "allow-stale");
    advance(10_000);
    const answer = await policy.resolve("k", source.load, "allow-stale");
    expect([answer.verdict, answer.slot.value.text]).toEqual(["STALE", "v1"]);
    expect((answer.error as Error).message).toBe("down");
  });

  test("an error the copy must not hide is thrown, and negative values never stand in", async () => {
    const { policy, advance } = setup({ stale: 0 });
    const gone = loader([{ kind: "value", value: value("v1") }, new Error("gone")]);
    await policy.resolve("k", gone.load, "allow-stale");
    advance(10_000);
    await expect(policy.resolve("k", gone.load, "allow-stale")).rejects.toThrow("gone");

    const negative = loader([{ kind: "value", value: value("404", true) }, new Error("down")]);
    await policy.resolve("n", negative.load, "allow-stale");
    advance(600);
    await expect(policy.resolve("n", negative.load, "allow-stale")).rejects.toThrow("down");
  });

  test("negative values live for their own TTL", async () => {
    const { policy, advance } = setup();
    const source = loader([
      { kind: "value", value: value("404", true) },
      { kind: "value", value: value("v1") },
    ]);
    await policy.resolve("k", source.load, "allow-stale");
    advance(499);
    expect((await policy.resolve("k", source.load, "allow-stale")).verdict).toBe("HIT");
    advance(1);
    expect((await policy.resolve("k", source.load, "allow-stale")).verdict).toBe("MISS");
  });

  test("bypass always loads and stores what it got", async () => {
    const { policy, at } = setup();
    const source = loader([
      { kind: "value", value: value("v1") },
      { kind: "value", value: value("v2") },
    ]);
    await policy.resolve("k", source.load, "allow-stale");
    const bypass = await policy.resolve("k", source.load, "bypass");
    expect([bypass.verdict, bypass.slot.value.text]).toEqual(["BYPASS", "v2"]);
    expect(policy.peekFresh("k", at())?.value.text).toBe("v2");
  });

  test("fresh mode refreshes a stale copy before answering", async () => {
    const { policy, advance } = setup();
    const source = loader([{ kind: "value", value: value("v1") }, { kind: "not-modified" }]);
    await policy.resolve("k", source.load, "allow-stale");
    advance(1500);
    expect((await policy.resolve("k", source.load, "fresh")).verdict).toBe("REVALIDATED");
  });

  test("a TTL and stale window of zero stores nothing", async () => {
    const { policy } = setup({ ttl: 0, stale: 0 });
    const source = loader([
      { kind: "value", value: value("v1") },
      { kind: "value", value: value("v2") },
    ]);
    await policy.resolve("k", source.load, "allow-stale");
    expect(policy.size).toBe(0);
    expect((await policy.resolve("k", source.load, "allow-stale")).verdict).toBe("MISS");
  });
});

describe("createCachePolicy: how an answer went upstream", () => {
  test("a hit or a stale answer went nowhere; a cold miss, a renewal, a changed copy, a 404 and a bypass say what upstream answered", async () => {
    const { policy, advance } = setup({ stale: 0 });
    const source = loader([
      { kind: "value", value: value("v1") },
      { kind: "not-modified" },
      { kind: "value", value: value("v2") },
      { kind: "value", value: value("gone", true) },
      { kind: "value", value: value("v3") },
    ]);
    const resolve = async (mode: "allow-stale" | "bypass" = "allow-stale") => {
      const { verdict, forward } = await policy.resolve("k", source.load, mode);
      return { verdict, forward };
    };
    const stored = { collapsed: false, stored: true };
    expect(await resolve()).toEqual({ verdict: "MISS", forward: { held: false, status: 200, ...stored } });
    expect(await resolve()).toEqual({ verdict: "HIT", forward: undefined });
    advance(1200);
    expect(await resolve()).toEqual({ verdict: "REVALIDATED", forward: { held: true, status: 304, ...stored } });
    advance(1200);
    expect(await resolve()).toEqual({ verdict: "MISS", forward: { held: true, status: 200, ...stored } });
    advance(1200);
    expect(await resolve()).toEqual({ verdict: "MISS", forward: { held: true, status: 404, ...stored } });
    expect(await resolve("bypass")).toEqual({ verdict: "BYPASS", forward: { held: true, status: 200, ...stored } });
  });

  test("requests that joined a load in flight are collapsed, the one that made it is not", async () => {
    const { policy } = setup();
    const source = loader([{ kind: "value", value: value("v1") }]);
    source.gate.hold = true;
    const waiting = Array.from({ length: 3 }, () => policy.resolve("k", source.load, "allow-stale"));
    await settle();
    source.release();
    const forwards = (await Promise.all(waiting)).map((resolution) => resolution.forward);
    expect(forwards).toEqual([
      { held: false, status: 200, collapsed: false, stored: true },
      { held: false, status: 200, collapsed: true, stored: true },
      { held: false, status: 200, collapsed: true, stored: true },
    ]);
  });

  test("a stale copy standing in for a failure went nowhere as far as the answer goes; with CACHE_TTL=0 nothing is stored", async () => {
    const { policy, advance } = setup({ stale: 0 });
    const source = loader([{ kind: "value", value: value("v1") }, new Error("down")]);
    await policy.resolve("k", source.load, "allow-stale");
    advance(1200);
    const standIn = await policy.resolve("k", source.load, "allow-stale");
    expect([standIn.verdict, standIn.forward, standIn.error instanceof Error]).toEqual(["STALE", undefined, true]);

    const off = setup({ ttl: 0 });
    const unstored = await off.policy.resolve("k", loader([{ kind: "value", value: value("v1") }]).load, "allow-stale");
    expect(unstored.forward).toEqual({ held: false, status: 200, collapsed: false, stored: false });
  });
});

describe("createCachePolicy: bounds", () => {
  test("a held value that grows (a compressed form made on demand) is weighed again, and the bound evicts the oldest", async () => {
    let now = 1_000_000;
    const policy = createCachePolicy<Value>({
      limits: { maxEntries: 10, maxBytes: 3 * (slotOverheadBytes + 100) + 50 },
      freshness: createFreshness({ ttlMs: 1000, staleMs: 0, negativeTtlMs: 0 }),
      servesStaleAfter: () => true,
      now: () => now,
    });
    const source = loader(["a", "b", "c"].map((text) => ({ kind: "value" as const, value: { text, negative: false, bytes: 100 } })));
    for (const key of ["a", "b", "c"]) await policy.resolve(key, source.load, "allow-stale");
    expect([policy.size, policy.bytes, policy.evictions, policy.inflight]).toEqual([3, 3 * (slotOverheadBytes + 100), 0, 0]);
    now += 1;
    const c = policy.peekFresh("c", now)!;
    policy.grow(c, 60);
    expect([policy.size, policy.bytes, policy.evictions]).toEqual([2, 2 * (slotOverheadBytes + 100) + 60, 1]);
    expect(policy.peekFresh("a", now)).toBeUndefined();
    expect(c.value.bytes).toBe(160);
  });

  test("a loader that renews a copy it was not given breaks its contract: an error, not a cached answer", async () => {
    const { policy } = setup();
    await expect(policy.resolve("k", async () => ({ kind: "not-modified" }), "allow-stale")).rejects.toThrow("renewed a copy it was not given");
    expect(policy.size).toBe(0);
  });
});

describe("createCachePolicy: CACHE_TTL=0 and clears", () => {
  test("CACHE_TTL=0 with the default stale window stores and serves nothing, but requests arriving together share one load", async () => {
    const { policy } = setup({ ttl: 0, stale: 3_600_000 });
    const source = loader([
      { kind: "value", value: value("v1") },
      { kind: "value", value: value("v2") },
      { kind: "value", value: value("404", true) },
    ]);
    source.gate.hold = true;
    const together = [policy.resolve("k", source.load, "allow-stale"), policy.resolve("k", source.load, "allow-stale")];
    await settle();
    source.release();
    expect((await Promise.all(together)).map((r) => `${r.verdict}:${r.slot.value.text}`)).toEqual(["MISS:v1", "MISS:v1"]);
    source.gate.hold = false;
    expect((await policy.resolve("k", source.load, "allow-stale")).verdict).toBe("MISS");
    expect((await policy.resolve("k", source.load, "allow-stale")).verdict).toBe("MISS");
    expect([policy.size, source.calls.length]).toEqual([0, 3]);
  });

  test("a load in flight when the cache is cleared answers its requests but stores nothing; the next request loads again", async () => {
    const { policy } = setup();
    const source = loader([
      { kind: "value", value: value("before") },
      { kind: "value", value: value("after") },
    ]);
    source.gate.hold = true;
    const inFlight = policy.resolve("k", source.load, "allow-stale");
    await settle();
    policy.clear();
    source.release();
    expect((await inFlight).slot.value.text).toBe("before");
    expect(policy.size).toBe(0);
    source.gate.hold = false;
    const next = await policy.resolve("k", source.load, "allow-stale");
    expect([next.verdict, next.slot.value.text]).toEqual(["MISS", "after"]);
  });
});

/** A replica over a memory tier: its fleet and its policy, wired as the service wires them. */
function replicaOf(
  tier: ReturnType<typeof createMemoryTier<Value>>,
  clock: ReturnType<typeof createManualClock>,
  freshness: ReturnType<typeof createFreshness>,
) {
  const fleet = createFleet<Value>({ store: tier.connect(), freshness, leaseMs: 1000, now: clock.now });
  const policy = createCachePolicy<Value>({ limits: { maxEntries: 100, maxBytes: 1_000_000 }, freshness, servesStaleAfter: () => true, fleet, now: clock.now });
  fleet.onClear(() => policy.clear());
  return { fleet, policy };
}

describe("createCachePolicy with a fleet", () => {
  async function twoReplicas() {
    const clock = createManualClock();
    const tier = createMemoryTier<Value>(clock);
    const freshness = createFreshness({ ttlMs: 1000, staleMs: 5000, negativeTtlMs: 500 });
    const replica = () => replicaOf(tier, clock, freshness);
    const a = replica();
    const b = replica();
    await a.fleet.heartbeat();
    await b.fleet.heartbeat();
    return { clock, tier, a, b };
  }

  test("a page one replica fetched is a hit on the other, which then answers it from its own tier", async () => {
    const { a, b } = await twoReplicas();
    const source = loader([{ kind: "value", value: value("v1") }]);
    expect((await a.policy.resolve("k", source.load, "allow-stale")).verdict).toBe("MISS");
    const shared = await b.policy.resolve("k", source.load, "allow-stale");
    expect([shared.verdict, shared.slot.value.text, b.policy.stats.sharedHits]).toEqual(["HIT", "v1", 1]);
    expect((await b.policy.resolve("k", source.load, "allow-stale")).verdict).toBe("HIT");
    expect(source.calls.length).toBe(1);
  });

  test("two replicas missing one page together cost GitHub one fetch; the waiter keeps the holder's copy", async () => {
    const { clock, a, b } = await twoReplicas();
    const source = loader([{ kind: "value", value: value("v1") }]);
    source.gate.hold = true;
    const first = a.policy.resolve("k", source.load, "allow-stale");
    await clock.settle();
    const second = b.policy.resolve("k", source.load, "allow-stale");
    await clock.advance(50);
    source.release();
    await clock.advance(100);
    expect([(await first).verdict, (await second).verdict]).toEqual(["MISS", "MISS"]);
    expect([source.calls.length, b.policy.stats.coalesced]).toEqual([1, 1]);
    // The waiter knows the holder's copy, not what GitHub answered the holder.
    expect([(await first).forward, (await second).forward]).toEqual([
      { held: false, status: 200, collapsed: false, stored: true },
      { held: false, collapsed: true, stored: true },
    ]);
    expect((await b.policy.resolve("k", source.load, "allow-stale")).verdict).toBe("HIT");
  });

  test("a stale local copy gives way to a newer one another replica stored", async () => {
    const { clock, a, b } = await twoReplicas();
    const source = loader([
      { kind: "value", value: value("v1") },
      { kind: "value", value: value("v2") },
    ]);
    await a.policy.resolve("k", source.load, "allow-stale");
    await b.policy.resolve("k", source.load, "allow-stale");
    await clock.advance(1500);
    expect((await a.policy.resolve("k", source.load, "fresh")).slot.value.text).toBe("v2");
    expect((await b.policy.resolve("k", source.load, "allow-stale")).slot.value.text).toBe("v2");
    expect(source.calls.length).toBe(2);
  });

  test("a clear through one replica empties the other's tier and the shared one", async () => {
    const { a, b } = await twoReplicas();
    const source = loader([
      { kind: "value", value: value("v1") },
      { kind: "value", value: value("v2") },
    ]);
    await a.policy.resolve("k", source.load, "allow-stale");
    await b.policy.resolve("k", source.load, "allow-stale");
    a.policy.clear();
    expect(await a.fleet.clear()).toBe(true);
    expect(b.policy.size).toBe(0);
    const after = await b.policy.resolve("k", source.load, "allow-stale");
    expect([after.verdict, after.slot.value.text]).toEqual(["MISS", "v2"]);
  });

  test("a request whose shared lookup outlasts another's load answers that load's copy instead of loading again", async () => {
    // No lease can be had (a full Redis, a foreign key at the lease's name), so every load fetches.
    const lookups: Array<() => void> = [];
    const fleet: Fleet<Value> = {
      counters: { hits: 0, misses: 0, leaseWaits: { filled: 0, failed: 0, timeout: 0 } },
      lookup: () => new Promise((resolve) => lookups.push(() => resolve(undefined))),
      load: async (_key, _held, fetch) => ({ kind: "fetched", result: await fetch() }),
      clear: async () => false,
      onClear: () => {},
      heartbeat: async () => true,
    };
    const policy = createCachePolicy<Value>({
      limits: { maxEntries: 100, maxBytes: 1_000_000 },
      freshness: createFreshness({ ttlMs: 1000, staleMs: 5000, negativeTtlMs: 500 }),
      servesStaleAfter: () => true,
      fleet,
      now: () => 1_000_000,
    });
    const source = loader([
      { kind: "value", value: value("v1") },
      { kind: "value", value: value("v2") },
    ]);
    const first = policy.resolve("k", source.load, "allow-stale");
    const second = policy.resolve("k", source.load, "allow-stale");
    await settle();
    expect(lookups.length).toBe(2);
    lookups[0]!();
    expect((await first).verdict).toBe("MISS");
    lookups[1]!();
    const late = await second;
    expect([late.verdict, late.slot.value.text, source.calls.length]).toEqual(["HIT", "v1", 1]);
  });

  test("with CACHE_TTL=0 the fleet is never asked", async () => {
    const clock = createManualClock();
    const tier = createMemoryTier<Value>(clock);
    const { fleet, policy } = replicaOf(tier, clock, createFreshness({ ttlMs: 0, staleMs: 5000, negativeTtlMs: 500 }));
    await fleet.heartbeat();
    const source = loader([{ kind: "value", value: value("v1") }]);
    await policy.resolve("k", source.load, "allow-stale");
    expect([tier.size, fleet.counters.hits + fleet.counters.misses]).toEqual([0, 0]);
  });
});

describe("createCachePolicy: requests that bypass the cache, and a low budget", () => {
  test("bypassing requests together share one load, begun after they asked; a load already in flight for others is not theirs", async () => {
    const { policy } = setup();
    const waiting: Array<() => void> = [];
    let loads = 0;
    const load: Loader<Value> = async () => {
      const text = ++loads === 1 ? "cached-miss" : "bypass";
      await new Promise<void>((resolve) => waiting.push(resolve));
      return { kind: "value", value: value(text) };
    };
    const ordinary = policy.resolve("k", load, "allow-stale");
    await settle();
    const bypasses = Array.from({ length: 5 }, () => policy.resolve("k", load, "bypass"));
    await settle();
    for (const resolve of waiting) resolve();
    expect((await ordinary).slot.value.text).toBe("cached-miss");
    expect((await Promise.all(bypasses)).map((r) => `${r.verdict}:${r.slot.value.text}`)).toEqual(Array(5).fill("BYPASS:bypass"));
    expect(loads).toBe(2);
  });

  test("with little of GitHub's budget left, a stale page nobody asks for much is answered stale without a refresh; a popular one is refreshed", async () => {
    let now = 1_000_000;
    let left = 1;
    const policy = createCachePolicy<Value>({
      limits: { maxEntries: 100, maxBytes: 1_000_000 },
      freshness: createFreshness({ ttlMs: 1000, staleMs: 60_000, negativeTtlMs: 0 }, { budgetLeft: () => left, maxTtlMs: 1000 }),
      servesStaleAfter: () => true,
      now: () => now,
    });
    const quiet = loader([{ kind: "value", value: value("q1") }]);
    const popular = loader([
      { kind: "value", value: value("p1") },
      { kind: "value", value: value("p2") },
    ]);
    await policy.resolve("quiet", quiet.load, "allow-stale");
    await policy.resolve("popular", popular.load, "allow-stale");
    for (let i = 0; i < popularAnswers; i++) await policy.resolve("popular", popular.load, "allow-stale");
    now += 1500;
    left = 0.1;
    expect((await policy.resolve("quiet", quiet.load, "allow-stale")).verdict).toBe("STALE");
    expect((await policy.resolve("popular", popular.load, "allow-stale")).verdict).toBe("STALE");
    await settle();
    expect([quiet.calls.length, popular.calls.length]).toEqual([1, 2]);
    expect((await policy.resolve("popular", popular.load, "allow-stale")).slot.value.text).toBe("p2");
  });
});

describe("createCachePolicy: a floor a value brings", () => {
  test("a value asking to stay fresh longer than the TTL (x-poll-interval) is a hit until then, and a 304 keeps the floor", async () => {
    const { policy, advance } = setup();
    const source = loader([{ kind: "value", value: { ...value("v1"), minFreshMs: 3000 } }, { kind: "not-modified" }]);
    await policy.resolve("k", source.load, "fresh");
    advance(2999);
    expect((await policy.resolve("k", source.load, "fresh")).verdict).toBe("HIT");
    advance(1);
    expect((await policy.resolve("k", source.load, "fresh")).verdict).toBe("REVALIDATED");
    advance(2999);
    expect((await policy.resolve("k", source.load, "fresh")).verdict).toBe("HIT");
    expect(source.calls.length).toBe(2);
  });
});
