import { describe, expect, test } from "bun:test";
import { createFreshness, type StoredCopy } from "../cache/freshness.ts";
import { createManualClock, type ManualClock } from "../testing/manual-clock.ts";
import { createFleet, type Fetched, type LeaseOutcome } from "./fleet.ts";
import { createMemoryTier, type MemoryTier } from "./memory-store.ts";

interface Page {
  negative: boolean;
  text: string;
}

const leaseMs = 1_000;
const freshness = createFreshness({ ttlMs: 10_000, staleMs: 60_000, negativeTtlMs: 5_000 });

/** A fleet of replicas over one memory tier, on one manual clock. */
function fleetOf(count: number) {
  const clock = createManualClock();
  const tier = createMemoryTier<Page>(clock);
  const replicas = Array.from({ length: count }, () => replica(tier, clock));
  return { clock, tier, replicas };
}

function replica(tier: MemoryTier<Page>, clock: ManualClock) {
  const connection = tier.connect();
  const waits: LeaseOutcome[] = [];
  const fleet = createFleet<Page>({ store: connection, freshness, leaseMs, now: clock.now, onLeaseWait: (outcome) => waits.push(outcome) });
  let clears = 0;
  fleet.onClear(() => clears++);
  return { fleet, connection, waits, clears: () => clears };
}

const copyOf = (text: string, at: number): StoredCopy<Page> => ({ value: { negative: false, text }, ...freshness.timeline(at, false)! });

/** A fetch the test finishes when it wants, counting how often it ran. */
function gatedFetch(clock: ManualClock, text: string) {
  let runs = 0;
  let finish: () => void = () => {};
  const fetch = () => {
    runs++;
    return new Promise<Fetched<Page> & { text: string }>((resolve) => {
      finish = () => resolve({ text, shared: copyOf(text, clock.now()) });
    });
  };
  return { fetch, finish: () => finish(), runs: () => runs };
}

const textOf = (load: { kind: "copy"; copy: StoredCopy<Page> } | { kind: "fetched"; result: { text: string } }) =>
  load.kind === "copy" ? `copy:${load.copy.value.text}` : `fetched:${load.result.text}`;

async function started(...replicas: Array<{ fleet: { heartbeat(): Promise<boolean> } }>) {
  for (const { fleet } of replicas) expect(await fleet.heartbeat()).toBe(true);
}

describe("createFleet", () => {
  test("replicas missing one page together cost one fetch: the others take the holder's copy", async () => {
    const { clock, replicas } = fleetOf(3);
    await started(...replicas);
    const source = gatedFetch(clock, "v1");
    const loads = replicas.map(({ fleet }) => fleet.load("k", undefined, source.fetch));
    await clock.settle();
    source.finish();
    await clock.advance(100);
    expect((await Promise.all(loads)).map(textOf)).toEqual(["fetched:v1", "copy:v1", "copy:v1"]);
    expect(source.runs()).toBe(1);
    expect(replicas.flatMap(({ waits }) => waits)).toEqual(["filled", "filled"]);
  });

  test("a copy stored while no message arrives is found by the waiters' next look", async () => {
    const { clock, replicas } = fleetOf(2);
    await started(...replicas);
    replicas[1]!.connection.hearsMessages = false;
    const source = gatedFetch(clock, "v1");
    const holder = replicas[0]!.fleet.load("k", undefined, source.fetch);
    const waiter = replicas[1]!.fleet.load("k", undefined, source.fetch);
    await clock.advance(250);
    source.finish();
    await clock.advance(100);
    expect([textOf(await holder), textOf(await waiter)]).toEqual(["fetched:v1", "copy:v1"]);
  });

  test("a holder that dies (never stores, never gives the lease back) costs the waiter the lease, then it fetches itself", async () => {
    const { clock, replicas } = fleetOf(2);
    await started(...replicas);
    const dead = gatedFetch(clock, "never");
    void replicas[0]!.fleet.load("k", undefined, dead.fetch);
    await clock.settle();
    const own = { runs: 0, at: 0 };
    const waiter = replicas[1]!.fleet.load("k", undefined, async () => {
      own.runs++;
      own.at = clock.now();
      return { text: "v2", shared: copyOf("v2", clock.now()) };
    });
    await clock.advance(leaseMs + 200);
    expect(textOf(await waiter)).toBe("fetched:v2");
    expect(own.runs).toBe(1);
    // It waited for the lease to lapse (plus at most one look), not a moment longer.
    expect(own.at - 1_700_000_000_000).toBeGreaterThanOrEqual(leaseMs);
    expect(own.at - 1_700_000_000_000).toBeLessThanOrEqual(leaseMs + 100);
    expect(replicas[1]!.waits).toEqual(["failed"]);
  });

  test("a copy that arrives after the lease lapsed: the waiter answers with its own fetch, and the late copy corrupts nothing", async () => {
    const { clock, tier, replicas } = fleetOf(3);
    await started(...replicas);
    const slow = gatedFetch(clock, "late");
    const holder = replicas[0]!.fleet.load("k", undefined, slow.fetch);
    await clock.settle();
    const quick = gatedFetch(clock, "own");
    const waiter = replicas[1]!.fleet.load("k", undefined, quick.fetch);
    await clock.advance(leaseMs + 100);
    // The lease lapsed: the waiter fetches, and a third replica arriving now may lease the key anew.
    expect(quick.runs()).toBe(1);
    const third = gatedFetch(clock, "third");
    const latecomer = replicas[2]!.fleet.load("k", undefined, third.fetch);
    await clock.settle();
    expect(third.runs()).toBe(1);
    quick.finish();
    slow.finish();
    await clock.settle();
    // The first holder's release must not free the lease the third replica holds now.
    expect(await replicas[0]!.connection.leaseHeld((await replicas[0]!.connection.epoch())!, "k")).toBe(true);
    third.finish();
    await clock.settle();
    expect([textOf(await holder), textOf(await waiter), textOf(await latecomer)]).toEqual(["fetched:late", "fetched:own", "fetched:third"]);
    expect(["late", "own", "third"]).toContain(tier.peek("k")!.value.text);
  });

  test("a lease that never lapses within the wait ends it at the lease's length: the waiter fetches itself", async () => {
    const { clock, replicas } = fleetOf(2);
    await started(...replicas);
    const stuck = gatedFetch(clock, "stuck");
    void replicas[0]!.fleet.load("k", undefined, stuck.fetch);
    await clock.settle();
    // The holder renews nothing, but its lease outlives the wait when the waiter's clock started just before it.
    const waiter = replicas[1]!.fleet.load("k", undefined, async () => ({ text: "own", shared: copyOf("own", clock.now()) }));
    await clock.advance(leaseMs - 1);
    expect(replicas[1]!.waits).toEqual([]);
    await clock.advance(200);
    expect(textOf(await waiter)).toBe("fetched:own");
    expect(replicas[1]!.waits.length).toBe(1);
  });

  test("a foreign key under a lease's name is not waited on: the load fetches at once", async () => {
    const { clock, tier, replicas } = fleetOf(1);
    await started(...replicas);
    tier.plantForeignLease("k");
    const load = replicas[0]!.fleet.load("k", undefined, async () => ({ text: "own", shared: copyOf("own", clock.now()) }));
    await clock.settle();
    expect(textOf(await load)).toBe("fetched:own");
    expect(replicas[0]!.waits).toEqual([]);
  });

  test("a clear during a wait: the waiter fetches, and nothing fetched before the clear is shared after it", async () => {
    const { clock, tier, replicas } = fleetOf(3);
    await started(...replicas);
    const before = gatedFetch(clock, "before");
    const holder = replicas[0]!.fleet.load("k", undefined, before.fetch);
    await clock.settle();
    const waiting = gatedFetch(clock, "waiter");
    const waiter = replicas[1]!.fleet.load("k", undefined, waiting.fetch);
    await clock.advance(150);
    expect(await replicas[2]!.fleet.clear()).toBe(true);
    expect([replicas[0]!.clears(), replicas[1]!.clears(), replicas[2]!.clears()]).toEqual([2, 2, 1]);
    await clock.advance(150);
    expect(waiting.runs()).toBe(1);
    before.finish();
    waiting.finish();
    await clock.settle();
    expect([textOf(await holder), textOf(await waiter)]).toEqual(["fetched:before", "fetched:waiter"]);
    // Both fetches began before the clear: neither copy is in the new epoch, and the old one is gone.
    expect(tier.peek("k")).toBeUndefined();
    expect(await replicas[2]!.fleet.lookup("k", undefined)).toBeUndefined();
  });

  test("the store going away mid-load: a lease it cannot give is a fetch at once, a wait it cannot finish ends in a fetch", async () => {
    const { clock, replicas } = fleetOf(2);
    await started(...replicas);
    const [a, b] = replicas;
    a!.connection.reachable = false;
    const alone = await a!.fleet.load("k", undefined, async () => ({ text: "alone", shared: copyOf("alone", clock.now()) }));
    expect(textOf(alone)).toBe("fetched:alone");
    expect(await a!.fleet.heartbeat()).toBe(false);
    a!.connection.reachable = true;
    const holderFetch = gatedFetch(clock, "holder");
    const holder = a!.fleet.load("k2", undefined, holderFetch.fetch);
    await clock.settle();
    const waiter = b!.fleet.load("k2", undefined, async () => ({ text: "own", shared: copyOf("own", clock.now()) }));
    await clock.advance(50);
    b!.connection.reachable = false;
    await clock.advance(100);
    expect(textOf(await waiter)).toBe("fetched:own");
    expect(b!.waits).toEqual(["failed"]);
    b!.connection.reachable = true;
    holderFetch.finish();
    await clock.settle();
    expect(textOf(await holder)).toBe("fetched:holder");
    expect((await b!.fleet.lookup("k2", undefined))?.value.text).toBe("holder");
  });

  test("a replica that missed a clear (its messages lost) learns of it from its next heartbeat", async () => {
    const { replicas } = fleetOf(2);
    await started(...replicas);
    const [cut, other] = replicas;
    cut!.connection.hearsMessages = false;
    const clearsBefore = cut!.clears();
    expect(await other!.fleet.clear()).toBe(true);
    expect(cut!.clears()).toBe(clearsBefore);
    expect(await cut!.fleet.heartbeat()).toBe(true);
    expect(cut!.clears()).toBe(clearsBefore + 1);
    // Heartbeats with nothing new clear nothing.
    await cut!.fleet.heartbeat();
    expect(cut!.clears()).toBe(clearsBefore + 1);
  });

  test("a store that lost its data (a Redis restarted empty) counts as cleared: no replica keeps what it held before", async () => {
    const { clock, tier, replicas } = fleetOf(2);
    await started(...replicas);
    tier.plantCopy("k", copyOf("v1", clock.now()), 60_000);
    const before = replicas.map((member) => member.clears());
    tier.lose();
    for (const { fleet } of replicas) await fleet.heartbeat();
    expect(replicas.map((member) => member.clears())).toEqual(before.map((count) => count + 1));
    expect(await replicas[1]!.fleet.lookup("k", undefined)).toBeUndefined();
  });

  test("a copy read from the store is held to this replica's windows, whatever timeline was written", async () => {
    const { clock, tier, replicas } = fleetOf(1);
    await started(...replicas);
    tier.plantCopy("k", { value: { negative: false, text: "pinned" }, storedAt: clock.now(), freshUntil: 9e15, staleUntil: 9e15 }, 60_000);
    const copy = await replicas[0]!.fleet.lookup("k", undefined);
    expect(copy?.freshUntil).toBe(clock.now() + 10_000);
    expect(copy?.staleUntil).toBe(clock.now() + 70_000);
    tier.plantCopy(
      "bad",
      { value: { negative: false, text: "backwards" }, storedAt: clock.now(), freshUntil: clock.now() - 5, staleUntil: clock.now() },
      60_000,
    );
    expect(await replicas[0]!.fleet.lookup("bad", undefined)).toBeUndefined();
  });

  test("a held copy that is no longer fresh asks the store for a newer one at most once a second", async () => {
    const { clock, tier, replicas } = fleetOf(1);
    await started(...replicas);
    const held = copyOf("old", clock.now() - 20_000);
    expect(await replicas[0]!.fleet.lookup("k", held)).toBeUndefined();
    tier.plantCopy("k", copyOf("new", clock.now()), 60_000);
    expect(await replicas[0]!.fleet.lookup("k", held)).toBeUndefined();
    await clock.advance(1_000);
    expect((await replicas[0]!.fleet.lookup("k", held))?.value.text).toBe("new");
    expect(replicas[0]!.fleet.counters).toMatchObject({ hits: 1, misses: 1 });
  });

  test("fresh loads (requests bypassing the cache) never take a copy stored before they began, and share one fetch across the fleet", async () => {
    const { clock, tier, replicas } = fleetOf(2);
    await started(...replicas);
    tier.plantCopy("k", copyOf("cached", clock.now()), 60_000);
    await clock.advance(10);
    const source = gatedFetch(clock, "fetched-now");
    const first = replicas[0]!.fleet.load("k", undefined, source.fetch, { fresh: true });
    await clock.settle();
    const second = replicas[1]!.fleet.load("k", undefined, source.fetch, { fresh: true });
    await clock.advance(50);
    source.finish();
    await clock.advance(100);
    expect([textOf(await first), textOf(await second)]).toEqual(["fetched:fetched-now", "copy:fetched-now"]);
    expect(source.runs()).toBe(1);
  });
});
