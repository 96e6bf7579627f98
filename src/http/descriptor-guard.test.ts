import { describe, expect, test } from "bun:test";
import { createDescriptorGuard, procDescriptorCount, type PressureEvent } from "./descriptor-guard.ts";

describe("createDescriptorGuard", () => {
  test("closes idle connections only past the threshold, and reports each episode once at its start and end", () => {
    let open = 100;
    const closes: number[] = [];
    const events: PressureEvent[] = [];
    const guard = createDescriptorGuard({
      count: { limit: 256, open: () => open },
      closeIdle: () => (closes.push(open), 40),
      threshold: 0.9,
      onPressure: (event) => events.push(event),
    });
    guard.check();
    open = 230;
    guard.check();
    open = 256;
    guard.check();
    guard.check();
    open = 120;
    guard.check();
    guard.check();
    expect(closes).toEqual([256, 256]);
    expect(events).toEqual([
      { state: "started", open: 256, limit: 256, closed: 40 },
      { state: "ended", open: 120, limit: 256, closed: 80 },
    ]);
  });
});

describe("procDescriptorCount", () => {
  test.skipIf(process.platform !== "linux")("reads the soft limit and counts this process's descriptors", () => {
    const count = procDescriptorCount()!;
    expect(count.limit).toBeGreaterThan(0);
    const before = count.open();
    expect(before).toBeGreaterThan(2);
    expect(before).toBeLessThanOrEqual(count.limit);
  });
});
