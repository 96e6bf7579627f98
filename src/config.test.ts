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
      corsOrigins: ["*"],
      logLevel: "info",
      cache: { ttlSeconds: 300, staleSeconds: 3600, negativeTtlSeconds: 60, maxEntries: 10_000, maxBytes: 67_108_864, revalidate: true, maxPages: 30 },
      upstream: { timeoutMs: 5000, maxBodyBytes: 5_242_880, maxConcurrency: 16, retries: 2, breakerThreshold: 5, breakerCooldownMs: 10_000 },
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
    expect(config.cache.ttlSeconds).toBe(0);
    expect(config.githubToken).toBe("t0k");
    expect(config.corsOrigins).toEqual(["https://a.example", "https://b.example"]);
    expect(config.logLevel).toBe("debug");
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
    ["RATE_LIMIT_RPS", "fast"],
    ["GISTS_MAX_PAGES", "0"],
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

/** What loadConfig threw for `env`, or undefined when it did not throw. */
function configErrorOf(env: Record<string, string>): unknown {
  try {
    loadConfig(env);
  } catch (error) {
    return error;
  }
  return undefined;
}
