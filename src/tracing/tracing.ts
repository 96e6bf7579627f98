/** Attribute values a span or event carries. */
export type TraceAttributes = Record<string, string | number | boolean | undefined>;

/** A request's server span, started by the front door when the request is sampled. */
export interface RequestSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Names the span by its route, records the outcome and ends it. */
  end(outcome: RequestOutcome): void;
}

/** What the server span records when its request is answered. */
export interface RequestOutcome {
  route: string;
  status: number;
  requestId: string;
  cache?: string;
}

/** A client span (GitHub, Redis) in progress: the caller adds what it learns and may pass the trace on. */
export interface ClientSpan {
  set(attributes: TraceAttributes): void;
  /** Marks the span failed (status ERROR, `error.type`). */
  fail(type: string, message?: string): void;
  /** Adds the W3C `traceparent`/`tracestate` of this span to outgoing request headers. */
  inject(headers: Record<string, string>): void;
}

/**
 * What the service asks of tracing. Without an endpoint it is `noTracing`, whose every call does nothing and
 * loads nothing; with one it is built by `./sdk.ts` on the OpenTelemetry SDK.
 */
export interface Tracing {
  readonly enabled: boolean;
  /** The request's server span if the request is sampled (continuing a W3C or B3 parent), else undefined. */
  startRequest(headers: Headers, method: string, path: string): RequestSpan | undefined;
  /** Runs `run` with `span` active, so the GitHub and Redis calls it makes become its children. */
  within<T>(span: RequestSpan, run: () => T): T;
  /**
   * Runs `run` inside a client span that is a child of the active span; with none active, no span is made and
   * `attributes` is never called.
   */
  client<T>(name: string, attributes: () => TraceAttributes, run: (span: ClientSpan | undefined) => Promise<T>): Promise<T>;
  /** Adds an event to the active span, if there is one. */
  event(name: string, attributes?: TraceAttributes): void;
  /** Exports what is queued (within the export timeout) and stops. */
  shutdown(): Promise<void>;
}

/** Tracing turned off: the default of every part that traces. */
export const noTracing: Tracing = {
  enabled: false,
  startRequest: () => undefined,
  within: (_span, run) => run(),
  client: (_name, _attributes, run) => run(undefined),
  event: () => {},
  shutdown: async () => {},
};
