import { describe, expect, test } from "bun:test";
import { createMemoryPacer } from "./memory-pacer.ts";

/** A pacer on a hand-driven clock: `advance` runs the timers that come due. */
function pacerOnClock(everyBytes: number, idleMs: number) {
  let clock = 0;
  let collections = 0;
  const timers: Array<{ at: number; run: () => void }> = [];
  const pacer = createMemoryPacer(everyBytes, () => collections++, {
    ms: idleMs,
    now: () => clock,
    schedule: (run, ms) => void timers.push({ at: clock + ms, run }),
  });
  const advance = (ms: number) => {
    const until = clock + ms;
    for (let due = timers.sort((a, b) => a.at - b.at)[0]; due && due.at <= until; due = timers.sort((a, b) => a.at - b.at)[0]) {
      timers.shift();
      clock = due.at;
      due.run();
    }
    clock = until;
  };
  return { pacer, advance, collections: () => collections, timers: () => timers.length };
}

describe("memory pacer", () => {
  test("collects after every everyBytes of upstream bodies", () => {
    const { pacer, collections } = pacerOnClock(100, 1000);
    for (let i = 0; i < 10; i++) pacer.received(30);
    expect(collections()).toBe(2);
  });

  test("collects once more when bodies stop arriving, and not again while nothing comes", () => {
    const { pacer, advance, collections, timers } = pacerOnClock(1000, 1000);
    pacer.received(10);
    advance(500);
    pacer.received(10);
    advance(900);
    expect(collections()).toBe(0);
    advance(200);
    expect(collections()).toBe(1);
    advance(10_000);
    expect([collections(), timers()]).toEqual([1, 0]);
  });

  test("a steady stream of fills keeps one timer, and the byte bound does the collecting", () => {
    const { pacer, advance, collections, timers } = pacerOnClock(100, 1000);
    for (let i = 0; i < 50; i++) {
      pacer.received(10);
      advance(100);
      expect(timers()).toBeLessThanOrEqual(1);
    }
    expect(collections()).toBe(5);
  });

  test("no idle collection when the last byte-bound collection left nothing new", () => {
    const { pacer, advance, collections } = pacerOnClock(100, 1000);
    pacer.received(100);
    expect(collections()).toBe(1);
    advance(5_000);
    expect(collections()).toBe(1);
  });
});
