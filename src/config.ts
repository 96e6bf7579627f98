import { slotOverheadBytes } from "./cache/policy.ts";
import { defaultMaxPerMinute, githubRestPointsPerMinute } from "./github/request-pace.ts";
import { parseAdminHosts, type AdminHosts } from "./http/admin-hosts.ts";
import { keyValueList, otlpProtocol, samplerName, samplerRatio, tracesUrl, type SamplerConfig, type TracingConfig } from "./tracing/config.ts";

/** The service's configuration: read once from the environment (flags may override), validated, passed down. */
export interface Config {
  port: number;
  host: string;
  githubApiUrl: string;
  githubToken: string | undefined;
  adminToken: string | undefined;
  adminHosts: AdminHosts;
  corsOrigins: string[];
  logLevel: LogLevel;
  cache: CacheConfig;
  upstream: UpstreamConfig;
  rateLimit: ClientRateLimitConfig;
  /** The share of GitHub's window one client may spend on calls its requests cause; 0: no limit. */
  clientGithubShare: number;
  shared: SharedTierConfig | undefined;
  tracing: TracingConfig | undefined;
}

/** The shared cache tier on Redis; undefined when REDIS_URL is unset (the in-process cache serves alone). */
export interface SharedTierConfig {
  url: string;
  keyPrefix: string;
  commandTimeoutMs: number;
}

/** How long pages stay fresh or servable (the windows of cache/freshness.ts), and how much the cache may hold. */
export interface CacheConfig {
  ttlMs: number;
  staleMs: number;
  negativeTtlMs: number;
  maxEntries: number;
  maxBytes: number;
  revalidate: boolean;
  maxPages: number;
  /** Follow GitHub's budget: longer fresh windows and fewer background refreshes as it runs low (freshness.ts). */
  adaptive: boolean;
  /** The longest fresh window the budget may stretch a page to. */
  maxTtlMs: number;
}

/** How the service treats GitHub: deadline, body cap, concurrency, retries and the circuit breaker. */
export interface UpstreamConfig {
  timeoutMs: number;
  maxBodyBytes: number;
  maxConcurrency: number;
  maxPerMinute: number;
  retries: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
}

/** Per-client token buckets; off when `rps` is 0. */
export interface ClientRateLimitConfig {
  rps: number;
  burst: number;
  trustedHops: number;
}

/** Log levels, most verbose first; `silent` writes nothing. */
export const logLevels = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

/** A configuration value that cannot be used; the CLI exits 2 with its message. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

/** One documented setting: its environment variable, default and meaning (the README's table is this list). */
export interface SettingDoc {
  env: string;
  flag?: string;
  default: string;
  description: string;
}

/** Every setting the service reads, in the order the README documents them. */
export const settings: SettingDoc[] = [
  { env: "PORT", flag: "--port", default: "8080", description: "TCP port to listen on (0 picks a free port)" },
  { env: "HOST", flag: "--host", default: "0.0.0.0", description: "Address to bind" },
  { env: "GITHUB_API_URL", default: "https://api.github.com", description: "GitHub REST API base URL" },
  { env: "GITHUB_TOKEN", default: "(none)", description: "Token sent as `Authorization: Bearer`; raises the rate limit from 60 to 5,000 requests/hour" },
  {
    env: "CACHE_TTL",
    default: "300",
    description:
      "How long a cached page is served without asking GitHub: seconds (`300`, `1.5`) or milliseconds (`1500ms`); 0 turns the cache off: nothing is stored or served from it",
  },
  {
    env: "CACHE_STALE_TTL",
    default: "3600",
    description:
      "How long after expiry a page is still answered at once (X-Cache: STALE) while it refreshes in the background (seconds or `ms`); no effect when CACHE_TTL=0",
  },
  { env: "CACHE_NEGATIVE_TTL", default: "60", description: "How long an unknown user's 404 is cached (seconds or `ms`; 0: not cached)" },
  {
    env: "CACHE_ADAPTIVE",
    default: "true",
    description:
      "Follow GitHub's budget: under 50 % of the window left pages stay fresh 2× longer, under 20 % 4× (and only popular pages refresh in the background), under 5 % 8× (none do); false keeps the windows fixed",
  },
  { env: "CACHE_MAX_TTL", default: "3600", description: "The longest fresh window CACHE_ADAPTIVE may stretch a page to (seconds or `ms`; at least CACHE_TTL)" },
  { env: "CACHE_MAX_ENTRIES", default: "10000", description: "Most entries kept (least recently used go first)" },
  {
    env: "CACHE_MAX_BYTES",
    default: "67108864",
    description: `Most bytes of stored answers kept (64 MiB), counting bodies at their allocator size, compressed forms and ${(slotOverheadBytes / 1024).toFixed(1)} KB of bookkeeping per entry`,
  },
  { env: "CACHE_REVALIDATE", default: "true", description: "Revalidate expired pages with If-None-Match instead of fetching them whole" },
  { env: "GISTS_MAX_PAGES", default: "30", description: "Most GitHub pages (of 100) that `?all=true` follows" },
  { env: "UPSTREAM_TIMEOUT_MS", default: "5000", description: "Deadline for a GitHub request, queueing and retries included" },
  { env: "UPSTREAM_MAX_BODY_BYTES", default: "5242880", description: "Largest GitHub body accepted (bigger: 502)" },
  {
    env: "UPSTREAM_MAX_CONCURRENCY",
    default: "16",
    description: "Most GitHub requests in flight (at most 100: GitHub's secondary limit); the rest queue within their deadline",
  },
  {
    env: "UPSTREAM_MAX_PER_MINUTE",
    default: String(defaultMaxPerMinute),
    description: `Most GitHub requests one replica sends in a sliding minute (${defaultMaxPerMinute}: 80% of the ${githubRestPointsPerMinute} points a minute GitHub allows a REST endpoint, a GET costing 1; divide among replicas); the rest wait within their deadline, else 429; 0: no pace`,
  },
  { env: "UPSTREAM_RETRIES", default: "2", description: "Retries of a GitHub GET after a connection error or 5xx" },
  { env: "BREAKER_THRESHOLD", default: "5", description: "Consecutive GitHub failures that open the circuit breaker" },
  { env: "BREAKER_COOLDOWN_MS", default: "10000", description: "How long the open breaker fails fast before one probe" },
  { env: "RATE_LIMIT_RPS", default: "0", description: "Requests per second allowed per client (0: off)" },
  { env: "RATE_LIMIT_BURST", default: "RATE_LIMIT_RPS", description: "Bucket size of the per-client limit" },
  {
    env: "RATE_LIMIT_TRUSTED_HOPS",
    default: "0",
    description: "Proxies in front that append to X-Forwarded-For (1 behind Istio's gateway); 0 ignores the header",
  },
  {
    env: "CLIENT_GITHUB_SHARE",
    default: "0",
    description:
      "Share of GitHub's hourly window one client may spend on pages nothing holds and on use_cache=false (0 to 1; 0: no limit; 0.1 keeps any one client to a tenth): past it, 429 for new pages while cached ones answer; fleet-wide with REDIS_URL; clients as RATE_LIMIT_TRUSTED_HOPS says",
  },
  { env: "ADMIN_TOKEN", default: "(none)", description: "When set, `DELETE /cache` requires `Authorization: Bearer <ADMIN_TOKEN>`" },
  {
    env: "ADMIN_HOSTS",
    default: "localhost,.localhost,gists-api,.svc,.svc.cluster.local",
    description: "Names `DELETE /cache` is accepted for in `Host`, besides IP addresses (`.suffix`: every name ending so); others are refused (DNS rebinding)",
  },
  {
    env: "CORS_ORIGINS",
    default: "*",
    description: "Comma-separated origins whose pages may read the API (GET, HEAD), or `*`; no origin is ever granted DELETE",
  },
  {
    env: "REDIS_URL",
    default: "(none)",
    description: "`redis://[user:password@]host:port/db` (`rediss://` for TLS): a cache shared by every replica; unset, each process caches alone",
  },
  { env: "REDIS_KEY_PREFIX", default: "gists-api:", description: "Prefix of every key the service writes to Redis (clearing the cache removes only these)" },
  { env: "REDIS_TIMEOUT_MS", default: "250", description: "Deadline of one Redis command; a slower or failing Redis is bypassed, never waited on" },
  {
    env: "OTEL_EXPORTER_OTLP_ENDPOINT",
    default: "(none)",
    description: "Base URL of an OTLP/HTTP collector (`/v1/traces` is appended); unset, tracing is off and costs nothing",
  },
  { env: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", default: "(none)", description: "Full URL spans are sent to; wins over `OTEL_EXPORTER_OTLP_ENDPOINT`" },
  { env: "OTEL_EXPORTER_OTLP_PROTOCOL", default: "http/protobuf", description: "`http/protobuf` or `http/json`; gRPC is not built in" },
  { env: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", default: "OTEL_EXPORTER_OTLP_PROTOCOL", description: "The same, for traces only" },
  {
    env: "OTEL_EXPORTER_OTLP_HEADERS",
    default: "(none)",
    description: "`key=value,...` headers sent to the collector, values percent-encoded (credentials: never logged)",
  },
  { env: "OTEL_EXPORTER_OTLP_TRACES_HEADERS", default: "(none)", description: "More headers for traces only; a key set in both takes this value" },
  { env: "OTEL_EXPORTER_OTLP_TIMEOUT", default: "10000", description: "Milliseconds one export request may take" },
  { env: "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", default: "OTEL_EXPORTER_OTLP_TIMEOUT", description: "The same, for traces only" },
  { env: "OTEL_SERVICE_NAME", default: "gists-api", description: "`service.name` of every span; wins over one in `OTEL_RESOURCE_ATTRIBUTES`" },
  {
    env: "OTEL_RESOURCE_ATTRIBUTES",
    default: "(none)",
    description: "`key=value,...` resource attributes (e.g. `deployment.environment.name=prod,k8s.pod.name=...`)",
  },
  {
    env: "OTEL_TRACES_SAMPLER",
    default: "parentbased_always_on",
    description: "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio",
  },
  { env: "OTEL_TRACES_SAMPLER_ARG", default: "1", description: "Ratio of new traces sampled by the *traceidratio samplers (0 to 1)" },
  { env: "OTEL_BSP_SCHEDULE_DELAY", default: "5000", description: "Milliseconds between span exports" },
  {
    env: "OTEL_BSP_MAX_QUEUE_SIZE",
    default: "2048",
    description: "Most spans waiting for export; more are dropped (an unreachable collector costs spans, not memory)",
  },
  { env: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", default: "512", description: "Most spans in one export" },
  { env: "OTEL_BSP_EXPORT_TIMEOUT", default: "30000", description: "Milliseconds a batch export may take before it is abandoned" },
  { env: "OTEL_TRACES_EXPORTER", default: "otlp", description: "`otlp`, or `none` to turn tracing off with an endpoint set" },
  { env: "OTEL_SDK_DISABLED", default: "false", description: "`true` turns tracing off whatever else is set" },
  { env: "LOG_LEVEL", flag: "--log-level", default: "info", description: "debug, info, warn, error or silent" },
];

type Env = Record<string, string | undefined>;

// A setting's default is the one the table above documents, read by the same parser as a value from the
// environment: the README and the service cannot disagree.
function _documented(name: string): string {
  const setting = settings.find((candidate) => candidate.env === name);
  if (!setting) throw new Error(`${name} is not a documented setting`);
  return setting.default;
}

function _orDocumented(name: string, raw: string | undefined): string {
  return raw === undefined || raw.trim() === "" ? _documented(name) : raw;
}

/** Overrides given as command-line flags; they win over the environment. */
export interface ConfigOverrides {
  port?: string;
  host?: string;
  logLevel?: string;
}

/** Reads and validates the configuration; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env, overrides: ConfigOverrides = {}): Config {
  return {
    port: _integer("PORT", overrides.port ?? env.PORT, 0, 65535),
    host: _nonEmpty("HOST", overrides.host ?? env.HOST),
    githubApiUrl: _url("GITHUB_API_URL", env.GITHUB_API_URL),
    githubToken: _token("GITHUB_TOKEN", env.GITHUB_TOKEN),
    adminToken: _token("ADMIN_TOKEN", env.ADMIN_TOKEN),
    adminHosts: _parsed("ADMIN_HOSTS", () => parseAdminHosts(_orDocumented("ADMIN_HOSTS", env.ADMIN_HOSTS))),
    corsOrigins: _origins("CORS_ORIGINS", env.CORS_ORIGINS),
    logLevel: _logLevel("LOG_LEVEL", overrides.logLevel ?? env.LOG_LEVEL),
    cache: {
      ttlMs: _duration("CACHE_TTL", env.CACHE_TTL),
      staleMs: _duration("CACHE_STALE_TTL", env.CACHE_STALE_TTL),
      negativeTtlMs: _duration("CACHE_NEGATIVE_TTL", env.CACHE_NEGATIVE_TTL),
      maxEntries: _integer("CACHE_MAX_ENTRIES", env.CACHE_MAX_ENTRIES, 1, 10_000_000),
      maxBytes: _integer("CACHE_MAX_BYTES", env.CACHE_MAX_BYTES, 1024, 2 ** 40),
      revalidate: _boolean("CACHE_REVALIDATE", env.CACHE_REVALIDATE),
      maxPages: _integer("GISTS_MAX_PAGES", env.GISTS_MAX_PAGES, 1, 1000),
      adaptive: _boolean("CACHE_ADAPTIVE", env.CACHE_ADAPTIVE),
      maxTtlMs: _duration("CACHE_MAX_TTL", env.CACHE_MAX_TTL),
    },
    upstream: {
      timeoutMs: _integer("UPSTREAM_TIMEOUT_MS", env.UPSTREAM_TIMEOUT_MS, 1, 600_000),
      maxBodyBytes: _integer("UPSTREAM_MAX_BODY_BYTES", env.UPSTREAM_MAX_BODY_BYTES, 1024, 2 ** 32),
      maxConcurrency: _integer("UPSTREAM_MAX_CONCURRENCY", env.UPSTREAM_MAX_CONCURRENCY, 1, 100),
      maxPerMinute: _integer("UPSTREAM_MAX_PER_MINUTE", env.UPSTREAM_MAX_PER_MINUTE, 0, 100_000),
      retries: _integer("UPSTREAM_RETRIES", env.UPSTREAM_RETRIES, 0, 10),
      breakerThreshold: _integer("BREAKER_THRESHOLD", env.BREAKER_THRESHOLD, 1, 10_000),
      breakerCooldownMs: _integer("BREAKER_COOLDOWN_MS", env.BREAKER_COOLDOWN_MS, 1, 3_600_000),
    },
    rateLimit: _clientRateLimit(env),
    clientGithubShare: _number("CLIENT_GITHUB_SHARE", env.CLIENT_GITHUB_SHARE, 0, 1),
    shared: _sharedTier(env),
    tracing: _tracing(env),
  };
}

// Tracing is on when an endpoint is set, unless OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none says otherwise;
// every variable is checked either way, so a typo is found before the day it is switched on.
function _tracing(env: Env): TracingConfig | undefined {
  const disabled = _boolean("OTEL_SDK_DISABLED", env.OTEL_SDK_DISABLED);
  const exporter = _orDocumented("OTEL_TRACES_EXPORTER", env.OTEL_TRACES_EXPORTER).trim().toLowerCase();
  if (exporter !== "otlp" && exporter !== "none") {
    throw new ConfigError("OTEL_TRACES_EXPORTER", `must be otlp or none, got ${JSON.stringify(env.OTEL_TRACES_EXPORTER)}`);
  }
  // A signal-specific variable (…_TRACES_…) wins over the general one when it is set.
  const either = (specific: string, general: string) => (env[specific]?.trim() ? specific : general);
  const url = _parsed(either("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"), () =>
    tracesUrl(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim(), env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()),
  );
  const protocolName = either("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL");
  const protocol = _parsed(protocolName, () =>
    otlpProtocol(_orDocumented("OTEL_EXPORTER_OTLP_PROTOCOL", env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() || env.OTEL_EXPORTER_OTLP_PROTOCOL)),
  );
  const headers = {
    ..._parsed("OTEL_EXPORTER_OTLP_HEADERS", () => keyValueList(env.OTEL_EXPORTER_OTLP_HEADERS ?? "", { secret: true })),
    ..._parsed("OTEL_EXPORTER_OTLP_TRACES_HEADERS", () => keyValueList(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? "", { secret: true })),
  };
  const timeoutMs = _integer(
    either("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"),
    env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT?.trim() || env.OTEL_EXPORTER_OTLP_TIMEOUT || _documented("OTEL_EXPORTER_OTLP_TIMEOUT"),
    1,
    600_000,
  );
  const resourceAttributes = _parsed("OTEL_RESOURCE_ATTRIBUTES", () => keyValueList(env.OTEL_RESOURCE_ATTRIBUTES ?? ""));
  const serviceName = _nonEmpty("OTEL_SERVICE_NAME", env.OTEL_SERVICE_NAME?.trim() || resourceAttributes["service.name"]);
  const sampler: SamplerConfig = {
    name: _parsed("OTEL_TRACES_SAMPLER", () => samplerName(_orDocumented("OTEL_TRACES_SAMPLER", env.OTEL_TRACES_SAMPLER))),
    ratio: _parsed("OTEL_TRACES_SAMPLER_ARG", () => samplerRatio(_orDocumented("OTEL_TRACES_SAMPLER_ARG", env.OTEL_TRACES_SAMPLER_ARG))),
  };
  const maxQueueSize = _integer("OTEL_BSP_MAX_QUEUE_SIZE", env.OTEL_BSP_MAX_QUEUE_SIZE, 1, 1_000_000);
  const batch = {
    scheduleDelayMs: _integer("OTEL_BSP_SCHEDULE_DELAY", env.OTEL_BSP_SCHEDULE_DELAY, 0, 600_000),
    maxQueueSize,
    maxExportBatchSize: Math.min(maxQueueSize, _integer("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 1, 1_000_000)),
    exportTimeoutMs: _integer("OTEL_BSP_EXPORT_TIMEOUT", env.OTEL_BSP_EXPORT_TIMEOUT, 1, 600_000),
  };
  if (url === undefined || disabled || exporter === "none") return undefined;
  return { url, protocol, headers, timeoutMs, serviceName, resourceAttributes, sampler, batch };
}

// Runs a reader of src/tracing/config.ts, naming the variable when it refuses the value.
function _parsed<T>(name: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new ConfigError(name, error instanceof Error ? error.message : String(error));
  }
}

function _sharedTier(env: Env): SharedTierConfig | undefined {
  const url = env.REDIS_URL?.trim() || undefined;
  const keyPrefix = (env.REDIS_KEY_PREFIX ?? _documented("REDIS_KEY_PREFIX")).trim();
  if (!/^[\x21-\x7e]{1,64}$/.test(keyPrefix)) {
    throw new ConfigError("REDIS_KEY_PREFIX", "must be 1-64 visible ASCII characters without spaces");
  }
  const commandTimeoutMs = _integer("REDIS_TIMEOUT_MS", env.REDIS_TIMEOUT_MS, 1, 60_000);
  if (url === undefined) return undefined;
  return { url: _redisUrl("REDIS_URL", url), keyPrefix, commandTimeoutMs };
}

// The URL carries a password: messages describe what is wrong with it, never echo it.
function _redisUrl(name: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(name, "must be a URL like redis://[user:password@]host:port/db (rediss:// for TLS)");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new ConfigError(name, `must start with redis:// or rediss://, got ${url.protocol}//`);
  }
  if (!url.hostname) throw new ConfigError(name, "must name a host, like redis://redis:6379/0");
  const db = url.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d{1,5}$/.test(db)) throw new ConfigError(name, "the path must be a database number, like /0");
  if (url.search || url.hash) throw new ConfigError(name, "must not carry a query or a fragment");
  return text;
}

function _clientRateLimit(env: Env): ClientRateLimitConfig {
  const rps = _number("RATE_LIMIT_RPS", env.RATE_LIMIT_RPS, 0, 1_000_000);
  const burst = _integer("RATE_LIMIT_BURST", env.RATE_LIMIT_BURST?.trim() || String(Math.max(1, Math.ceil(rps))), 1, 10_000_000);
  return { rps, burst, trustedHops: _integer("RATE_LIMIT_TRUSTED_HOPS", env.RATE_LIMIT_TRUSTED_HOPS, 0, 10) };
}

function _number(name: string, given: string | undefined, min: number, max: number): number {
  const raw = _orDocumented(name, given);
  const value = Number(raw.trim());
  if (!Number.isFinite(value)) throw new ConfigError(name, `must be a number, got ${JSON.stringify(raw)}`);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function _boolean(name: string, given: string | undefined): boolean {
  const raw = _orDocumented(name, given);
  const value = raw.trim().toLowerCase();
  if (value === "true" || value === "1" || value === "yes") return true;
  if (value === "false" || value === "0" || value === "no") return false;
  throw new ConfigError(name, `must be true or false, got ${JSON.stringify(raw)}`);
}

// A token travels in an Authorization header, so only visible ASCII can work; the message never shows the value.
function _token(name: string, raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  const bad = value.search(/[^\x21-\x7e]/);
  if (bad !== -1) {
    const what = /\s/.test(value[bad]!)
      ? "whitespace"
      : value.charCodeAt(bad) < 0x20 || value.charCodeAt(bad) === 0x7f
        ? "a control character"
        : "a non-ASCII character";
    throw new ConfigError(name, `holds ${what} at position ${bad + 1} (the value is not shown); a token is visible ASCII only: set it again without it`);
  }
  return value;
}

function _nonEmpty(name: string, raw: string | undefined): string {
  const value = (raw ?? _documented(name)).trim();
  if (!value) throw new ConfigError(name, "must not be empty");
  return value;
}

// The longest window a duration setting takes: a year.
const maxDurationMs = 31_536_000_000;

// A duration in whole milliseconds, written as seconds ("300", "1.5", at most three decimals) or as "1500ms".
function _duration(name: string, given: string | undefined): number {
  const raw = _orDocumented(name, given);
  const text = raw.trim();
  const match = /^(\d+)(?:\.(\d{1,3}))?$/.exec(text);
  const ms = match ? Number(match[1]) * 1000 + Number((match[2] ?? "").padEnd(3, "0")) : /^\d+ms$/.test(text) ? Number(text.slice(0, -2)) : Number.NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new ConfigError(name, `must be seconds (like 300 or 1.5) or milliseconds (like 1500ms), got ${JSON.stringify(raw)}`);
  }
  if (ms > maxDurationMs) throw new ConfigError(name, `must be at most ${maxDurationMs / 1000} seconds (a year), got ${JSON.stringify(raw)}`);
  return ms;
}

function _integer(name: string, given: string | undefined, min: number, max: number): number {
  const raw = _orDocumented(name, given);
  const text = raw.trim();
  if (!/^-?\d+$/.test(text)) throw new ConfigError(name, `must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(text);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function _url(name: string, raw: string | undefined): string {
  const text = _orDocumented(name, raw).trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(name, `must be an http(s) URL, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(name, `must be an http(s) URL, got ${JSON.stringify(text)}`);
  }
  return text.replace(/\/+$/, "");
}

function _origins(name: string, raw: string | undefined): string[] {
  const list = (raw ?? _documented(name))
    .split(",")
    .map((origin) => origin.trim())
    .filter(Boolean);
  if (list.length === 0) throw new ConfigError(name, "must list at least one origin, or *");
  for (const origin of list) {
    if (origin === "*") continue;
    try {
      new URL(origin);
    } catch {
      throw new ConfigError(name, `${JSON.stringify(origin)} is not an origin like https://app.example.com`);
    }
  }
  return list;
}

function _logLevel(name: string, raw: string | undefined): LogLevel {
  const value = _orDocumented(name, raw).trim().toLowerCase();
  if (!(logLevels as readonly string[]).includes(value)) {
    throw new ConfigError(name, `must be one of ${logLevels.join(", ")}, got ${JSON.stringify(raw)}`);
  }
  return value as LogLevel;
}
