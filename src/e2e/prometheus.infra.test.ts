import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { catalog, externalMetrics } from "../metrics/catalog.ts";
import { startFakeGithub, type FakeGithub } from "../testing/fake-github.ts";
import { startOtlpReceiver, type OtlpReceiver } from "../testing/otlp-receiver.ts";
import { startPrometheus, type RunningPrometheus } from "../testing/prometheus-server.ts";
import { startRedis, type TestRedis } from "../testing/redis.ts";
import { repoRoot, startService, type RunningService } from "../testing/service.ts";
import { freshLogin, until } from "./stack.ts";

// The committed artifacts are what Grafana and Prometheus load, so those files are what is tested here.
const rulesPath = `${repoRoot}ops/prometheus/alerts.yaml`;
const dashboardsDir = `${repoRoot}grafana/dashboards/`;

const testMs = 120_000;
const trafficMs = 12_000;
const targetLabels = { namespace: "gists", pod: "gists-api-0" };
const job = "gists-api";

/** Template variables as Grafana fills them with "All" selected (allValue ".*"); 15 s is 15 scrape intervals. */
const allSelected = { namespace: ".*", job: ".*", pod: ".*", __rate_interval: "15s", __interval: "15s", __range: "1m" };
/** The same with this setup's one namespace, job and pod picked from the variables' drop-downs. */
const onePodSelected = { ...allSelected, namespace: targetLabels.namespace, job, pod: targetLabels.pod };

/** Series names the service itself exports (histograms as their _bucket, _count and _sum series). */
const serviceMetrics = new Set(
  Object.values(catalog).flatMap((spec) => (spec.type === "histogram" ? [`${spec.name}_bucket`, `${spec.name}_count`, `${spec.name}_sum`] : [spec.name])),
);
const recordedMetrics = new Set<string>(
  (parseYaml(readFileSync(rulesPath, "utf8")) as _RuleFile).groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))),
);
// Prometheus' own `up` and the runtime's process metrics exist here; kube-state-metrics and Istio do not.
const absentHere = new Set(
  Object.entries(externalMetrics)
    .filter(([, metric]) => !/^(Prometheus|runtime)\b/.test(metric.source))
    .map(([name]) => name),
);
const knownMetrics = new Set([...serviceMetrics, ...recordedMetrics, ...Object.keys(externalMetrics)]);

describe("dashboards and rules on a real Prometheus [binary]", () => {
  let fake: FakeGithub | undefined;
  let service: RunningService | undefined;
  let prometheus: RunningPrometheus | undefined;
  let redis: TestRedis | undefined;
  let receiver: OtlpReceiver | undefined;
  const seen = { statuses: new Map<number, number>(), xCache: new Map<string, number>() };

  beforeAll(async () => {
    fake = await startFakeGithub({ users: { octocat: 3, alice: 5, bob: 1 } });
    redis = await startRedis();
    receiver = await startOtlpReceiver();
    service = await startService({
      target: "binary",
      env: {
        GITHUB_API_URL: fake.url,
        // The shared tier too, so its metrics and panels have data; the traffic makes it wait, fail and drop.
        REDIS_URL: redis.url,
        REDIS_TIMEOUT_MS: "100",
        // Pages expire after 1 s and stay servable: hits, STALE answers and 304 revalidations all happen.
        CACHE_TTL: "1",
        CACHE_STALE_TTL: "60",
        CACHE_NEGATIVE_TTL: "1",
        // Small enough that one churn of fresh users evicts.
        CACHE_MAX_ENTRIES: "24",
        UPSTREAM_RETRIES: "1",
        UPSTREAM_TIMEOUT_MS: "3000",
        // Three failed requests in a row open the breaker; the driver only fails three in a row on purpose.
        BREAKER_THRESHOLD: "3",
        BREAKER_COOLDOWN_MS: "1500",
        // Far above the steady traffic; only the deliberate burst is refused.
        RATE_LIMIT_RPS: "200",
        RATE_LIMIT_BURST: "40",
        // Traced at a ratio, so OpenMetrics scrapes carry exemplars pointing at exported traces.
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_TRACES_SAMPLER: "traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0.5",
        OTEL_BSP_SCHEDULE_DELAY: "200",
      },
    });
    prometheus = await startPrometheus({
      jobs: [{ name: job, targets: [new URL(service.url).host], labels: targetLabels }],
      ruleFiles: [rulesPath],
      intervalSeconds: 1,
      features: ["exemplar-storage"],
    });
    await _driveTraffic(service.url, fake, redis, seen);
    const p = prometheus;
    await until(async () => _scalar(await p.query(`count_over_time(up{job="${job}"}[5m])`)) >= 8, 20_000, "8 scrapes");
    await until(async () => _resultCount(await p.query("gists_api:availability_errors:ratio_rate5m")) > 0, 20_000, "recording rules");
    await until(async () => (await _ruleHealth(p)).every((rule) => rule.health !== "unknown"), 20_000, "every rule evaluated");
  }, testMs);

  afterAll(async () => {
    await prometheus?.stop();
    await service?.stop();
    await redis?.stop();
    await receiver?.close();
    await fake?.close();
  }, testMs);

  test(
    "request durations carry exemplars whose trace ids are traces the collector received",
    async () => {
      const end = Date.now() / 1000;
      const answer = await prometheus!.get<_ExemplarSeries[]>(
        `/api/v1/query_exemplars?${new URLSearchParams({ query: `http_request_duration_seconds_bucket{job="${job}"}`, start: String(end - 600), end: String(end) })}`,
      );
      expect(answer.status).toBe("success");
      const traceIds = answer.data!.flatMap((series) => series.exemplars.map((exemplar) => exemplar.labels.trace_id));
      expect(traceIds.length).toBeGreaterThan(0);
      // Spans leave in batches: the last scraped request's may still be on its way.
      const missing = () => {
        const exported = new Set(
          receiver!
            .spans()
            .filter((span) => span.kind === "SERVER")
            .map((span) => span.traceId),
        );
        return traceIds.filter((id) => !exported.has(id!));
      };
      await until(() => missing().length === 0, 10_000, "every exemplar's trace at the collector").catch(() => {});
      expect(missing()).toEqual([]);
    },
    testMs,
  );

  test("the traffic covered successes, hits, STALE, 404, 422, 429 and 502", () => {
    expect([...seen.statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 404, 422, 429, 502]));
    expect([...seen.xCache.keys()]).toEqual(expect.arrayContaining(["MISS", "HIT", "STALE"]));
  });

  test(
    "the target is up and every rule group of alerts.yaml loaded and evaluates without errors",
    async () => {
      const targets = await prometheus!.get<{ activeTargets: _Target[] }>("/api/v1/targets");
      const ours = targets.data!.activeTargets.filter((t) => t.labels.job === job);
      const seenTargets: Array<Record<string, string>> = ours.map((t) => ({ health: t.health, lastError: t.lastError, ...t.labels }));
      expect(seenTargets).toEqual([{ health: "up", lastError: "", job, instance: new URL(service!.url).host, ...targetLabels }]);

      const expected = (parseYaml(readFileSync(rulesPath, "utf8")) as _RuleFile).groups;
      const loaded = await prometheus!.get<{ groups: _LoadedGroup[] }>("/api/v1/rules");
      expect(loaded.status).toBe("success");
      const shape = (groups: Array<{ name: string; rules: unknown[] }>) => groups.map((g) => `${g.name}: ${g.rules.length} rules`).sort();
      expect(shape(loaded.data!.groups)).toEqual(shape(expected));
      const unhealthy = (await _ruleHealth(prometheus!)).filter((rule) => rule.health !== "ok");
      expect(unhealthy).toEqual([]);
    },
    testMs,
  );

  test(
    "every catalog metric has samples, and GitHub's statuses include 200, 304, 404 and 500",
    async () => {
      const names = await prometheus!.query(`count by (__name__) ({job="${job}"})`);
      const present = new Set((names.data!.result as _Sample[]).map((s) => s.metric.__name__));
      expect([...serviceMetrics].filter((name) => !present.has(name))).toEqual([]);

      const statuses = await prometheus!.query(`count by (status) (github_api_requests_total{job="${job}"})`);
      const seenStatuses = (statuses.data!.result as _Sample[]).map((s) => s.metric.status);
      expect(seenStatuses).toEqual(expect.arrayContaining(["200", "304", "404", "500"]));
      // The breaker did open (2) at least once while Prometheus watched.
      expect(_scalar(await prometheus!.query(`max_over_time(github_circuit_breaker_state{job="${job}"}[5m])`))).toBe(2);
    },
    testMs,
  );

  test(
    "every template variable's label_values() lists this target's namespace, job and pod",
    async () => {
      const problems: string[] = [];
      for (const variable of _variableQueries()) {
        const parsed = /^label_values\((?:(.*),\s*)?(\w+)\)$/.exec(variable.query.trim());
        if (!parsed) {
          problems.push(`${variable.dashboard} $${variable.name}: not label_values(selector, label): ${variable.query}`);
          continue;
        }
        const [, selector, label] = parsed;
        const params = new URLSearchParams();
        if (selector) params.set("match[]", _substitute(selector, allSelected).expr);
        const answer = await prometheus!.get<string[]>(`/api/v1/label/${label}/values?${params}`);
        const wanted = { namespace: targetLabels.namespace, job, pod: targetLabels.pod }[variable.name];
        if (answer.status !== "success" || !answer.data!.includes(wanted ?? "")) {
          problems.push(`${variable.dashboard} $${variable.name}: ${variable.query} gave ${JSON.stringify(answer)}`);
        }
      }
      expect(problems).toEqual([]);
    },
    testMs,
  );

  test(
    "every panel query parses and evaluates; every one not about kube-state-metrics or Istio returns data",
    async () => {
      expect(await _emptyOrBroken(prometheus!, allSelected)).toEqual([]);
    },
    testMs,
  );

  // What a user sees after picking a pod: a matcher on a label a series lacks only matches while "All" (.*) is selected.
  test(
    "the same with one namespace, job and pod picked in the variables' drop-downs",
    async () => {
      expect(await _emptyOrBroken(prometheus!, onePodSelected)).toEqual([]);
    },
    testMs,
  );
});

/** One series of Prometheus' exemplar query answer. */
interface _ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}

/** Every panel query that fails to evaluate, or returns nothing though its metrics exist here, described. */
async function _emptyOrBroken(prometheus: RunningPrometheus, values: Record<string, string>): Promise<string[]> {
  const queries = _panelQueries();
  expect(queries.length).toBeGreaterThan(20);
  const problems: string[] = [];
  for (const query of queries) {
    const where = `${query.dashboard} / "${query.panel}": ${query.expr}`;
    const { expr, unknown } = _substitute(query.expr, values);
    if (unknown.length > 0) problems.push(`unknown variables ${unknown.join(", ")} in ${where}`);
    const names = _metricNames(expr);
    if (names.length === 0) problems.push(`names no metric of the catalog, the rules or externalMetrics: ${where}`);
    const answer = await prometheus.query(expr);
    if (answer.status !== "success") {
      problems.push(`${answer.errorType}: ${answer.error} in ${where}`);
      continue;
    }
    const mayBeEmpty = names.some((name) => absentHere.has(name));
    if (!mayBeEmpty && answer.data!.result.length === 0) problems.push(`empty: ${where}`);
  }
  return problems;
}

/** One request of the driver; statuses and X-Cache verdicts are tallied so the first test can show coverage. */
type _Get = (path: string) => Promise<number>;

/**
 * About 12 s of traffic that makes every metric move: misses, hits, STALE answers and 304 revalidations (TTL 1 s),
 * 404s, 422s, retried and failed 500s, slow and coalesced requests, one rate-limit burst, one eviction churn and
 * one open breaker.
 */
async function _driveTraffic(base: string, fake: FakeGithub, redis: TestRedis, seen: { statuses: Map<number, number>; xCache: Map<string, number> }) {
  const get: _Get = async (path) => {
    const res = await fetch(`${base}${path}`);
    await res.arrayBuffer();
    seen.statuses.set(res.status, (seen.statuses.get(res.status) ?? 0) + 1);
    const verdict = res.headers.get("x-cache");
    if (verdict) seen.xCache.set(verdict, (seen.xCache.get(verdict) ?? 0) + 1);
    return res.status;
  };
  const started = Date.now();
  for (let round = 0; Date.now() - started < trafficMs; round++) {
    const roundStarted = Date.now();
    await Promise.all([
      get("/octocat"),
      get("/alice?per_page=2&page=1"),
      get("/alice?per_page=2&page=2"),
      get("/bob"),
      get(`/ghost-${round % 3}`),
      get("/bad_name"),
      get("/octocat?per_page=500"),
      round % 4 === 0 ? _flaky(fake, get) : undefined,
      round % 4 === 2 ? _slowAndCoalesced(fake, get) : undefined,
    ]);
    if (round === 8) await _burst(get);
    if (round === 12) await _sharedTierTrouble(fake, redis, get);
    if (round === 16) await _churn(fake, get);
    if (round === 24) await _openBreaker(fake, get);
    await Bun.sleep(Math.max(0, 250 - (Date.now() - roundStarted)));
  }
}

/** One 500 that a retry heals, and one request whose every attempt gets a 500 (a 502 for the client). */
async function _flaky(fake: FakeGithub, get: _Get): Promise<void> {
  const healed = freshLogin("healed");
  const failed = freshLogin("failed");
  fake.setUser(healed, 1);
  fake.setUser(failed, 1);
  fake.setFault(healed, { kind: "status", status: 500, times: 1 });
  fake.setFault(failed, { kind: "status", status: 500, times: 2 });
  await Promise.all([get(`/${healed}`), get(`/${failed}`)]);
}

/** A GitHub answer slower than the 0.25 s latency objective, asked for by four clients at once. */
async function _slowAndCoalesced(fake: FakeGithub, get: _Get): Promise<void> {
  const slow = freshLogin("slow");
  fake.setUser(slow, 2);
  fake.setFault(slow, { kind: "latency", ms: 400, times: 1 });
  await Promise.all(Array.from({ length: 4 }, () => get(`/${slow}`)));
}

/**
 * The shared tier's bad moments: a lease another replica holds and never fills (a wait that fails), an entry
 * that cannot be read (dropped), and a stalled Redis (commands time out and fall back).
 */
async function _sharedTierTrouble(fake: FakeGithub, redis: TestRedis, get: _Get): Promise<void> {
  const [waited, unreadable, stalled] = [freshLogin("leased"), freshLogin("unreadable"), freshLogin("stalled")];
  for (const login of [waited, unreadable, stalled]) fake.setUser(login, 1);
  redis.cli("SET", redis.keysOf(`${waited}:1:30`).lease, "another-replica", "PX", "300");
  redis.cli("SET", redis.keysOf(`${unreadable}:1:30`).entry, "not an entry");
  await Promise.all([get(`/${waited}`), get(`/${unreadable}`)]);
  redis.freeze();
  try {
    await get(`/${stalled}`);
  } finally {
    redis.thaw();
  }
}

/** More requests at once than RATE_LIMIT_BURST: some are refused with 429. */
async function _burst(get: _Get): Promise<void> {
  const statuses = await Promise.all(Array.from({ length: 60 }, () => get("/octocat")));
  expect(statuses).toContain(429);
}

/** More fresh users than CACHE_MAX_ENTRIES, ten at a time, so older entries are evicted. */
async function _churn(fake: FakeGithub, get: _Get): Promise<void> {
  for (let batch = 0; batch < 3; batch++) {
    const logins = Array.from({ length: 10 }, () => freshLogin("churn"));
    for (const login of logins) fake.setUser(login, 1);
    await Promise.all(logins.map((login) => get(`/${login}`)));
  }
}

/** Three failed requests in a row open the breaker; it closes by itself once GitHub answers a probe again. */
async function _openBreaker(fake: FakeGithub, get: _Get): Promise<void> {
  const tripwire = freshLogin("tripwire");
  fake.setUser(tripwire, 1);
  fake.setFault(tripwire, { kind: "status", status: 500 });
  for (let i = 0; i < 3; i++) expect(await get(`/${tripwire}`)).toBe(502);
  fake.setFault(tripwire, null);
}

interface _PanelQuery {
  dashboard: string;
  panel: string;
  expr: string;
}

/** Every `expr` of every panel target (rows' nested panels included) of the committed dashboards. */
function _panelQueries(): _PanelQuery[] {
  const queries: _PanelQuery[] = [];
  const walk = (dashboard: string, node: unknown): void => {
    if (Array.isArray(node)) {
      for (const child of node) walk(dashboard, child);
      return;
    }
    if (typeof node !== "object" || node === null) return;
    const panel = node as { title?: string; targets?: Array<{ expr?: string }>; panels?: unknown };
    for (const target of panel.targets ?? []) {
      if (target.expr) queries.push({ dashboard, panel: panel.title ?? "(untitled)", expr: target.expr });
    }
    walk(dashboard, panel.panels);
  };
  for (const [file, board] of _dashboards()) walk(file, board.panels);
  return queries;
}

/** The query variables of the committed dashboards. */
function _variableQueries(): Array<{ dashboard: string; name: string; query: string }> {
  return _dashboards().flatMap(([file, board]) =>
    (board.templating?.list ?? [])
      .filter((variable) => variable.type === "query")
      .map((variable) => ({
        dashboard: file,
        name: variable.name,
        query: typeof variable.query === "string" ? variable.query : (variable.query?.query ?? ""),
      })),
  );
}

function _dashboards(): Array<[string, _Dashboard]> {
  return readdirSync(dashboardsDir)
    .filter((file) => file.endsWith(".json"))
    .sort()
    .map((file) => [file, JSON.parse(readFileSync(`${dashboardsDir}${file}`, "utf8")) as _Dashboard]);
}

/** Replace `$name`, `${name}`, `${name:format}` and `[[name]]` as Grafana would; names with no value are reported. */
function _substitute(expr: string, values: Record<string, string>): { expr: string; unknown: string[] } {
  const unknown: string[] = [];
  const result = expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g, (whole, braced, bare, bracketed) => {
    const name = (braced ?? bare ?? bracketed) as string;
    if (values[name] !== undefined) return values[name];
    unknown.push(whole);
    return whole;
  });
  return { expr: result, unknown };
}

/** The known metric names an expression mentions (label values in quotes are not names). */
function _metricNames(expr: string): string[] {
  const unquoted = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...new Set(unquoted.match(/[A-Za-z_:][A-Za-z0-9_:]*/g) ?? [])].filter((token) => knownMetrics.has(token));
}

async function _ruleHealth(prometheus: RunningPrometheus): Promise<Array<{ group: string; rule: string; health: string; lastError?: string }>> {
  const answer = await prometheus.get<{ groups: _LoadedGroup[] }>("/api/v1/rules");
  return (answer.data?.groups ?? []).flatMap((group) =>
    group.rules.map((rule) => ({
      group: group.name,
      rule: rule.name,
      health: rule.health,
      ...(rule.lastError ? { lastError: rule.lastError } : {}),
    })),
  );
}

function _resultCount(answer: { data?: { result: unknown[] } }): number {
  return answer.data?.result.length ?? 0;
}

/** The value of a one-sample instant vector, or NaN when there is none. */
function _scalar(answer: { data?: { result: unknown[] } }): number {
  const first = answer.data?.result[0] as _Sample | undefined;
  return first ? Number(first.value[1]) : Number.NaN;
}

interface _Sample {
  metric: Record<string, string>;
  value: [number, string];
}

interface _Target {
  labels: Record<string, string>;
  health: string;
  lastError: string;
}

interface _LoadedGroup {
  name: string;
  rules: Array<{ name: string; health: string; lastError?: string; type: string }>;
}

interface _RuleFile {
  groups: Array<{ name: string; rules: Array<{ record?: string; alert?: string }> }>;
}

interface _Dashboard {
  panels?: unknown[];
  templating?: { list?: Array<{ type: string; name: string; query?: string | { query?: string } }> };
}
