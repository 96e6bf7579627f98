import definitions from "otlp-definitions/build/esm/generated/root.js";

/** The two OTLP/HTTP payload encodings, named by what the exporter's OTEL_EXPORTER_OTLP_PROTOCOL calls them. */
export type OtlpEncoding = "protobuf" | "json";

/** An attribute value as a test compares it: OTLP's AnyValue without its wrapper. */
export type AttributeValue = string | number | bigint | boolean | Uint8Array | null | AttributeValue[] | { [key: string]: AttributeValue };

/** Attributes by key. */
export type Attributes = Record<string, AttributeValue>;

/** Span kinds without the `SPAN_KIND_` prefix. */
export type SpanKindName = "UNSPECIFIED" | "INTERNAL" | "SERVER" | "CLIENT" | "PRODUCER" | "CONSUMER";

/** One received span, flattened with its resource and scope, ids in lower-case hex ("" when absent). */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: SpanKindName;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  events: { name: string; timeUnixNano: bigint; attributes: Attributes }[];
  links: { traceId: string; spanId: string; attributes: Attributes }[];
  status: { code: "UNSET" | "OK" | "ERROR"; message: string };
  resource: Attributes;
  scope: { name: string; version: string };
}

/** A body that does not decode to a valid ExportTraceServiceRequest: the collector answers 400. */
export class OtlpBadData extends Error {
  override name = "OtlpBadData";
}

/** Decodes an ExportTraceServiceRequest body (already decompressed) into flat spans. */
export function decodeTraces(body: Uint8Array, encoding: OtlpEncoding): ReceivedSpan[] {
  let message: unknown;
  try {
    message = encoding === "protobuf" ? _Request.decode(body) : _Request.fromObject(_fromOtlpJson(new TextDecoder().decode(body)));
  } catch (error) {
    throw error instanceof OtlpBadData ? error : new OtlpBadData(`not an ExportTraceServiceRequest (${encoding}): ${(error as Error).message}`);
  }
  const request = _Request.toObject(message, { longs: String, enums: String, defaults: true, arrays: true }) as _Request;
  return request.resourceSpans.flatMap((resourceSpans) => {
    const resource = _attributes(resourceSpans.resource?.attributes);
    return resourceSpans.scopeSpans.flatMap((scopeSpans) => {
      const scope = { name: scopeSpans.scope?.name ?? "", version: scopeSpans.scope?.version ?? "" };
      return scopeSpans.spans.map((span) => _span(span, resource, scope));
    });
  });
}

/** The body of a 200: an empty ExportTraceServiceResponse in the request's encoding. */
export function exportResponse(encoding: OtlpEncoding): Uint8Array {
  return encoding === "json" ? new TextEncoder().encode("{}") : _Response.encode(_Response.create({})).finish();
}

/** The body of a 4xx/5xx: a google.rpc.Status in the request's encoding, as the OTLP spec requires. */
export function statusBody(encoding: OtlpEncoding, code: number, message: string): Uint8Array {
  if (encoding === "json") return new TextEncoder().encode(JSON.stringify({ code, message }));
  // Status { int32 code = 1; string message = 2; } is not in the OTLP definitions, and two fields need no codec.
  const text = new TextEncoder().encode(message);
  return Uint8Array.from([0x08, ..._varint(code), 0x12, ..._varint(text.length), ...text]);
}

const _Request = (definitions as any).opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
const _Response = (definitions as any).opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;

/**
 * OTLP/JSON is proto3 JSON with deviations, per the OTLP specification, "JSON Protobuf Encoding":
 * "The `traceId` and `spanId` byte arrays are represented as case-insensitive hex-encoded strings; they are not
 * base64-encoded as is defined in the standard Protobuf JSON Mapping." and "Values of enum fields MUST be encoded
 * as integer values ... the enum name strings MUST NOT be used."
 * (https://github.com/open-telemetry/opentelemetry-proto/blob/main/docs/specification.md#json-protobuf-encoding)
 * So ids become bytes here (fromObject would read them as base64) and enum names are refused.
 */
function _fromOtlpJson(text: string): unknown {
  const request = JSON.parse(text);
  if (!_isObject(request)) throw new OtlpBadData("OTLP/JSON body must be a JSON object");
  for (const resourceSpans of _list(request.resourceSpans)) {
    for (const scopeSpans of _list(resourceSpans?.scopeSpans)) {
      for (const span of _list(scopeSpans?.spans)) {
        if (!_isObject(span)) continue;
        _hexToBytes(span, "traceId", "spanId", "parentSpanId");
        _integerEnum(span, "kind");
        if (_isObject(span.status)) _integerEnum(span.status, "code");
        for (const link of _list(span.links)) if (_isObject(link)) _hexToBytes(link, "traceId", "spanId");
      }
    }
  }
  return request;
}

function _hexToBytes(target: Record<string, any>, ...keys: string[]): void {
  for (const key of keys) {
    const value = target[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string" || !/^(?:[0-9a-fA-F]{2})*$/.test(value)) {
      throw new OtlpBadData(`${key} must be a hex string in OTLP/JSON, got ${JSON.stringify(value)}`);
    }
    target[key] = Buffer.from(value, "hex");
  }
}

function _integerEnum(target: Record<string, any>, key: string): void {
  const value = target[key];
  if (value !== undefined && value !== null && !Number.isInteger(value)) {
    throw new OtlpBadData(`${key} must be an integer in OTLP/JSON, got ${JSON.stringify(value)}`);
  }
}

function _span(span: _Span, resource: Attributes, scope: ReceivedSpan["scope"]): ReceivedSpan {
  const traceId = _id(span.traceId, 16, "traceId");
  const parentSpanId = _hex(span.parentSpanId);
  if (parentSpanId !== "") _id(span.parentSpanId, 8, "parentSpanId");
  return {
    traceId,
    spanId: _id(span.spanId, 8, "spanId"),
    parentSpanId,
    traceState: span.traceState,
    name: span.name,
    kind: span.kind.replace(/^SPAN_KIND_/, "") as SpanKindName,
    startTimeUnixNano: BigInt(span.startTimeUnixNano),
    endTimeUnixNano: BigInt(span.endTimeUnixNano),
    attributes: _attributes(span.attributes),
    events: span.events.map((e) => ({ name: e.name, timeUnixNano: BigInt(e.timeUnixNano), attributes: _attributes(e.attributes) })),
    links: span.links.map((l) => ({
      traceId: _id(l.traceId, 16, "link traceId"),
      spanId: _id(l.spanId, 8, "link spanId"),
      attributes: _attributes(l.attributes),
    })),
    status: {
      code: (span.status?.code ?? "STATUS_CODE_UNSET").replace(/^STATUS_CODE_/, "") as ReceivedSpan["status"]["code"],
      message: span.status?.message ?? "",
    },
    resource,
    scope,
  };
}

// trace.proto: an id of any other length, or all zeroes, is invalid; a receiver that let it through would hide a broken exporter.
function _id(bytes: Uint8Array, length: number, field: string): string {
  const hex = _hex(bytes);
  if (bytes.length !== length || /^0*$/.test(hex)) throw new OtlpBadData(`${field} must be ${length} bytes, not all zero; got "${hex}"`);
  return hex;
}

function _hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function _attributes(list: _KeyValue[] = []): Attributes {
  return Object.fromEntries(list.map((kv) => [kv.key, _value(kv.value)]));
}

function _value(value: _AnyValue | null | undefined): AttributeValue {
  if (!value) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) {
    const int = BigInt(value.intValue);
    return Number.isSafeInteger(Number(int)) ? Number(int) : int;
  }
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(_value);
  if (value.kvlistValue !== undefined) return _attributes(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return new Uint8Array(value.bytesValue);
  return null;
}

function _varint(value: number): number[] {
  const bytes: number[] = [];
  for (; value > 0x7f; value >>>= 7) bytes.push((value & 0x7f) | 0x80);
  return [...bytes, value];
}

function _list(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}

function _isObject(value: unknown): value is Record<string, any> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// The shape toObject({ longs: String, enums: String, defaults: true }) gives; the generated typings say only `Root`.
interface _KeyValue {
  key: string;
  value?: _AnyValue | null;
}
interface _AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
  arrayValue?: { values?: _AnyValue[] };
  kvlistValue?: { values?: _KeyValue[] };
  bytesValue?: Uint8Array;
}
interface _Span {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId: Uint8Array;
  traceState: string;
  name: string;
  kind: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: _KeyValue[];
  events: { name: string; timeUnixNano: string; attributes: _KeyValue[] }[];
  links: { traceId: Uint8Array; spanId: Uint8Array; attributes: _KeyValue[] }[];
  status?: { code: string; message: string } | null;
}
interface _Request {
  resourceSpans: {
    resource?: { attributes: _KeyValue[] } | null;
    scopeSpans: { scope?: { name: string; version: string } | null; spans: _Span[] }[];
  }[];
}
