import { afterAll, beforeAll, expect, test } from "bun:test";
import { startFakeGithub, type FakeGithub } from "../testing/fake-github.ts";
import { startOtlpReceiver, unusedPort, type OtlpReceiver, type ReceivedSpan } from "../testing/otlp-receiver.ts";
import { startRedis, type TestRedis } from "../testing/redis.ts";
import { startService, type RunningService, type Target } from "../testing/service.ts";
import { describeTargets, freshLogin, timedTestMs, until } from "./stack.ts";

// The binary exports protobuf and Deno JSON, so both encodings are proven end to end on both runtimes' builds.
const protocolOf: Record<Target, string> = { binary: "http/protobuf", deno: "http/json" };
const token = "ghp_tracingTestTokenNeverInASpan";

/** A fake GitHub, an OTLP receiver and the service exporting to it, for one describe block (`env` read at start). */
function useTracedStack(target: Target, env: () => Record<string, string> = () => ({})) {
  const parts: { fake?: FakeGithub; receiver?: OtlpReceiver; service?: RunningService } = {};
  beforeAll(async () => {
    parts.fake = await startFakeGithub({ autoUsers: { prefix: "user", gists: 3 } });
    parts.receiver = await startOtlpReceiver();
    parts.service = await startService({
      target,
      env: {
        GITHUB_API_URL: parts.fake.url,
        GITHUB_TOKEN: token,
        OTEL_EXPORTER_OTLP_ENDPOINT: parts.receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocolOf[target],
        OTEL_EXPORTER_OTLP_HEADERS: "x-scope-orgid=gists-e2e",
        OTEL_SERVICE_NAME: "gists-e2e",
        OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=test",
        OTEL_BSP_SCHEDULE_DELAY: "100",
        ...env(),
      },
    });
  });
  afterAll(async () => {
    await parts.service?.stop();
    await parts.receiver?.close();
    await parts.fake?.close();
  });
  return parts as Required<typeof parts>;
}

const traceparent = (traceId: string, parentId: string, sampled = true) => `00-${traceId}-${parentId}-${sampled ? "01" : "00"}`;
const randomHex = (bytes: number) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
const serverSpanOf = (spans: ReceivedSpan[], requestId: string) =>
  spans.find((span) => span.kind === "SERVER" && span.attributes["gists_api.request_id"] === requestId);

describeTargets("traces", (target) => {
  const stack = useTracedStack(target);

  test(
    "an incoming traceparent is continued by the server span; the GitHub call is its child client span",
    async () => {
      const traceId = randomHex(16);
      const parentId = randomHex(8);
      const login = freshLogin("user");
      const res = await fetch(`${stack.service.url}/${login}`, { headers: { traceparent: traceparent(traceId, parentId), tracestate: "vendor=opaque" } });
      expect(res.status).toBe(200);
      const requestId = res.headers.get("x-request-id")!;
      const spans = await stack.receiver.waitForSpans((span) => span.traceId === traceId && span.kind === "SERVER", 10_000);
      const server = spans[0]!;
      expect(server).toMatchObject({ name: "GET /:username", parentSpanId: parentId, traceState: "vendor=opaque", status: { code: "UNSET" } });
      expect(server.attributes).toMatchObject({
        "http.request.method": "GET",
        "http.route": "/:username",
        "http.response.status_code": 200,
        "gists_api.cache": "MISS",
        "gists_api.request_id": requestId,
      });
      expect(server.resource).toMatchObject({ "service.name": "gists-e2e", "deployment.environment.name": "test" });
      expect(server.scope.name).toBe("gists-api");

      const [client] = await stack.receiver.waitForSpans((span) => span.traceId === traceId && span.kind === "CLIENT", 10_000);
      expect(client).toMatchObject({ name: "GET /users/{username}/gists", parentSpanId: server.spanId, status: { code: "UNSET" } });
      expect(client!.attributes).toMatchObject({ "http.request.method": "GET", "http.response.status_code": 200, "url.template": "/users/{username}/gists" });
      expect(typeof client!.attributes["github.rate_limit.remaining"]).toBe("number");
      // GitHub was asked with the client span as the parent, so an egress proxy's span joins the trace.
      const upstream = stack.fake.requests.find((request) => request.login === login)!;
      expect(upstream.headers.traceparent).toBe(traceparent(traceId, client!.spanId));

      // The token never reaches a span, and the collector got the configured headers.
      expect(JSON.stringify(stack.receiver.spans(), (_key, value) => (typeof value === "bigint" ? String(value) : value))).not.toContain(token);
      expect(stack.receiver.requests().every((request) => request.headers["x-scope-orgid"] === "gists-e2e")).toBe(true);

      // The access line carries the server span's ids.
      const line = await stack.service.waitForLog((entry) => entry.request_id === requestId);
      expect(line).toMatchObject({ trace_id: traceId, span_id: server.spanId });
    },
    timedTestMs,
  );

  test(
    "probes and scrapes are never traced, even with a sampled parent",
    async () => {
      const traceId = randomHex(16);
      for (const path of ["/healthz", "/readyz", "/metrics"]) {
        expect((await fetch(`${stack.service.url}${path}`, { headers: { traceparent: traceparent(traceId, randomHex(8)) } })).status).toBe(200);
      }
      // A request after them, in the same trace, is exported; by then their spans would have been too.
      await fetch(`${stack.service.url}/${freshLogin("user")}`, { headers: { traceparent: traceparent(traceId, randomHex(8)) } });
      await stack.receiver.waitForSpans((span) => span.traceId === traceId && span.kind === "SERVER", 10_000);
      await Bun.sleep(300);
      const names = stack.receiver
        .spans()
        .filter((span) => span.traceId === traceId && span.kind === "SERVER")
        .map((span) => span.name);
      expect(names).toEqual(["GET /:username"]);
    },
    timedTestMs,
  );

  test(
    "a B3 header (Envoy's Zipkin tracer) is continued too",
    async () => {
      const traceId = randomHex(16);
      const parentId = randomHex(8);
      const res = await fetch(`${stack.service.url}/${freshLogin("user")}`, { headers: { b3: `${traceId}-${parentId}-1` } });
      expect(res.status).toBe(200);
      const [server] = await stack.receiver.waitForSpans((span) => span.traceId === traceId && span.kind === "SERVER", 10_000);
      expect(server!.parentSpanId).toBe(parentId);
    },
    timedTestMs,
  );

  test(
    "a malformed traceparent starts a new trace and changes nothing in the answer",
    async () => {
      const login = freshLogin("user");
      await (await fetch(`${stack.service.url}/${login}`)).arrayBuffer();
      const plain = await fetch(`${stack.service.url}/${login}`);
      const bad = await fetch(`${stack.service.url}/${login}`, { headers: { traceparent: "00-not-a-trace-01", tracestate: "=broken" } });
      expect([plain.status, bad.status]).toEqual([200, 200]);
      expect(await bad.text()).toBe(await plain.text());
      const requestId = bad.headers.get("x-request-id")!;
      await stack.receiver.waitForSpans((span) => span.attributes["gists_api.request_id"] === requestId, 10_000);
      const server = serverSpanOf(stack.receiver.spans(), requestId)!;
      expect(server.parentSpanId).toBe("");
      expect(server.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(server.attributes["gists_api.cache"]).toBe("HIT");
    },
    timedTestMs,
  );

  test(
    "concurrent misses: the waiters' spans say they waited for the fetch in flight; GitHub failing marks spans failed",
    async () => {
      const login = freshLogin("user");
      stack.fake.setFault(login, { kind: "latency", ms: 1000, times: 1 });
      const answers = await Promise.all(Array.from({ length: 4 }, () => fetch(`${stack.service.url}/${login}`)));
      expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 200]);
      const ids = answers.map((res) => res.headers.get("x-request-id")!);
      await stack.receiver.waitForSpans((span) => ids.includes(String(span.attributes["gists_api.request_id"])), 10_000);
      await until(() => ids.every((id) => serverSpanOf(stack.receiver.spans(), id)), 10_000, "four server spans");
      const waits = ids.map((id) => serverSpanOf(stack.receiver.spans(), id)!.events.some((event) => event.name === "waited for a fetch in flight"));
      expect(waits.filter(Boolean)).toHaveLength(3);

      const failing = freshLogin("user");
      stack.fake.setFault(failing, { kind: "status", status: 500 });
      const failed = await fetch(`${stack.service.url}/${failing}`);
      stack.fake.setFault(failing, null);
      expect(failed.status).toBe(502);
      const failedId = failed.headers.get("x-request-id")!;
      await until(() => serverSpanOf(stack.receiver.spans(), failedId) !== undefined, 10_000, "the failed request's span");
      const server = serverSpanOf(stack.receiver.spans(), failedId)!;
      expect(server.status.code).toBe("ERROR");
      const clients = stack.receiver.spans().filter((span) => span.parentSpanId === server.spanId && span.kind === "CLIENT");
      // The first attempt and its retries (UPSTREAM_RETRIES, 2), each a failed client span numbered by resend count.
      expect(
        clients.map((span): unknown[] => [span.status.code, span.attributes["http.response.status_code"], span.attributes["http.request.resend_count"]]),
      ).toEqual([
        ["ERROR", 500, undefined],
        ["ERROR", 500, 1],
        ["ERROR", 500, 2],
      ]);
    },
    timedTestMs,
  );
});

describeTargets("trace events", (target) => {
  const stack = useTracedStack(target, () => ({
    UPSTREAM_MAX_CONCURRENCY: "1",
    UPSTREAM_RETRIES: "0",
    CACHE_TTL: "1",
    CACHE_STALE_TTL: "60",
    BREAKER_THRESHOLD: "1",
    BREAKER_COOLDOWN_MS: "300",
  }));
  const eventsOf = async (res: Response) => {
    const requestId = res.headers.get("x-request-id")!;
    await until(() => serverSpanOf(stack.receiver.spans(), requestId) !== undefined, 10_000, `the span of ${requestId}`);
    return serverSpanOf(stack.receiver.spans(), requestId)!.events;
  };

  test(
    "a request queued behind the upstream limit says how long it waited",
    async () => {
      const [first, second] = [freshLogin("user"), freshLogin("user")];
      stack.fake.setFault(first, { kind: "latency", ms: 1500, times: 1 });
      const slow = fetch(`${stack.service.url}/${first}`);
      await until(() => stack.fake.requests.some((request) => request.login === first), 5_000, "the first fetch");
      const queued = await fetch(`${stack.service.url}/${second}`);
      expect([(await slow).status, queued.status]).toEqual([200, 200]);
      const [event] = (await eventsOf(queued)).filter((candidate) => candidate.name === "queued at the upstream limit");
      expect(event!.attributes["gists_api.wait_ms"]).toBeGreaterThan(0);
    },
    timedTestMs,
  );

  test(
    "a stale answer says so",
    async () => {
      const login = freshLogin("user");
      await (await fetch(`${stack.service.url}/${login}`)).arrayBuffer();
      await Bun.sleep(1_100);
      const stale = await fetch(`${stack.service.url}/${login}`);
      expect(stale.headers.get("x-cache")).toBe("STALE");
      expect((await eventsOf(stale)).map((event) => event.name)).toContain("answered stale");
    },
    timedTestMs,
  );

  test(
    "the request whose failure opened the circuit breaker carries the event",
    async () => {
      const login = freshLogin("user");
      stack.fake.setFault(login, { kind: "status", status: 500, times: 1 });
      const failed = await fetch(`${stack.service.url}/${login}`);
      expect(failed.status).toBe(502);
      expect((await eventsOf(failed)).map((event) => event.name)).toContain("circuit breaker opened");
      // The cooldown passes and GitHub answers again, for whatever runs next.
      await until(async () => (await fetch(`${stack.service.url}/${freshLogin("user")}`)).status === 200, 5_000, "the breaker to close");
    },
    timedTestMs,
  );
});

describeTargets("traces with the shared tier", (target) => {
  let redis: TestRedis | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  const stack = useTracedStack(target, () => ({ REDIS_URL: redis!.url }));

  test(
    "a miss shows its Redis commands as client spans of the request, and never a key",
    async () => {
      const traceId = randomHex(16);
      const login = freshLogin("user");
      const res = await fetch(`${stack.service.url}/${login}`, { headers: { traceparent: traceparent(traceId, randomHex(8)) } });
      expect(res.status).toBe(200);
      const [server] = await stack.receiver.waitForSpans((span) => span.traceId === traceId && span.kind === "SERVER", 10_000);
      await until(() => stack.receiver.spans().filter((span) => span.traceId === traceId && span.name.startsWith("redis ")).length >= 3, 10_000, "Redis spans");
      const redisSpans = stack.receiver.spans().filter((span) => span.traceId === traceId && span.name.startsWith("redis "));
      // Read the shared tier, take the lease, read again under it, store the page (release and publish follow).
      expect(redisSpans.map((span) => span.name)).toEqual(expect.arrayContaining(["redis get", "redis lease", "redis set"]));
      for (const span of redisSpans) {
        expect(span).toMatchObject({ kind: "CLIENT", parentSpanId: server!.spanId });
        expect(span.attributes).toMatchObject({ "db.system.name": "redis", "server.address": "127.0.0.1" });
        expect(JSON.stringify(span.attributes)).not.toContain(login);
      }
    },
    timedTestMs,
  );
});

describeTargets("traces sampled at ratio 0", (target) => {
  const stack = useTracedStack(target, () => ({ OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" }));

  test(
    "no span for an unsampled request, a cached hit answered before routing gets one only when its parent is sampled",
    async () => {
      const login = freshLogin("user");
      const unsampled = [await fetch(`${stack.service.url}/${login}`), await fetch(`${stack.service.url}/${login}`)];
      expect(unsampled.map((res) => res.headers.get("x-cache"))).toEqual(["MISS", "HIT"]);
      const notSampled = await fetch(`${stack.service.url}/${login}`, { headers: { traceparent: traceparent(randomHex(16), randomHex(8), false) } });
      const traceId = randomHex(16);
      const sampled = await fetch(`${stack.service.url}/${login}`, { headers: { traceparent: traceparent(traceId, randomHex(8)) } });
      expect(sampled.headers.get("x-cache")).toBe("HIT");
      const [server] = await stack.receiver.waitForSpans((span) => span.traceId === traceId, 10_000);
      expect(server!.attributes["gists_api.cache"]).toBe("HIT");
      // Spans leave in batches every 100 ms: the one sampled request's batch holds everything sent before it.
      const requestIds = new Set(stack.receiver.spans().map((span) => span.attributes["gists_api.request_id"]));
      for (const res of [...unsampled, notSampled]) expect(requestIds.has(res.headers.get("x-request-id")!)).toBe(false);
      expect(stack.receiver.spans().filter((span) => span.kind === "SERVER")).toHaveLength(1);
      const line = await stack.service.waitForLog((entry) => entry.request_id === unsampled[1]!.headers.get("x-request-id"));
      expect(line.trace_id).toBeUndefined();
    },
    timedTestMs,
  );
});

describeTargets("a collector that is unreachable or hangs", (target) => {
  let fake: FakeGithub | undefined;
  beforeAll(async () => {
    fake = await startFakeGithub({ autoUsers: { prefix: "user", gists: 3 } });
  });
  afterAll(async () => {
    await fake?.close();
  });

  test(
    "an unreachable collector costs no request an error, and the log says so once",
    async () => {
      const service = await startService({
        target,
        env: {
          GITHUB_API_URL: fake!.url,
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await unusedPort()}`,
          OTEL_EXPORTER_OTLP_TIMEOUT: "1000",
          OTEL_BSP_SCHEDULE_DELAY: "50",
        },
      });
      try {
        const statuses: number[] = [];
        for (let round = 0; round < 20; round++) {
          const answers = await Promise.all(Array.from({ length: 10 }, (_, index) => fetch(`${service.url}/user-${index}`)));
          statuses.push(...answers.map((res) => res.status));
          await Bun.sleep(20);
        }
        expect(new Set(statuses)).toEqual(new Set([200]));
        await service.waitForLog((line) => line.msg === "trace export failing", 10_000);
        expect(service.logs().filter((line) => line.msg === "trace export failing")).toHaveLength(1);
        expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
      } finally {
        await service.stop();
      }
    },
    timedTestMs,
  );

  test("a hanging collector: spans beyond the bounded queue are dropped, not kept, and answers do not wait", async () => {
    const receiver = await startOtlpReceiver({ mode: { kind: "hang", ms: 60_000 } });
    const service = await startService({
      target,
      env: {
        GITHUB_API_URL: fake!.url,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_TIMEOUT: "1500",
        OTEL_BSP_SCHEDULE_DELAY: "50",
        OTEL_BSP_MAX_QUEUE_SIZE: "100",
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "50",
      },
    });
    try {
      await fetch(`${service.url}/user-hang`);
      // While the first export hangs: 1,000 sampled requests, each a span.
      await until(() => receiver.requests().length > 0, 10_000, "the first export");
      const statuses: number[] = [];
      for (let round = 0; round < 50; round++) {
        const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${service.url}/user-hang`)));
        statuses.push(...answers.map((res) => res.status));
      }
      expect(statuses.filter((status) => status !== 200)).toEqual([]);
      receiver.setMode({ kind: "accept" });
      // The hanging export times out; what is left is at most the queue, and the rest was dropped.
      await until(() => receiver.spans().length > 0, 15_000, "spans after the collector recovered");
      await Bun.sleep(1_000);
      const kept = receiver.spans().filter((span) => span.kind === "SERVER").length;
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThanOrEqual(100 + 50);
    } finally {
      await service.stop();
      await receiver.close();
    }
  }, 40_000);
});
