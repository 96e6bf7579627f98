// The OpenTelemetry SDK's own environment variables, read the way its specification defines them
// (opentelemetry-specification: "Environment Variable Specification" and "OTLP Exporter Configuration").
// Each reader throws a plain Error whose message says what is wrong; config.ts names the variable.

/** How the service exports traces; undefined in Config when tracing is off (no endpoint, or disabled). */
export interface TracingConfig {
  /** The full URL spans are POSTed to. */
  url: string;
  protocol: OtlpProtocol;
  /** Extra request headers for the collector (credentials: never logged). */
  headers: Record<string, string>;
  timeoutMs: number;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  sampler: SamplerConfig;
  batch: BatchConfig;
}

/** OTLP over HTTP, in protobuf or JSON: the encodings the service ships. */
export const otlpProtocols = ["http/protobuf", "http/json"] as const;
export type OtlpProtocol = (typeof otlpProtocols)[number];

/** The samplers of the specification's OTEL_TRACES_SAMPLER (the Jaeger and xray ones need extra packages). */
export const samplerNames = ["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"] as const;
export type SamplerName = (typeof samplerNames)[number];

/** A sampler and its ratio (used by the *traceidratio ones). */
export interface SamplerConfig {
  name: SamplerName;
  ratio: number;
}

/** The batch span processor's queue: bounded, so an unreachable collector costs spans, never memory. */
export interface BatchConfig {
  scheduleDelayMs: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
  exportTimeoutMs: number;
}

/** The traces URL: the signal-specific variable as given, else the base endpoint with `/v1/traces` appended. */
export function tracesUrl(tracesEndpoint: string | undefined, endpoint: string | undefined): string | undefined {
  if (tracesEndpoint) return _httpUrl(tracesEndpoint);
  if (!endpoint) return undefined;
  const base = _httpUrl(endpoint);
  return `${base.replace(/\/+$/, "")}/v1/traces`;
}

/** An OTLP protocol name; gRPC is named and refused, since only OTLP/HTTP is built in. */
export function otlpProtocol(text: string): OtlpProtocol {
  const value = text.trim();
  if ((otlpProtocols as readonly string[]).includes(value)) return value as OtlpProtocol;
  if (value === "grpc") throw new Error("grpc is not supported: use http/protobuf (the collector's port 4318) or http/json");
  throw new Error(`must be http/protobuf or http/json, got ${JSON.stringify(text)}`);
}

/** A sampler name from the specification's list. */
export function samplerName(text: string): SamplerName {
  const value = text.trim().toLowerCase();
  if ((samplerNames as readonly string[]).includes(value)) return value as SamplerName;
  throw new Error(`must be one of ${samplerNames.join(", ")}, got ${JSON.stringify(text)}`);
}

/** A sampling ratio between 0 and 1. */
export function samplerRatio(text: string): number {
  const value = Number(text.trim());
  if (text.trim() === "" || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new Error(`must be a ratio between 0 and 1, got ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * A W3C Baggage-style list, `key1=value1,key2=value2`, values percent-decoded: the format of
 * OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES. `secret` keeps values out of messages.
 */
export function keyValueList(text: string, options: { secret?: boolean } = {}): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const item of text.split(",")) {
    if (item.trim() === "") continue;
    const equals = item.indexOf("=");
    const key = (equals === -1 ? item : item.slice(0, equals)).trim();
    const shown = options.secret ? `the entry for ${JSON.stringify(key)}` : JSON.stringify(item.trim());
    if (equals === -1 || key === "") throw new Error(`must be key=value pairs separated by commas; ${shown} is not one`);
    let value: string;
    try {
      value = decodeURIComponent(item.slice(equals + 1).trim());
    } catch {
      throw new Error(`${shown} is not valid percent-encoding`);
    }
    if (!/^[\x21-\x7e]+$/.test(key)) throw new Error(`${shown} has a key that is not visible ASCII`);
    pairs[key] = value;
  }
  return pairs;
}

/** Whether a sampler can start a trace of its own (a root span): what the hit path asks of an unsampled hit. */
export function samplesRoots(sampler: SamplerConfig): boolean {
  switch (sampler.name) {
    case "always_off":
    case "parentbased_always_off":
      return false;
    case "traceidratio":
    case "parentbased_traceidratio":
      return sampler.ratio > 0;
    default:
      return true;
  }
}

/** Whether a sampler follows an incoming parent's decision (so a request carrying one must be looked at). */
export function followsParent(sampler: SamplerConfig): boolean {
  return sampler.name.startsWith("parentbased_");
}

function _httpUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new Error(`must be an http(s) URL like http://collector:4318, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`must be an http(s) URL like http://collector:4318, got ${JSON.stringify(text)}`);
  }
  return text.trim();
}
