import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { runLoad, type LoadPlan } from "./engine.ts";
import { judge } from "./report.ts";
import { socketTransport } from "./socket.bun.ts";
import { parseThreshold } from "./threshold.ts";
import { fetchTransport } from "./transport.ts";
import { zipfSampler } from "./zipf.ts";

// Local servers with known behaviour: the generator must report what they do.
let slow: Server<undefined>;
let tagged: Server<undefined>;
let chunked: Server<undefined>;
const seenPaths: string[] = [];

beforeAll(() => {
  slow = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: async () => (await Bun.sleep(20), new Response("ok")) });
  let count = 0;
  tagged = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(request) {
      seenPaths.push(new URL(request.url).pathname);
      count++;
      const status = count % 10 === 0 ? 503 : 200;
      return new Response("x".repeat(100), { status, headers: { "x-cache": count % 4 === 0 ? "MISS" : "HIT" } });
    },
  });
  chunked = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode("first part,"));
            controller.enqueue(new TextEncoder().encode("second part"));
            controller.close();
          },
        }),
      ),
  });
});
afterAll(() => {
  for (const server of [slow, tagged, chunked]) server.stop(true);
});

const plan = (server: Server<undefined>, extra: Partial<LoadPlan> = {}): LoadPlan => ({
  url: new URL(`http://127.0.0.1:${server.port}/`),
  connections: 4,
  zipf: 1,
  warmupMs: 0,
  drainMs: 2000,
  ...extra,
});

describe("runLoad", () => {
  for (const [name, transport] of [["socket", socketTransport], ["fetch", fetchTransport]] as const) {
    test(`a server that waits 20 ms gives p50 ≈ 20 ms (${name})`, async () => {
      const result = await runLoad(plan(slow, { requests: 200 }), transport);
      expect(result.requests).toBe(200);
      expect(result.errors).toBe(0);
      expect(result.latency_ms.p50).toBeGreaterThanOrEqual(19);
      expect(result.latency_ms.p50).toBeLessThan(30);
      expect(result.latency_ms.max).toBeGreaterThanOrEqual(result.latency_ms.p99);
      expect(result.status).toEqual({ "200": 200 });
    });
  }

  test("an open-model rate of 500/s is held within 5 %", async () => {
    const result = await runLoad(plan(tagged, { rate: 500, durationMs: 3000, connections: 8 }), socketTransport);
    expect(result.rps).toBeGreaterThan(475);
    expect(result.rps).toBeLessThan(525);
    expect(Math.abs(result.requests - 1500)).toBeLessThanOrEqual(75);
  });

  test("counts statuses, 5xx as errors, and the X-Cache answers", async () => {
    const result = await runLoad(plan(tagged, { requests: 400 }), socketTransport);
    expect(result.requests).toBe(400);
    expect((result.status["200"] ?? 0) + (result.status["503"] ?? 0)).toBe(400);
    expect(result.errors).toBe(result.status["503"]!);
    expect(result.errors).toBeGreaterThanOrEqual(35);
    expect(result.cache.hit + result.cache.miss).toBe(400);
    expect(result.cache.miss).toBeGreaterThanOrEqual(90);
  });

  test("reads chunked bodies on the raw socket", async () => {
    const result = await runLoad(plan(chunked, { requests: 100 }), socketTransport);
    expect([result.requests, result.errors]).toEqual([100, 0]);
  });

  test("a connection refused is an error, not a hang", async () => {
    const result = await runLoad({ ...plan(slow, { requests: 20 }), url: new URL("http://127.0.0.1:1/") }, socketTransport);
    expect([result.requests, result.errors, result.status.error]).toEqual([20, 20, 20]);
  });

  test("spreads {user} over a zipf population", async () => {
    seenPaths.length = 0;
    await runLoad(plan(tagged, { url: new URL(`http://127.0.0.1:${tagged.port}/{user}`), users: 100, zipf: 1.2, requests: 2000 }), socketTransport);
    const counts = new Map<string, number>();
    for (const path of seenPaths) counts.set(path, (counts.get(path) ?? 0) + 1);
    expect(counts.get("/user-1")!).toBeGreaterThan(counts.get("/user-10") ?? 0);
    expect(counts.get("/user-1")! / 2000).toBeGreaterThan(0.15);
    expect([...counts.keys()].every((path) => /^\/user-\d+$/.test(path))).toBe(true);
  });
});

describe("thresholds", () => {
  test("parse the documented forms and judge a result", () => {
    const result = {
      requests: 1000,
      duration_s: 1,
      rps: 1000,
      errors: 5,
      status: {},
      cache: { hit: 0, miss: 0, stale: 0, revalidated: 0, bypass: 0, none: 0 },
      latency_ms: { p50: 2, p90: 5, p99: 40, p999: 80, max: 90, mean: 3 },
    };
    const verdicts = judge(result, ["p99<50ms", "p50<=1ms", "errors<1%", "rps>2000", "max<0.1s", "p99.9<100ms"].map(parseThreshold));
    expect(verdicts.map((verdict) => verdict.passed)).toEqual([true, false, true, false, true, true]);
  });

  test("reject what they cannot read", () => {
    for (const bad of ["p99<50", "p42<1ms", "errors<1ms", "rps>10%", "latency<1s"]) expect(() => parseThreshold(bad)).toThrow();
  });
});

describe("zipfSampler", () => {
  test("is seeded and skewed toward low ranks", () => {
    const a = zipfSampler(1000, 1);
    const b = zipfSampler(1000, 1);
    const draws = Array.from({ length: 5000 }, () => a());
    expect(draws.slice(0, 20)).toEqual(Array.from({ length: 20 }, () => b()));
    expect(draws.filter((rank) => rank === 0).length).toBeGreaterThan(draws.filter((rank) => rank === 99).length * 10);
  });
});
