/** The service's configuration: read once from the environment (flags may override), validated, passed down. */
export interface Config {
  port: number;
  host: string;
  githubApiUrl: string;
  githubToken: string | undefined;
  cacheTtlSeconds: number;
  upstreamTimeoutMs: number;
  adminToken: string | undefined;
  corsOrigins: string[];
  logLevel: LogLevel;
  cacheMaxEntries: number;
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
  { env: "CACHE_TTL", default: "300", description: "Seconds a cached page is served without asking GitHub" },
  { env: "CACHE_MAX_ENTRIES", default: "10000", description: "Most pages kept in the cache (least recently used go first)" },
  { env: "UPSTREAM_TIMEOUT_MS", default: "5000", description: "Deadline for one GitHub request, in milliseconds" },
  { env: "ADMIN_TOKEN", default: "(none)", description: "When set, `DELETE /cache` requires `Authorization: Bearer <ADMIN_TOKEN>`" },
  { env: "CORS_ORIGINS", default: "*", description: "Comma-separated allowed origins, or `*`" },
  { env: "LOG_LEVEL", flag: "--log-level", default: "info", description: "debug, info, warn, error or silent" },
];

type Env = Record<string, string | undefined>;

/** Overrides given as command-line flags; they win over the environment. */
export interface ConfigOverrides {
  port?: string;
  host?: string;
  logLevel?: string;
}

/** Reads and validates the configuration; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env, overrides: ConfigOverrides = {}): Config {
  return {
    port: _integer("PORT", overrides.port ?? env.PORT, 8080, 0, 65535),
    host: _nonEmpty("HOST", overrides.host ?? env.HOST, "0.0.0.0"),
    githubApiUrl: _url("GITHUB_API_URL", env.GITHUB_API_URL, "https://api.github.com"),
    githubToken: _optional(env.GITHUB_TOKEN),
    cacheTtlSeconds: _integer("CACHE_TTL", env.CACHE_TTL, 300, 0, 31_536_000),
    cacheMaxEntries: _integer("CACHE_MAX_ENTRIES", env.CACHE_MAX_ENTRIES, 10_000, 1, 10_000_000),
    upstreamTimeoutMs: _integer("UPSTREAM_TIMEOUT_MS", env.UPSTREAM_TIMEOUT_MS, 5000, 1, 600_000),
    adminToken: _optional(env.ADMIN_TOKEN),
    corsOrigins: _origins("CORS_ORIGINS", env.CORS_ORIGINS),
    logLevel: _logLevel("LOG_LEVEL", overrides.logLevel ?? env.LOG_LEVEL),
  };
}

function _optional(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  return value ? value : undefined;
}

function _nonEmpty(name: string, raw: string | undefined, fallback: string): string {
  if (raw === undefined) return fallback;
  const value = raw.trim();
  if (!value) throw new ConfigError(name, "must not be empty");
  return value;
}

function _integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const text = raw.trim();
  if (!/^-?\d+$/.test(text)) throw new ConfigError(name, `must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(text);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function _url(name: string, raw: string | undefined, fallback: string): string {
  const text = (raw ?? "").trim() || fallback;
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
  const list = (raw ?? "*")
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
  const value = (raw ?? "info").trim().toLowerCase() || "info";
  if (!(logLevels as readonly string[]).includes(value)) {
    throw new ConfigError(name, `must be one of ${logLevels.join(", ")}, got ${JSON.stringify(raw)}`);
  }
  return value as LogLevel;
}
