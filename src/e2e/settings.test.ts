import { expect, test } from "bun:test";
import { runCli } from "../testing/service.ts";
import { describeTargets, timedTestMs } from "./stack.ts";

/** One clearly invalid value for each setting of the cache, upstream, rate-limit, admin and tracing features. */
const invalid: Array<[string, string]> = [
  ["CACHE_STALE_TTL", "-1"],
  ["CACHE_NEGATIVE_TTL", "soon"],
  ["CACHE_MAX_ENTRIES", "-5"],
  ["CACHE_MAX_BYTES", "lots"],
  ["CACHE_REVALIDATE", "maybe"],
  ["UPSTREAM_MAX_BODY_BYTES", "-1"],
  ["UPSTREAM_TIMEOUT_MS", "fast"],
  ["UPSTREAM_MAX_CONCURRENCY", "0"],
  ["UPSTREAM_RETRIES", "-1"],
  ["BREAKER_THRESHOLD", "-3"],
  ["BREAKER_COOLDOWN_MS", "later"],
  ["GISTS_MAX_PAGES", "-2"],
  ["RATE_LIMIT_RPS", "-1"],
  ["RATE_LIMIT_BURST", "big"],
  ["RATE_LIMIT_TRUSTED_HOPS", "-1"],
  ["ADMIN_HOSTS", "*"],
  ["OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"],
  ["OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"],
  ["OTEL_TRACES_SAMPLER", "sometimes"],
  ["OTEL_TRACES_SAMPLER_ARG", "2"],
];

/** Run `work` over `items`, at most `width` at a time (deno start-ups are the cost here). */
async function inBatches<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += width) results.push(...(await Promise.all(items.slice(i, i + width).map(work))));
  return results;
}

describeTargets("configuration errors of the cache, upstream, rate-limit, admin and tracing settings", (target) => {
  test(
    "each invalid value exits 2 naming its variable",
    async () => {
      const results = await inBatches(invalid, 4, async ([variable, value]) => {
        const result = await runCli(["serve"], { HOST: "127.0.0.1", PORT: "0", [variable]: value }, { target, timeoutMs: 15_000 });
        return { variable, value, code: result.code, named: `${result.stdout}${result.stderr}`.includes(variable) };
      });
      expect(results).toEqual(invalid.map(([variable, value]) => ({ variable, value, code: 2, named: true })));
    },
    timedTestMs,
  );
});

describeTargets("a token that cannot travel in a header", (target) => {
  test(
    "GITHUB_TOKEN or ADMIN_TOKEN holding whitespace or a control character exits 2, naming it, never the value",
    async () => {
      const cases: Array<[string, string]> = [
        ["GITHUB_TOKEN", "ghp_hidden1 part"],
        ["GITHUB_TOKEN", "ghp_hidden2\npart"],
        ["ADMIN_TOKEN", "hidden3\tpart"],
        ["ADMIN_TOKEN", "hidden4\u0007part"],
      ];
      const results = await inBatches(cases, 4, async ([variable, value]) => {
        const result = await runCli(["serve"], { HOST: "127.0.0.1", PORT: "0", [variable]: value }, { target, timeoutMs: 15_000 });
        const output = `${result.stdout}${result.stderr}`;
        return { variable, code: result.code, named: output.includes(variable), leaked: output.includes("hidden") };
      });
      expect(results).toEqual(cases.map(([variable]) => ({ variable, code: 2, named: true, leaked: false })));
    },
    timedTestMs,
  );
});
