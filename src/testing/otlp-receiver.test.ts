import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { gzipSync } from "node:zlib";
import { startOtlpReceiver, unusedPort, type OtlpReceiver, type ReceivedSpan } from "./otlp-receiver.ts";

type Compression = NonNullable<NonNullable<ConstructorParameters<typeof ProtoExporter>[0]>["compression"]>;
const gzip = "gzip" as Compression;

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());

// Each test below starts from a healthy, empty receiver.
function _fresh(): void {
  receiver.setMode({ kind: "accept" });
  receiver.clear();
}

describe("spans exported by the official OTel SDK", () => {
  // Every exporter sees the same spans, so each variant must decode to exactly what the SDK recorded.
  const variants = [
    {
      label: "protobuf",
      contentType: "application/x-protobuf",
      encoding: "",
      path: "/v1/traces",
      make: (url: string) => new ProtoExporter({ url, headers: { "x-tenant": "acme" } }),
    },
    {
      label: "protobuf gzip",
      contentType: "application/x-protobuf",
      encoding: "gzip",
      path: "/v1/traces",
      make: (url: string) => new ProtoExporter({ url, compression: gzip }),
    },
    {
      label: "json",
      contentType: "application/json",
      encoding: "",
      path: "/v1/traces",
      make: (url: string) => new JsonExporter({ url, headers: { "x-tenant": "acme" } }),
    },
    {
      label: "json gzip, custom path",
      contentType: "application/json",
      encoding: "gzip",
      path: "/custom/traces",
      make: (url: string) => new JsonExporter({ url: url.replace("/v1/traces", "/custom/traces"), compression: gzip }),
    },
  ];
  let recorded: ReadableSpan[];

  beforeAll(async () => {
    receiver.clear();
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": "receiver-test", "deployment.environment.name": "test" }),
      spanProcessors: [new SimpleSpanProcessor(memory), ...variants.map((v) => new SimpleSpanProcessor(v.make(receiver.tracesUrl)))],
    });
    const tracer = provider.getTracer("receiver-test-scope", "0.1.0");
    const server = tracer.startSpan("GET /:username", { kind: SpanKind.SERVER, attributes: { "http.route": "/:username" } });
    const client = tracer.startSpan("GET", { kind: SpanKind.CLIENT }, trace.setSpan(context.active(), server));
    client.setAttributes({
      text: "octocat",
      int: 42,
      negative: -7,
      double: 1.5,
      yes: true,
      no: false,
      texts: ["a", "b"],
      ints: [1, 2, 3],
      doubles: [0.5, 2.25],
      flags: [true, false],
    });
    client.addEvent("retry", { "retry.number": 1, reason: "503" });
    client.addEvent("no attributes");
    client.setStatus({ code: SpanStatusCode.ERROR, message: "GitHub answered 503" });
    client.end();
    server.setStatus({ code: SpanStatusCode.OK });
    server.end();
    await provider.forceFlush();
    // Read before shutdown: shutting the in-memory exporter down empties it.
    recorded = memory.getFinishedSpans();
    await provider.shutdown();
    expect(recorded).toHaveLength(2);
  });

  test.each(variants)("$label: every field decodes as the SDK recorded it", async (variant) => {
    await receiver.waitForSpans((s) => s.name === "GET /:username");
    const requests = receiver
      .requests()
      .filter((r) => r.contentType === variant.contentType && r.contentEncoding === variant.encoding && r.path === variant.path);
    expect(requests.map((r) => r.status)).toEqual([200, 200]);
    // One request per span, sent in parallel: arrival order is not the SDK's order.
    const bySpanId = (a: ReceivedSpan, b: ReceivedSpan) => a.spanId.localeCompare(b.spanId);
    expect(requests.flatMap((r) => r.spans).sort(bySpanId)).toEqual(recorded.map(_expected).sort(bySpanId));
  });

  test("the child's parent is the server span, in the same trace", () => {
    const client = receiver.spans().find((s) => s.kind === "CLIENT");
    const server = receiver.spans().find((s) => s.kind === "SERVER");
    expect(client!.parentSpanId).toBe(server!.spanId);
    expect(client!.traceId).toBe(server!.traceId);
    expect(server!.parentSpanId).toBe("");
    expect(client!.attributes.int).toBe(42);
    expect(client!.status).toEqual({ code: "ERROR", message: "GitHub answered 503" });
  });

  test("the exporter's headers reach the collector", () => {
    const withHeader = receiver.requests().filter((r) => r.headers["x-tenant"] === "acme");
    expect(withHeader.map((r) => r.contentType).sort()).toEqual(["application/json", "application/json", "application/x-protobuf", "application/x-protobuf"]);
    expect(withHeader[0]!.headers["user-agent"]).toStartWith("OTel-OTLP-Exporter-JavaScript/");
  });
});

describe("answers like a collector", () => {
  beforeEach(_fresh);

  test("200 with an empty ExportTraceServiceResponse in the request's encoding", async () => {
    const proto = await _post("application/x-protobuf", new Uint8Array());
    expect([proto.status, proto.headers.get("content-type"), (await proto.bytes()).length]).toEqual([200, "application/x-protobuf", 0]);
    const json = await _post("application/json; charset=utf-8", JSON.stringify({ resourceSpans: [] }));
    expect([json.status, json.headers.get("content-type"), await json.text()]).toEqual([200, "application/json", "{}"]);
  });

  test("OTLP/JSON ids are hex in either case; kinds and status codes are integers", async () => {
    const response = await _post(
      "application/json",
      JSON.stringify(_jsonRequest({ traceId: "5B8EFFF798038103D269B633813FC60C", kind: 3, status: { code: 2 } })),
    );
    expect(response.status).toBe(200);
    expect(receiver.spans()).toMatchObject([
      { traceId: "5b8efff798038103d269b633813fc60c", spanId: "eee19b7ec3c1b174", kind: "CLIENT", status: { code: "ERROR" } },
    ]);
  });

  const badBodies: [string, string, string, Record<string, string>][] = [
    ["protobuf that does not decode", "application/x-protobuf", "not protobuf", {}],
    ["JSON that does not parse", "application/json", "{not json", {}],
    ["JSON of the wrong shape", "application/json", JSON.stringify({ resourceSpans: 5 }), {}],
    ["a JSON array", "application/json", "[]", {}],
    ["base64 ids (proto3 JSON, not OTLP/JSON)", "application/json", JSON.stringify(_jsonRequest({ traceId: "W47/95gDgQPSabYzgT/GDA==" })), {}],
    ["an enum name instead of its number", "application/json", JSON.stringify(_jsonRequest({ kind: "SPAN_KIND_SERVER" })), {}],
    ["an all-zero trace id", "application/json", JSON.stringify(_jsonRequest({ traceId: "0".repeat(32) })), {}],
    ["a span id of the wrong length", "application/json", JSON.stringify(_jsonRequest({ spanId: "abcd" })), {}],
    ["gzip announced, plain body sent", "application/json", JSON.stringify(_jsonRequest({})), { "content-encoding": "gzip" }],
  ];
  test.each(badBodies)("400 with a Status for %s, and nothing kept", async (_label, contentType, body, headers) => {
    const response = await _post(contentType, body, headers);
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe(contentType);
    const [request] = receiver.requests();
    expect(request).toMatchObject({ status: 400, spans: [] });
    expect(request!.error).toBeString();
    // The Status carries the reason: JSON as is, protobuf with the message as field 2's UTF-8 bytes.
    const text = new TextDecoder().decode(await response.bytes());
    if (contentType === "application/json") expect(JSON.parse(text)).toEqual({ code: 3, message: request!.error });
    else expect(text).toContain(request!.error!);
    expect(receiver.spans()).toEqual([]);
  });

  test("a gzip'd JSON body decodes", async () => {
    const response = await _post("application/json", gzipSync(JSON.stringify(_jsonRequest({}))), { "content-encoding": "gzip" });
    expect(response.status).toBe(200);
    expect(receiver.spans()).toHaveLength(1);
  });

  test("413 for a body over 20 MiB, before or after gunzip", async () => {
    const inflated = new Uint8Array(21 * 1024 * 1024);
    expect((await _post("application/x-protobuf", inflated)).status).toBe(413);
    expect((await _post("application/x-protobuf", gzipSync(inflated), { "content-encoding": "gzip" })).status).toBe(413);
    expect(receiver.requests().map((r) => r.error)).toEqual(["body over 20971520 bytes", "body over 20971520 bytes once decompressed"]);
  });

  test("415 for another content type or encoding, 405 for another method", async () => {
    expect((await _post("text/plain", "hello")).status).toBe(415);
    expect((await _post("", new TextEncoder().encode("no type"))).status).toBe(415);
    expect((await _post("application/json", "{}", { "content-encoding": "br" })).status).toBe(415);
    const get = await fetch(receiver.tracesUrl);
    expect([get.status, get.headers.get("allow")]).toEqual([405, "POST"]);
  });
});

describe("failure modes", () => {
  beforeEach(_fresh);

  test("fail: answers 503 with Retry-After and keeps nothing", async () => {
    receiver.setMode({ kind: "fail", retryAfterSeconds: 2 });
    const response = await _post("application/json", JSON.stringify(_jsonRequest({})));
    expect([response.status, response.headers.get("retry-after")]).toEqual([503, "2"]);
    expect(receiver.spans()).toEqual([]);
    expect(receiver.requests()).toMatchObject([{ status: 503 }]);
  });

  test("hang: the answer is held back; the exporter gives up", async () => {
    receiver.setMode({ kind: "hang", ms: 600_000 });
    const exporter = new ProtoExporter({ url: receiver.tracesUrl, timeoutMillis: 300 });
    const result = await _export(exporter, "held back");
    expect(result.code).toBe(1);
    expect(receiver.requests()[0]).toMatchObject({ status: undefined });
    expect(receiver.spans()).toEqual([]);
  });

  test("hang: a short hold then accepts", async () => {
    receiver.setMode({ kind: "hang", ms: 50 });
    const result = await _export(new JsonExporter({ url: receiver.tracesUrl }), "late");
    expect(result.code).toBe(0);
    expect(await receiver.waitForSpans((s) => s.name === "late")).toHaveLength(1);
  });

  test("unusedPort: nothing listens there, so an exporter fails with the connection refused", async () => {
    const result = await _export(new ProtoExporter({ url: `http://127.0.0.1:${await unusedPort()}/v1/traces`, timeoutMillis: 2_000 }), "nowhere");
    expect(result.code).toBe(1);
    expect(String(result.error)).toContain("ECONNREFUSED");
  });

  test("waitForSpans rejects, naming what did arrive, when nothing matches in time", async () => {
    await _post("application/json", JSON.stringify(_jsonRequest({})));
    await expect(receiver.waitForSpans((s) => s.name === "never", 100)).rejects.toThrow(/no matching span within 100 ms; received 1: \["GET \/:username"\]/);
  });
});

// What the receiver must report for a span the SDK recorded: derived from the SDK's own view, field by field.
function _expected(span: ReadableSpan): ReceivedSpan {
  const nanos = ([seconds, ns]: [number, number]) => BigInt(seconds) * 1_000_000_000n + BigInt(ns);
  return {
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? "",
    traceState: "",
    name: span.name,
    kind: SpanKind[span.kind] as ReceivedSpan["kind"],
    startTimeUnixNano: nanos(span.startTime),
    endTimeUnixNano: nanos(span.endTime),
    attributes: { ...span.attributes } as ReceivedSpan["attributes"],
    events: span.events.map((e) => ({ name: e.name, timeUnixNano: nanos(e.time), attributes: { ...e.attributes } as ReceivedSpan["attributes"] })),
    links: [],
    status: { code: (["UNSET", "OK", "ERROR"] as const)[span.status.code], message: span.status.message ?? "" },
    resource: { ...span.resource.attributes } as ReceivedSpan["resource"],
    scope: { name: span.instrumentationScope.name, version: span.instrumentationScope.version ?? "" },
  };
}

// A one-span OTLP/JSON request as the spec's examples write it; `span` overrides its fields.
function _jsonRequest(span: Record<string, unknown>): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "hand-written" } }] },
        scopeSpans: [
          {
            scope: { name: "test" },
            spans: [
              {
                traceId: "5b8efff798038103d269b633813fc60c",
                spanId: "eee19b7ec3c1b174",
                name: "GET /:username",
                kind: 2,
                startTimeUnixNano: "1544712660000000000",
                endTimeUnixNano: "1544712661000000000",
                ...span,
              },
            ],
          },
        ],
      },
    ],
  };
}

function _post(contentType: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(receiver.tracesUrl, {
    method: "POST",
    headers: { ...(contentType ? { "content-type": contentType } : {}), ...headers },
    body: body as BodyInit,
  });
}

function _export(exporter: ProtoExporter | JsonExporter, name: string): Promise<{ code: number; error?: Error }> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  provider.getTracer("receiver-test").startSpan(name).end();
  return new Promise((resolve) => exporter.export(memory.getFinishedSpans(), resolve));
}
