import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { startOtlpReceiver, type OtlpReceiver } from "../testing/otlp-receiver.ts";
import { createCollectorTransport, createSpanExporter, maxCollectorAnswerBytes } from "./export.ts";

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());
beforeEach(() => {
  receiver.setMode({ kind: "accept" });
  receiver.clear();
});

/** One finished span named `name`, as a span processor hands it to an exporter. */
function oneSpan(name: string): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "export-test" }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  provider.getTracer("export-test").startSpan(name).end();
  return memory.getFinishedSpans();
}

const transport = (maxAnswerBytes?: number) =>
  createCollectorTransport({ url: receiver.tracesUrl, headers: { "content-type": "application/x-protobuf" }, maxAnswerBytes });
const payload = new Uint8Array(0);

describe("createSpanExporter", () => {
  test.each([
    ["http/protobuf", "application/x-protobuf"],
    ["http/json", "application/json"],
  ] as const)("%s reaches the collector with the configured headers", async (protocol, contentType) => {
    const exporter = createSpanExporter({ url: receiver.tracesUrl, protocol, headers: { "x-tenant": "acme" }, timeoutMs: 5_000 });
    const result = await new Promise<ExportResult>((resolve) => exporter.export(oneSpan(`span ${protocol}`), resolve));
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    const [request] = receiver.requests();
    expect([request!.contentType, request!.headers["x-tenant"], request!.headers["user-agent"]]).toEqual([
      contentType,
      "acme",
      expect.stringMatching(/^gists-api\//),
    ]);
    expect(receiver.spans().map((span) => [span.name, span.resource["service.name"]])).toEqual([[`span ${protocol}`, "export-test"]]);
    await exporter.shutdown();
  });
});

describe("the collector transport against a hostile collector", () => {
  test("an endless answer is read up to the cap, then the connection is closed", async () => {
    receiver.setMode({ kind: "stream" });
    const result = await transport().send(payload, 10_000);
    expect(result).toMatchObject({ status: "failure", error: { message: `the collector's answer was longer than ${maxCollectorAnswerBytes} bytes; cut off` } });
    await _closed();
  });

  test("an answer that trickles forever under the cap is cut off at the deadline", async () => {
    receiver.setMode({ kind: "stream", chunkBytes: 16, intervalMs: 20 });
    const result = await transport().send(payload, 600);
    expect(result).toMatchObject({ status: "retryable", error: { message: "the collector did not answer within 600 ms" } });
    await _closed();
  });

  test("a small cap cuts off even a short answer; a refusal is not retried, a 503 is within the deadline", async () => {
    receiver.setMode({ kind: "fail", status: 400 });
    expect(await transport(4).send(payload, 5_000)).toMatchObject({ status: "failure" });
    expect(await transport().send(payload, 5_000)).toMatchObject({ status: "failure", error: { code: 400 } });
    expect(receiver.requests()).toHaveLength(2);
    receiver.clear();
    receiver.setMode({ kind: "fail", status: 503, retryAfterSeconds: 0 });
    expect(await transport().send(payload, 5_000)).toMatchObject({ status: "retryable", error: { code: 503 } });
    expect(receiver.requests()).toHaveLength(6);
  });
});

// Every endless answer the receiver began was ended by the exporter closing the connection.
async function _closed(): Promise<void> {
  for (let waited = 0; receiver.requests().some((request) => !request.streamed?.closed); waited += 20) {
    if (waited > 5_000) throw new Error(`connections still open: ${JSON.stringify(receiver.requests().map((request) => request.streamed))}`);
    await Bun.sleep(20);
  }
  expect(receiver.requests().length).toBeGreaterThan(0);
}
