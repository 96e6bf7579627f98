import {
  context as contexts,
  diag,
  DiagLogLevel,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapPropagator,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { B3Propagator } from "@opentelemetry/propagator-b3";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from "@opentelemetry/sdk-trace-base";
import type { Logger } from "../logger.ts";
import { version } from "../version.ts";
import { followsParent, samplesRoots, type SamplerConfig, type TracingConfig } from "./config.ts";
import { createSpanExporter } from "./export.ts";
import type { ClientSpan, RequestOutcome, RequestSpan, TraceAttributes, Tracing } from "./tracing.ts";

/** What export problems the log hears of: at most one line per interval, with how many were held back. */
const exportReportMs = 60_000;

/** Tracing on the OpenTelemetry SDK: a batch processor with a bounded queue, bounded OTLP/HTTP export, W3C and B3 parents. */
export function createTracing(config: TracingConfig, logger: Logger): Tracing {
  _reportExportProblems(logger);
  // The request's span travels with its async work (GitHub, Redis) through AsyncLocalStorage, in Bun and Deno.
  contexts.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const exporter = createSpanExporter(config);
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ ...config.resourceAttributes, "service.name": config.serviceName, "service.version": version })),
    sampler: _sampler(config.sampler),
    spanProcessors: [
      new BatchSpanProcessor(exporter, {
        maxQueueSize: config.batch.maxQueueSize,
        maxExportBatchSize: config.batch.maxExportBatchSize,
        scheduledDelayMillis: config.batch.scheduleDelayMs,
        exportTimeoutMillis: config.batch.exportTimeoutMs,
      }),
    ],
  });
  const tracer = provider.getTracer("gists-api", version);
  // B3 first, so a request carrying both is continued from its W3C parent (extractors later in the list win).
  const incoming: TextMapPropagator = new CompositePropagator({ propagators: [new B3Propagator(), new W3CTraceContextPropagator()] });
  const outgoing = new W3CTraceContextPropagator();
  // A hit with no parent header under a sampler that starts no trace of its own is not looked at any further.
  const rootsSampled = samplesRoots(config.sampler);
  const parentsFollowed = followsParent(config.sampler);

  const startRequest = (headers: Headers, method: string, path: string): RequestSpan | undefined => {
    // A sampler that starts no trace and follows no parent never samples; otherwise parent headers are looked for once.
    if (!rootsSampled && !parentsFollowed) return undefined;
    const hasParent = _hasParent(headers);
    if (!rootsSampled && !hasParent) return undefined;
    const parent = hasParent ? incoming.extract(ROOT_CONTEXT, headers, headerGetter) : ROOT_CONTEXT;
    const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { "http.request.method": method, "url.path": path } }, parent);
    if (!span.isRecording()) return undefined;
    return new _RequestSpan(span, parent, method);
  };

  return {
    enabled: true,
    startRequest,
    within: (span, run) => contexts.with((span as _RequestSpan).context, run),
    async client(name, attributes, run) {
      const active = contexts.active();
      const parent = trace.getSpan(active);
      if (!parent?.isRecording()) return run(undefined);
      const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes: _defined(attributes()) }, active);
      const client = new _ClientSpan(span, trace.setSpan(active, span), outgoing);
      try {
        return await run(client);
      } catch (error) {
        if (!client.failed) client.fail(error instanceof Error ? error.name : "error", error instanceof Error ? error.message : String(error));
        throw error;
      } finally {
        span.end();
      }
    },
    event(name, attributes) {
      const span = trace.getSpan(contexts.active());
      if (span?.isRecording()) span.addEvent(name, attributes && _defined(attributes));
    },
    async shutdown() {
      await provider.shutdown().catch(() => {});
      contexts.disable();
    },
  };
}

class _RequestSpan implements RequestSpan {
  readonly context: Context;
  constructor(
    private readonly span: Span,
    parent: Context,
    private readonly method: string,
  ) {
    this.context = trace.setSpan(parent, span);
  }

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  get spanId(): string {
    return this.span.spanContext().spanId;
  }

  end(outcome: RequestOutcome): void {
    const span = this.span;
    // Routes are templates ("/{username}"); the stand-ins ("unmatched", "static", "rate-limited"...) are not.
    const templated = outcome.route.startsWith("/");
    // Named `{method} {route}` as OpenTelemetry's HTTP conventions ask: low cardinality, never the raw path.
    span.updateName(templated ? `${this.method} ${outcome.route}` : this.method);
    span.setAttribute("http.response.status_code", outcome.status);
    span.setAttribute("gists_api.request_id", outcome.requestId);
    if (templated) span.setAttribute("http.route", outcome.route);
    else span.setAttribute("gists_api.answered_by", outcome.route);
    if (outcome.cache) span.setAttribute("gists_api.cache", outcome.cache);
    // Server spans fail on 5xx only: a 4xx is the client's mistake, answered as designed.
    if (outcome.status >= 500) {
      span.setAttribute("error.type", String(outcome.status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }
}

class _ClientSpan implements ClientSpan {
  failed = false;
  constructor(
    private readonly span: Span,
    private readonly context: Context,
    private readonly propagator: TextMapPropagator,
  ) {}

  set(attributes: TraceAttributes): void {
    this.span.setAttributes(_defined(attributes));
  }

  fail(type: string, message?: string): void {
    this.failed = true;
    this.span.setAttribute("error.type", type);
    this.span.setStatus({ code: SpanStatusCode.ERROR, message });
  }

  inject(headers: Record<string, string>): void {
    this.propagator.inject(this.context, headers, {
      set: (carrier: Record<string, string>, key: string, value: string) => {
        carrier[key] = value;
      },
    });
  }
}

const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

function _hasParent(headers: Headers): boolean {
  return headers.has("traceparent") || headers.has("b3") || headers.has("x-b3-traceid");
}

function _sampler(config: SamplerConfig): Sampler {
  switch (config.name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(config.ratio);
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.ratio) });
  }
}

function _defined(attributes: TraceAttributes): Record<string, string | number | boolean> {
  const defined: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) defined[key] = value;
  return defined;
}

// The SDK reports a failing export through its diagnostic logger, once per batch: the log gets the first
// problem of each interval and a count of the rest, so an unreachable collector is one line a minute.
function _reportExportProblems(logger: Logger): void {
  let lastReport = -Infinity;
  let held = 0;
  const report = (...parts: unknown[]) => {
    const message = parts.map((part) => (part instanceof Error ? part.message : typeof part === "string" ? part : JSON.stringify(part))).join(": ");
    const at = performance.now();
    if (at - lastReport < exportReportMs) {
      held++;
      return;
    }
    lastReport = at;
    logger.warn("trace export failing", { error: message.slice(0, 300), problems_since_last_line: held });
    held = 0;
  };
  const ignore = () => {};
  diag.setLogger({ error: report, warn: report, info: ignore, debug: ignore, verbose: ignore }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}
