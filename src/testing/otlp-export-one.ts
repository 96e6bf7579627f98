// Exports one span with the official OTLP exporter, configured only by the SDK's own OTEL_EXPORTER_OTLP_* variables:
// `deno run -A --node-modules-dir=manual src/testing/otlp-export-one.ts <protobuf|json> <span name>`.
// Prints the export result as one JSON line and exits 0 only when the collector accepted it.
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";

/** Exports one span named `name` and answers the exporter's result code (0 = success) and error text. */
export async function exportOneSpan(protocol: string, name: string): Promise<{ code: number; error?: string }> {
  const exporter = protocol === "json" ? new JsonExporter() : new ProtoExporter();
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "otlp-export-one" }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  provider
    .getTracer("otlp-export-one")
    .startSpan(name, { attributes: { runtime: _runtime() } })
    .end();
  // The exporter is called directly so its result (and error text) is seen, not swallowed by a span processor.
  const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(memory.getFinishedSpans(), resolve));
  await Promise.all([exporter.shutdown(), provider.shutdown()]);
  return { code: result.code, ...(result.error ? { error: String(result.error.message) } : {}) };
}

function _runtime(): string {
  const globals = globalThis as { Deno?: unknown; Bun?: unknown };
  return globals.Deno ? "deno" : globals.Bun ? "bun" : "node";
}

if (import.meta.main) {
  const [protocol = "protobuf", name = "one-span"] = process.argv.slice(2);
  void exportOneSpan(protocol, name).then((result) => {
    console.log(JSON.stringify(result));
    process.exit(result.code === 0 ? 0 : 1);
  });
}
