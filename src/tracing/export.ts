import {
  createOtlpNetworkExportDelegate,
  ExporterMetrics,
  getSharedConfigurationDefaults,
  OTLPExporterBase,
  OTLPExporterError,
} from "@opentelemetry/otlp-exporter-base";
import { JsonTraceSerializer, ProtobufTraceSerializer, TraceExporterMetricsHelper } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { version } from "../version.ts";
import type { TracingConfig } from "./config.ts";
import { readCappedBody } from "../http/capped-body.ts";

/**
 * Most bytes of a collector's answer that are read. An OTLP answer is an empty message or a partial-success
 * note of a few hundred bytes; anything longer is cut off, so a collector cannot make the service hold its body.
 */
export const maxCollectorAnswerBytes = 64 * 1024;

/** How an export attempt ended, as the SDK's export delegate reads it. */
type ExportResponse =
  | { status: "success"; data?: Uint8Array }
  | { status: "failure"; error: Error }
  | { status: "retryable"; error?: Error; retryInMillis?: number };

/** Sends serialized spans to the collector; what the SDK calls a transport. */
export interface CollectorTransport {
  send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse>;
  shutdown(): void;
}

/**
 * The OTLP/HTTP span exporter: the SDK's serializers and export delegate over a transport with the caps a
 * hostile or broken collector cannot stretch. The SDK's own Node transport reads up to 4 MiB of every answer and
 * times out only an idle socket, so a collector that streams an endless body held memory and connections.
 */
export function createSpanExporter(config: Pick<TracingConfig, "url" | "protocol" | "headers" | "timeoutMs">): SpanExporter {
  const json = config.protocol === "http/json";
  const transport = createCollectorTransport({
    url: config.url,
    headers: { ...config.headers, "content-type": json ? "application/json" : "application/x-protobuf", "user-agent": `gists-api/${version}` },
  });
  const metrics = new ExporterMetrics<ReadableSpan[]>({
    componentType: json ? "otlp_http_json_span_exporter" : "otlp_http_span_exporter",
    metricsHelper: TraceExporterMetricsHelper,
    url: config.url,
    meterProvider: undefined,
    responseAttributesFromError: () => ({}),
  });
  const options = { ...getSharedConfigurationDefaults(), timeoutMillis: config.timeoutMs, compression: "none" as const };
  const serializer = json ? JsonTraceSerializer : ProtobufTraceSerializer;
  return new OTLPExporterBase(createOtlpNetworkExportDelegate(options, serializer, metrics, transport));
}

/**
 * POSTs each export with fetch under one deadline for the whole exchange (answer body included), reads at most
 * `maxAnswerBytes` of the answer and then closes the connection, and retries 429, 502, 503, 504 and connection
 * failures with backoff (Retry-After when given) while the deadline allows.
 */
export function createCollectorTransport(options: { url: string; headers: Record<string, string>; maxAnswerBytes?: number }): CollectorTransport {
  const maxAnswerBytes = options.maxAnswerBytes ?? maxCollectorAnswerBytes;
  const inFlight = new Set<AbortController>();

  const attempt = async (data: Uint8Array, timeoutMs: number): Promise<ExportResponse> => {
    const aborter = new AbortController();
    const timer = setTimeout(() => aborter.abort(new Error(`the collector did not answer within ${timeoutMs} ms`)), timeoutMs);
    inFlight.add(aborter);
    try {
      const response = await fetch(options.url, { method: "POST", headers: options.headers, body: data as Uint8Array<ArrayBuffer>, signal: aborter.signal });
      const answer = await readCappedBody(response, maxAnswerBytes);
      if (answer === undefined) return { status: "failure", error: new Error(`the collector's answer was longer than ${maxAnswerBytes} bytes; cut off`) };
      if (response.ok) return { status: "success", data: answer };
      const error = new OTLPExporterError(`the collector answered ${response.status}`, response.status, _text(answer));
      if (!retryableStatuses.has(response.status)) return { status: "failure", error };
      return { status: "retryable", error, retryInMillis: _retryAfterMs(response.headers.get("retry-after")) };
    } catch (error) {
      const reason = aborter.signal.aborted ? aborter.signal.reason : error;
      return { status: "retryable", error: reason instanceof Error ? reason : new Error(String(reason)) };
    } finally {
      clearTimeout(timer);
      inFlight.delete(aborter);
      aborter.abort();
    }
  };

  return {
    async send(data, timeoutMillis) {
      const deadline = Date.now() + timeoutMillis;
      let backoffMs = firstBackoffMs;
      for (let tries = 1; ; tries++) {
        const result = await attempt(data, Math.max(1, deadline - Date.now()));
        if (result.status !== "retryable" || tries >= maxTries) return result;
        // Full jitter around the backoff, as the SDK's own retries do.
        const waitMs = result.retryInMillis ?? backoffMs * (0.8 + Math.random() * 0.4);
        backoffMs = Math.min(maxBackoffMs, backoffMs * 1.5);
        if (Date.now() + waitMs >= deadline) return result;
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    },
    shutdown() {
      for (const aborter of inFlight) aborter.abort();
    },
  };
}

// The statuses OTLP/HTTP says to retry, and the SDK's own attempts and backoff.
const retryableStatuses = new Set([429, 502, 503, 504]);
const maxTries = 6;
const firstBackoffMs = 1000;
const maxBackoffMs = 5000;

function _text(answer: Uint8Array): string {
  return new TextDecoder().decode(answer.subarray(0, 300));
}

// Retry-After in seconds or as an HTTP date; undefined when absent or unreadable.
function _retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
