import { describe, expect, test } from "bun:test";
import { createRequestPace, defaultMaxPerMinute } from "./request-pace.ts";

function clock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("createRequestPace", () => {
  test("the default is 80% of GitHub's 900 points a minute", () => {
    expect(defaultMaxPerMinute).toBe(720);
  });

  test("counts the requests of a sliding minute and makes the next wait until the oldest leaves it", () => {
    const time = clock();
    const pace = createRequestPace(3, time.now);
    for (const gap of [0, 10_000, 20_000]) {
      time.advance(gap);
      expect(pace.delayMs()).toBe(0);
      pace.sent();
    }
    // Sent at 0, 10 s and 30 s: full until the first is a minute old.
    expect([pace.lastMinute, pace.limit, pace.delayMs()]).toEqual([3, 3, 30_000]);
    time.advance(29_999);
    expect(pace.delayMs()).toBe(1);
    time.advance(1);
    expect([pace.delayMs(), pace.lastMinute]).toEqual([0, 2]);
    pace.sent();
    expect(pace.delayMs()).toBe(10_000);
    time.advance(120_000);
    expect([pace.lastMinute, pace.delayMs()]).toEqual([0, 0]);
  });

  test("wraps around its ring for as long as it runs", () => {
    const time = clock();
    const pace = createRequestPace(2, time.now);
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      delays.push(pace.delayMs());
      time.advance(delays.at(-1)!);
      pace.sent();
      time.advance(1_000);
    }
    expect(delays).toEqual([0, 0, 58_000, 0, 58_000, 0, 58_000]);
    expect(pace.lastMinute).toBe(1);
  });

  test("0 never waits and counts nothing", () => {
    const pace = createRequestPace(0);
    for (let i = 0; i < 1000; i++) pace.sent();
    expect([pace.delayMs(), pace.lastMinute, pace.limit]).toEqual([0, 0, 0]);
  });
});
