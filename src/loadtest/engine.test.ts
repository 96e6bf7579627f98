import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { runLoad, type LoadPlan } from "./engine.ts";
import { failureReason } from "./failure.ts";
import { latencyHistogram, latencySummary } from "./latency.ts";
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
  for (const [name, transport] of [
    ["socket", socketTransport],
    ["fetch", fetchTransport],
  ] as const) {
    test(`a server that waits 20 ms gives p50 ≈ 20 ms (${name})`, async () => {
      const result = await runLoad(plan(slow, { requests: 200 }), transport);
      expect(result.requests).toBe(200);
      expect(result.errors).toBe(0);
      expect(result.latency_ms.p50).toBeGreaterThanOrEqual(19);
      // The lower bound is the point (the wait is measured); the upper one leaves room for a busy machine.
      expect(result.latency_ms.p50).toBeLessThan(50);
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

  for (const [name, transport] of [
    ["socket", socketTransport],
    ["fetch", fetchTransport],
  ] as const) {
    test(`a refused port costs one attempt per connection, with the reason (${name})`, async () => {
      const result = await runLoad({ ...plan(slow, { durationMs: 60_000 }), url: new URL("http://127.0.0.1:1/") }, transport);
      expect([result.requests, result.errors, result.status]).toEqual([4, 4, { error: 4 }]);
      expect(result.failures).toEqual({ "connection refused": 4 });
    });
  }

  test("an unresolvable host is named as such", async () => {
    const result = await runLoad({ ...plan(slow, { durationMs: 60_000 }), url: new URL("http://no-such-host.invalid:8080/") }, socketTransport);
    expect(result.failures).toEqual({ "host not found": 4 });
  });

  test("a target that goes away mid-run is retried with backoff, not in a spin", async () => {
    const dying = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok") });
    const stopped = Bun.sleep(300).then(() => dying.stop(true));
    const result = await runLoad(plan(dying, { durationMs: 1500, connections: 2 }), socketTransport);
    await stopped;
    expect(result.status["200"]).toBeGreaterThan(0);
    // Two connections backing off from 50 ms up to 1 s make at most a few dozen attempts in 1.2 s.
    expect(result.failures["connection refused"]).toBeGreaterThan(0);
    expect(result.failures["connection refused"]).toBeLessThan(100);
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
      failures: {},
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

describe("latencySummary", () => {
  test("no percentile is above the largest latency recorded", () => {
    const histogram = latencyHistogram();
    // 37.51 ms falls in a bucket whose top is higher: the raw 99.9th percentile would exceed the max.
    for (let i = 0; i < 1000; i++) histogram.recordValue(i < 990 ? 1000 : 37_510);
    expect(histogram.getValueAtPercentile(99.9)).toBeGreaterThan(37_510);
    const latency = latencySummary(histogram);
    expect(latency.max).toBe(37.51);
    for (const value of [latency.p50, latency.p90, latency.p99, latency.p999, latency.mean]) expect(value).toBeLessThanOrEqual(latency.max);
  });
});

describe("failureReason", () => {
  test("names what Bun and Deno report", () => {
    expect(failureReason(Object.assign(new Error("Failed to connect"), { code: "ECONNREFUSED" }))).toBe("connection refused");
    expect(failureReason(Object.assign(new Error("getaddrinfo ENOTFOUND x.invalid"), { code: "ENOTFOUND" }))).toBe("host not found");
    const deno = (os: string) => new TypeError("fetch failed", { cause: new Error(`error sending request: client error (Connect): ${os}`) });
    expect(failureReason(deno("tcp connect error: Connection refused (os error 111)"))).toBe("connection refused");
    expect(failureReason(deno("dns error: failed to lookup address information: Name or service not known"))).toBe("host not found");
    expect(failureReason(new Error("something odd\nmore"))).toBe("something odd");
  });
});

describe("the end of a run", () => {
  test("leaves no timer behind: the process exits when the run is over", async () => {
    const engine = new URL("./engine.ts", import.meta.url).pathname;
    const socket = new URL("./socket.bun.ts", import.meta.url).pathname;
    const script = `
      import { runLoad } from ${JSON.stringify(engine)};
      import { socketTransport } from ${JSON.stringify(socket)};
      const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok") });
      const result = await runLoad({ url: new URL("http://127.0.0.1:" + server.port + "/"), connections: 2, durationMs: 200, zipf: 1, warmupMs: 0, drainMs: 600000 }, socketTransport);
      server.stop(true);
      console.log(result.errors);`;
    // A drain timer left pending would hold the process for ten minutes, far past this test's timeout.
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
    expect(await child.exited).toBe(0);
    expect((await new Response(child.stdout).text()).trim()).toBe("0");
  }, 60_000);
});

describe("the raw socket reads answers as servers write them", () => {
  test("any header case, a body split over writes, and Connection: close", async () => {
    let served = 0;
    const raw = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket) {
          served++;
          const body = "y".repeat(20_000);
          const close = served % 3 === 0;
          const head = `HTTP/1.1 201 Created\r\nCONTENT-LENGTH: ${body.length}\r\nx-CaChE:  hit \r\nServer: raw\r\n${close ? "connection: Close\r\n" : ""}\r\n`;
          // The head and part of the body, then the rest a moment later: the reader must wait for it all.
          socket.write(head + body.slice(0, 5000));
          setTimeout(() => (socket.write(body.slice(5000)), close && socket.end()), 2);
        },
      },
    });
    try {
      const result = await runLoad(
        { url: new URL(`http://127.0.0.1:${raw.port}/`), connections: 3, requests: 60, zipf: 1, warmupMs: 0, drainMs: 2000 },
        socketTransport,
      );
      expect([result.requests, result.errors, result.status, result.cache.hit]).toEqual([60, 0, { "201": 60 }, 60]);
    } finally {
      raw.stop(true);
    }
  });

  test("a request larger than the socket takes at once is sent whole", async () => {
    const crlf2 = Buffer.from("\r\n\r\n");
    const received: number[] = [];
    const raw = Bun.listen<{ parts: Buffer[] }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(socket) {
          socket.data = { parts: [] };
        },
        data(socket, chunk) {
          socket.data.parts.push(chunk);
          // Only the end of the request is looked for, so a long one costs no repeated search.
          if (chunk.length < 4 || chunk.subarray(-4).compare(crlf2) !== 0) return;
          received.push(socket.data.parts.reduce((sum, part) => sum + part.length, 0));
          socket.data.parts = [];
          socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        },
      },
    });
    try {
      // Tens of megabytes fill the kernel's buffers on loopback: the write takes part, the rest goes as it drains.
      const path = `/?q=${"a".repeat(48 * 1024 * 1024)}`;
      const result = await runLoad(
        { url: new URL(`http://127.0.0.1:${raw.port}${path}`), connections: 1, requests: 2, zipf: 1, warmupMs: 0, drainMs: 5000 },
        socketTransport,
      );
      expect([result.requests, result.errors, result.status]).toEqual([2, 0, { "200": 2 }]);
      expect(received.length).toBe(2);
      expect(received[0]).toBeGreaterThan(path.length);
    } finally {
      raw.stop(true);
    }
  }, 30_000);
});
