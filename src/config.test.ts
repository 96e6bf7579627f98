import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "./config.ts";

describe("loadConfig", () => {
  test("fills every default", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: "0.0.0.0",
      githubApiUrl: "https://api.github.com",
      githubToken: undefined,
      adminToken: undefined,
      adminHosts: { names: ["localhost", "gists-api"], suffixes: [".localhost", ".svc", ".svc.cluster.local"] },
      corsOrigins: ["*"],
      logLevel: "info",
      cache: {
        ttlMs: 300_000,
        staleMs: 3_600_000,
        negativeTtlMs: 60_000,
        maxEntries: 10_000,
        maxBytes: 67_108_864,
        revalidate: true,
        maxPages: 30,
        adaptive: true,
        maxTtlMs: 3_600_000,
      },
      upstream: { timeoutMs: 5000, maxBodyBytes: 5_242_880, maxConcurrency: 16, maxPerMinute: 720, retries: 2, breakerThreshold: 5, breakerCooldownMs: 10_000 },
      rateLimit: { rps: 0, burst: 1, trustedHops: 0 },
    });
  });

  test("RATE_LIMIT_BURST defaults to the rate, rounded up", () => {
    expect(loadConfig({ RATE_LIMIT_RPS: "2.5" }).rateLimit).toEqual({ rps: 2.5, burst: 3, trustedHops: 0 });
  });

  test("reads the environment and lets flags win", () => {
    const config = loadConfig(
      { PORT: "9000", HOST: "127.0.0.1", CACHE_TTL: "0", GITHUB_TOKEN: " t0k ", CORS_ORIGINS: "https://a.example, https://b.example" },
      { port: "9100", logLevel: "DEBUG" },
    );
    expect(config.port).toBe(9100);
    expect(config.host).toBe("127.0.0.1");
    expect(config.cache.ttlMs).toBe(0);
    expect(config.githubToken).toBe("t0k");
    expect(config.corsOrigins).toEqual(["https://a.example", "https://b.example"]);
    expect(config.logLevel).toBe("debug");
  });

  test("durations take seconds, with up to three decimals, or milliseconds", () => {
    const windows = (env: Record<string, string>) => {
      const { ttlMs, staleMs, negativeTtlMs } = loadConfig(env).cache;
      return [ttlMs, staleMs, negativeTtlMs];
    };
    expect(windows({ CACHE_TTL: "1.5", CACHE_STALE_TTL: "250ms", CACHE_NEGATIVE_TTL: "0.001" })).toEqual([1500, 250, 1]);
    expect(windows({ CACHE_TTL: " 600 ", CACHE_STALE_TTL: "0", CACHE_NEGATIVE_TTL: "0ms" })).toEqual([600_000, 0, 0]);
    for (const bad of ["1.2345", "1e3", "1,5", "-1", "1.5ms", "5 s", "ms", "31536000.001"]) {
      expect(() => loadConfig({ CACHE_TTL: bad })).toThrow(ConfigError);
    }
    expect(() => loadConfig({ CACHE_STALE_TTL: "2s" })).toThrow(/^CACHE_STALE_TTL: must be seconds \(like 300 or 1\.5\) or milliseconds \(like 1500ms\)/);
  });

  test("strips a trailing slash from the GitHub URL", () => {
    expect(loadConfig({ GITHUB_API_URL: "http://127.0.0.1:9999/" }).githubApiUrl).toBe("http://127.0.0.1:9999");
  });

  test.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["PORT", "80.5"],
    ["CACHE_TTL", "-1"],
    ["UPSTREAM_TIMEOUT_MS", "0"],
    ["CACHE_MAX_ENTRIES", "0"],
    ["GITHUB_API_URL", "ftp://example.com"],
    ["GITHUB_API_URL", "not a url"],
    ["LOG_LEVEL", "loud"],
    ["CORS_ORIGINS", "not-an-origin"],
    ["CACHE_STALE_TTL", "-5"],
    ["CACHE_MAX_BYTES", "12"],
    ["CACHE_REVALIDATE", "maybe"],
    ["UPSTREAM_MAX_CONCURRENCY", "0"],
    ["UPSTREAM_MAX_CONCURRENCY", "101"],
    ["UPSTREAM_MAX_PER_MINUTE", "-1"],
    ["UPSTREAM_MAX_PER_MINUTE", "lots"],
    ["RATE_LIMIT_RPS", "fast"],
    ["GISTS_MAX_PAGES", "0"],
    ["ADMIN_HOSTS", "*"],
    ["ADMIN_HOSTS", "admin.example:8080"],
  ])("rejects %s=%s naming the variable", (name, value) => {
    const caught = configErrorOf({ [name]: value });
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(name);
    expect((caught as Error).message).toStartWith(`${name}:`);
  });

  test("never puts a token in an error message", () => {
    try {
      loadConfig({ GITHUB_TOKEN: "ghp_secret", PORT: "x" });
    } catch (error) {
      expect(String(error)).not.toContain("ghp_secret");
    }
  });

  test.each(["GITHUB_TOKEN", "ADMIN_TOKEN"])("%s holding whitespace or a control character is refused, naming it and never the value", (name) => {
    for (const value of ["ghp_sec ret", "ghp_sec\nret", "ghp_sec\tret", "ghp_sec\u0000ret", "ghp_sec\u007fret", "ghp_séc"]) {
      const caught = configErrorOf({ [name]: value });
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).variable).toBe(name);
      expect((caught as Error).message).toStartWith(`${name}:`);
      expect((caught as Error).message).not.toContain("sec");
    }
  });

  test("whitespace around a token (a secret file's trailing newline) is dropped, not refused", () => {
    const config = loadConfig({ GITHUB_TOKEN: "ghp_abc123\n", ADMIN_TOKEN: "  admin-Token_1.2~x  " });
    expect([config.githubToken, config.adminToken]).toEqual(["ghp_abc123", "admin-Token_1.2~x"]);
  });
});

describe("the shared tier's settings", () => {
  test("off without REDIS_URL; on with it, with the default prefix and timeout", () => {
    expect(loadConfig({}).shared).toBeUndefined();
    expect(loadConfig({ REDIS_URL: "redis://:s3cret@redis:6379/2" }).shared).toEqual({
      url: "redis://:s3cret@redis:6379/2",
      keyPrefix: "gists-api:",
      commandTimeoutMs: 250,
    });
    expect(loadConfig({ REDIS_URL: "rediss://user:pw@cache.example:6380", REDIS_KEY_PREFIX: "blue:", REDIS_TIMEOUT_MS: "100" }).shared).toEqual({
      url: "rediss://user:pw@cache.example:6380",
      keyPrefix: "blue:",
      commandTimeoutMs: 100,
    });
  });

  test("a bad REDIS_URL names the variable and never echoes the password", () => {
    for (const url of ["http://:s3cret@redis:6379", "redis://:s3cret@redis:6379/zero", "s3cret", "redis://:s3cret@redis:6379/0?x=1"]) {
      const caught = configErrorOf({ REDIS_URL: url });
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).variable).toBe("REDIS_URL");
      expect((caught as ConfigError).message).not.toContain("s3cret");
    }
  });

  test("REDIS_KEY_PREFIX must be visible characters, REDIS_TIMEOUT_MS a positive whole number", () => {
    expect(() => loadConfig({ REDIS_KEY_PREFIX: "has space:" })).toThrow("REDIS_KEY_PREFIX");
    expect(() => loadConfig({ REDIS_KEY_PREFIX: "" })).toThrow("REDIS_KEY_PREFIX");
    expect(() => loadConfig({ REDIS_TIMEOUT_MS: "0" })).toThrow("REDIS_TIMEOUT_MS");
  });
});

describe("the OpenTelemetry settings", () => {
  test("off without an endpoint, with OTEL_SDK_DISABLED or with OTEL_TRACES_EXPORTER=none", () => {
    expect(loadConfig({}).tracing).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://tempo:4318", OTEL_SDK_DISABLED: "true" }).tracing).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://tempo:4318", OTEL_TRACES_EXPORTER: "none" }).tracing).toBeUndefined();
  });

  test("the specification's defaults, and /v1/traces appended to the base endpoint", () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://tempo:4318/" }).tracing).toEqual({
      url: "http://tempo:4318/v1/traces",
      protocol: "http/protobuf",
      headers: {},
      timeoutMs: 10_000,
      serviceName: "gists-api",
      resourceAttributes: {},
      sampler: { name: "parentbased_always_on", ratio: 1 },
      batch: { scheduleDelayMs: 5000, maxQueueSize: 2048, maxExportBatchSize: 512, exportTimeoutMs: 30_000 },
    });
  });

  test("signal-specific variables win; headers and resource attributes are percent-decoded lists", () => {
    const tracing = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://ignored:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://collector.example/custom/path",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Basic%20dXNlcjpwdw==, x-scope-orgid=a",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-scope-orgid=b",
      OTEL_EXPORTER_OTLP_TIMEOUT: "3000",
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "2000",
      OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attributes,deployment.environment.name=prod,team=a%2Cb",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
      OTEL_BSP_MAX_QUEUE_SIZE: "100",
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "512",
    }).tracing!;
    expect(tracing.url).toBe("https://collector.example/custom/path");
    expect(tracing.protocol).toBe("http/json");
    expect(tracing.headers).toEqual({ authorization: "Basic dXNlcjpwdw==", "x-scope-orgid": "b" });
    expect(tracing.timeoutMs).toBe(2000);
    expect(tracing.serviceName).toBe("from-attributes");
    expect(tracing.resourceAttributes).toMatchObject({ "deployment.environment.name": "prod", team: "a,b" });
    expect(tracing.sampler).toEqual({ name: "parentbased_traceidratio", ratio: 0.25 });
    // A batch never exceeds the queue.
    expect(tracing.batch).toMatchObject({ maxQueueSize: 100, maxExportBatchSize: 100 });
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SERVICE_NAME: "blue", OTEL_RESOURCE_ATTRIBUTES: "service.name=x" }).tracing!.serviceName,
    ).toBe("blue");
  });

  test("bad values name their variable, even while tracing is off; header values are never shown", () => {
    const cases: [Record<string, string>, string, string?][] = [
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: "tempo:4318" }, "OTEL_EXPORTER_OTLP_ENDPOINT"],
      [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "ftp://tempo/v1/traces" }, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"],
      [{ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc is not supported"],
      [{ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/xml" }, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"],
      [{ OTEL_EXPORTER_OTLP_HEADERS: "authorization" }, "OTEL_EXPORTER_OTLP_HEADERS"],
      [{ OTEL_EXPORTER_OTLP_TIMEOUT: "soon" }, "OTEL_EXPORTER_OTLP_TIMEOUT"],
      [{ OTEL_TRACES_SAMPLER: "sometimes" }, "OTEL_TRACES_SAMPLER"],
      [{ OTEL_TRACES_SAMPLER_ARG: "1.5" }, "OTEL_TRACES_SAMPLER_ARG"],
      [{ OTEL_BSP_MAX_QUEUE_SIZE: "0" }, "OTEL_BSP_MAX_QUEUE_SIZE"],
      [{ OTEL_TRACES_EXPORTER: "jaeger" }, "OTEL_TRACES_EXPORTER"],
      [{ OTEL_SDK_DISABLED: "maybe" }, "OTEL_SDK_DISABLED"],
      [{ OTEL_RESOURCE_ATTRIBUTES: "team" }, "OTEL_RESOURCE_ATTRIBUTES"],
    ];
    for (const [env, variable, text] of cases) {
      const caught = configErrorOf(env) as ConfigError;
      expect(caught).toBeInstanceOf(ConfigError);
      expect(caught.variable).toBe(variable);
      if (text) expect(caught.message).toContain(text);
    }
    const secret = configErrorOf({ OTEL_EXPORTER_OTLP_HEADERS: "x-token=s3cret%ZZ" }) as ConfigError;
    expect(secret.variable).toBe("OTEL_EXPORTER_OTLP_HEADERS");
    expect(secret.message).not.toContain("s3cret");
  });
});

/** What loadConfig threw for `env`, or undefined when it did not throw. */
function configErrorOf(env: Record<string, string>): unknown {
  try {
    loadConfig(env);
  } catch (error) {
    return error;
  }
  return undefined;
}
