import { describe, expect, test } from "bun:test";
import { createCachePolicy, type LoadOutcome, type Loader } from "./policy.ts";

interface Value {
  negative: boolean;
  bytes: number;
  text: string;
}

const value = (text: string, negative = false): Value => ({ text, negative, bytes: text.length });

function setup(overrides: { ttl?: number; stale?: number } = {}) {
  let now = 1_000_000;
  const backgroundErrors: unknown[] = [];
  const policy = createCachePolicy<Value>({
    limits: { maxEntries: 100, maxBytes: 1_000_000 },
    ttlMs: (v) => (v.negative ? 500 : (overrides.ttl ?? 1000)),
    staleMs: (v) => (v.negative ? 0 : (overrides.stale ?? 5000)),
    servesStaleAfter: (error) => !(error instanceof Error && error.message === "gone"),
    refreshBackoffMs: 2000,
    onBackgroundError: (_key, error) => backgroundErrors.push(error),
    now: () => now,
  });
  return { policy, advance: (ms: number) => (now += ms), backgroundErrors };
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
    expect((await policy.resolve("k", source.load, "serve-stale")).verdict).toBe("MISS");
    advance(999);
    const hit = await policy.resolve("k", source.load, "serve-stale");
    expect([hit.verdict, hit.slot.value.text]).toEqual(["HIT", "v1"]);
    expect(source.calls).toEqual([undefined]);
    expect(policy.stats).toMatchObject({ hits: 1, misses: 1 });
  });

  test("concurrent misses share one load, and its error", async () => {
    const { policy } = setup();
    const source = loader([new Error("boom")]);
    source.gate.hold = true;
    const waiting = Array.from({ length: 10 }, () => policy.resolve("k", source.load, "serve-stale"));
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
    await policy.resolve("k", source.load, "serve-stale");
    advance(1500);
    source.gate.hold = true;
    const stale = await Promise.all([1, 2, 3].map(() => policy.resolve("k", source.load, "serve-stale")));
    expect(stale.map((r) => `${r.verdict}:${r.slot.value.text}`)).toEqual(["STALE:v1", "STALE:v1", "STALE:v1"]);
    expect(source.calls).toEqual([undefined, "v1"]);
    source.release();
    await settle();
    const fresh = await policy.resolve("k", source.load, "serve-stale");
    expect([fresh.verdict, fresh.slot.value.text]).toEqual(["HIT", "v2"]);
    expect(policy.stats.staleServed).toBe(3);
  });

  test("a failed background refresh keeps the stale copy and waits before trying again", async () => {
    const { policy, advance, backgroundErrors } = setup();
    const source = loader([{ kind: "value", value: value("v1") }, new Error("down"), { kind: "value", value: value("v2") }]);
    await policy.resolve("k", source.load, "serve-stale");
    advance(1500);
    expect((await policy.resolve("k", source.load, "serve-stale")).verdict).toBe("STALE");
    await settle();
    expect(backgroundErrors.length).toBe(1);
    expect((await policy.resolve("k", source.load, "serve-stale")).verdict).toBe("STALE");
    expect(source.calls.length).toBe(2);
    advance(2000);
    await policy.resolve("k", source.load, "serve-stale");
    await settle();
    expect(source.calls.length).toBe(3);
    expect((await policy.resolve("k", source.load, "serve-stale")).slot.value.text).toBe("v2");
  });

  test("'not modified' renews the held value without replacing it", async () => {
    const { policy, advance } = setup({ stale: 0 });
    const source = loader([{ kind: "value", value: value("v1") }, { kind: "not-modified" }]);
    const first = await policy.resolve("k", source.load, "serve-stale");
    advance(1200);
    const renewed = await policy.resolve("k", source.load, "serve-stale");
    expect(renewed.verdict).toBe("REVALIDATED");
    expect(renewed.slot.value).toBe(first.slot.value);
    expect(renewed.slot.freshUntil).toBe(first.slot.freshUntil + 1200);
    expect(source.calls).toEqual([undefined, "v1"]);
    expect(policy.stats.revalidated).toBe(1);
  });

  test("past the stale window a failure is answered by the old copy (stale-if-error)", async () => {
    const { policy, advance } = setup({ stale: 0 });
    const source = loader([{ kind: "value", value: value("v1") }, new Error("down")]);
    await policy.resolve("k", source.load, "serve-stale");
    advance(10_000);
    const answer = await policy.resolve("k", source.load, "serve-stale");
    expect([answer.verdict, answer.slot.value.text]).toEqual(["STALE", "v1"]);
    expect((answer.error as Error).message).toBe("down");
  });

  test("an error the copy must not hide is thrown, and negative values never stand in", async () => {
    const { policy, advance } = setup({ stale: 0 });
    const gone = loader([{ kind: "value", value: value("v1") }, new Error("gone")]);
    await policy.resolve("k", gone.load, "serve-stale");
    advance(10_000);
    await expect(policy.resolve("k", gone.load, "serve-stale")).rejects.toThrow("gone");

    const negative = loader([{ kind: "value", value: value("404", true) }, new Error("down")]);
    await policy.resolve("n", negative.load, "serve-stale");
    advance(600);
    await expect(policy.resolve("n", negative.load, "serve-stale")).rejects.toThrow("down");
  });

  test("negative values live for their own TTL", async () => {
    const { policy, advance } = setup();
    const source = loader([
      { kind: "value", value: value("404", true) },
      { kind: "value", value: value("v1") },
    ]);
    await policy.resolve("k", source.load, "serve-stale");
    advance(499);
    expect((await policy.resolve("k", source.load, "serve-stale")).verdict).toBe("HIT");
    advance(1);
    expect((await policy.resolve("k", source.load, "serve-stale")).verdict).toBe("MISS");
  });

  test("bypass always loads and stores what it got", async () => {
    const { policy } = setup();
    const source = loader([
      { kind: "value", value: value("v1") },
      { kind: "value", value: value("v2") },
    ]);
    await policy.resolve("k", source.load, "serve-stale");
    const bypass = await policy.resolve("k", source.load, "bypass");
    expect([bypass.verdict, bypass.slot.value.text]).toEqual(["BYPASS", "v2"]);
    expect(policy.peekFresh("k")?.value.text).toBe("v2");
  });

  test("revalidate mode refreshes a stale copy before answering", async () => {
    const { policy, advance } = setup();
    const source = loader([{ kind: "value", value: value("v1") }, { kind: "not-modified" }]);
    await policy.resolve("k", source.load, "serve-stale");
    advance(1500);
    expect((await policy.resolve("k", source.load, "revalidate")).verdict).toBe("REVALIDATED");
  });

  test("a TTL and stale window of zero stores nothing", async () => {
    const { policy } = setup({ ttl: 0, stale: 0 });
    const source = loader([
      { kind: "value", value: value("v1") },
      { kind: "value", value: value("v2") },
    ]);
    await policy.resolve("k", source.load, "serve-stale");
    expect(policy.size).toBe(0);
    expect((await policy.resolve("k", source.load, "serve-stale")).verdict).toBe("MISS");
  });
});
