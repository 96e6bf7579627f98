import { expect, test } from "bun:test";
import { parsePrometheusText, sampleSum, type PrometheusScrape } from "../testing/prometheus-text.ts";
import { describeTargets, freshLogin, until, useStack, type Stack } from "./stack.ts";

async function scrape(s: Stack): Promise<PrometheusScrape> {
  const res = await s.request("/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type") ?? "").toStartWith("text/plain");
  return parsePrometheusText(await res.text());
}

const route = { method: "GET", route: "/:username" };

describeTargets("metrics", (target) => {
  const s = useStack(target);

  test("GET /metrics exposes the spec's families with their types", async () => {
    const login = freshLogin("warm");
    s.fake.setUser(login, 1);
    await s.request(`/${login}`);
    const { types } = await scrape(s);
    expect({
      http_requests_total: types.http_requests_total,
      http_request_duration_seconds: types.http_request_duration_seconds,
      http_requests_in_flight: types.http_requests_in_flight,
      github_api_requests_total: types.github_api_requests_total,
      cache_hits_total: types.cache_hits_total,
      cache_misses_total: types.cache_misses_total,
    }).toEqual({
      http_requests_total: "counter",
      http_request_duration_seconds: "histogram",
      http_requests_in_flight: "gauge",
      github_api_requests_total: "counter",
      cache_hits_total: "counter",
      cache_misses_total: "counter",
    });
  });

  test("a miss then a hit move the request, GitHub and cache counters by exactly one each", async () => {
    const login = freshLogin("count");
    s.fake.setUser(login, 2);
    const measure = (m: PrometheusScrape) => ({
      requests200: sampleSum(m, "http_requests_total", { ...route, status: "200" }),
      durations: sampleSum(m, "http_request_duration_seconds_count", route),
      infBucket: sampleSum(m, "http_request_duration_seconds_bucket", { ...route, le: "+Inf" }),
      github200: sampleSum(m, "github_api_requests_total", { status: "200" }),
      hits: sampleSum(m, "cache_hits_total"),
      misses: sampleSum(m, "cache_misses_total"),
    });
    const delta = (a: ReturnType<typeof measure>, b: ReturnType<typeof measure>) =>
      Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - a[k as keyof typeof a]]));
    const start = measure(await scrape(s));
    await s.request(`/${login}`);
    const afterMiss = measure(await scrape(s));
    await s.request(`/${login}`);
    const afterHit = measure(await scrape(s));
    expect(delta(start, afterMiss)).toEqual({ requests200: 1, durations: 1, infBucket: 1, github200: 1, hits: 0, misses: 1 });
    expect(delta(afterMiss, afterHit)).toEqual({ requests200: 1, durations: 1, infBucket: 1, github200: 0, hits: 1, misses: 0 });
  });

  test("GitHub's status is the github_api_requests_total label", async () => {
    const before = sampleSum(await scrape(s), "github_api_requests_total", { status: "404" });
    await s.request(`/${freshLogin("nobody")}`);
    expect(sampleSum(await scrape(s), "github_api_requests_total", { status: "404" })).toBe(before + 1);
  });

  test("http_requests_in_flight counts a request waiting on GitHub", async () => {
    const login = freshLogin("inflight");
    s.fake.setUser(login, 1);
    s.fake.setFault(login, { kind: "latency", ms: 1_000 });
    const idle = sampleSum(await scrape(s), "http_requests_in_flight");
    const pending = s.request(`/${login}`);
    await until(() => s.fake.inFlight === 1, 5_000, "the request to reach GitHub");
    const busy = sampleSum(await scrape(s), "http_requests_in_flight");
    expect((await pending).status).toBe(200);
    expect(busy - idle).toBe(1);
  });

  test("route labels are templates: no username or raw path ever appears in /metrics", async () => {
    const names = Array.from({ length: 25 }, () => freshLogin("zq"));
    for (const name of names.slice(0, 15)) await s.request(`/${name}`);
    for (const name of names.slice(15, 20)) await s.request(`/${name}_x`);
    for (const name of names.slice(20)) await s.request(`/${name}/deeper/path`);
    const text = await (await s.request("/metrics")).text();
    expect(names.filter((name) => text.includes(name))).toEqual([]);
    const routes = new Set(
      parsePrometheusText(text)
        .samples.map((x) => x.labels.route)
        .filter(Boolean),
    );
    expect(routes.size).toBeLessThanOrEqual(15);
  });
});

describeTargets("request ids and logs", (target) => {
  const s = useStack(target);

  test("an incoming X-Request-Id is echoed back, in the header and in error bodies", async () => {
    const id = `e2e-${crypto.randomUUID()}`;
    const res = await s.request("/a/b/c", { headers: { "x-request-id": id } });
    expect(res.headers.get("x-request-id")).toBe(id);
    expect(((await res.json()) as any).request_id).toBe(id);
  });

  test("every kind of answer echoes X-Request-Id: miss, cached hit, 422, 404, upstream error, preflight, probes", async () => {
    const login = freshLogin("echo");
    const ghost = freshLogin("ghost");
    s.fake.setUser(login, 1);
    const kinds: Array<[string, string, RequestInit?]> = [
      ["miss", `/${login}`],
      ["hit", `/${login}`],
      ["hit again", `/${login}`],
      ["invalid", "/bad_name"],
      ["unknown user", `/${ghost}`],
      ["unknown route", "/a/b/c"],
      ["preflight", `/${login}`, { method: "OPTIONS", headers: { origin: "https://x.example", "access-control-request-method": "GET" } }],
      ["health", "/health"],
      ["metrics", "/metrics"],
      ["stats", "/cache/stats"],
    ];
    const echoed = [];
    for (const [kind, path, init] of kinds) {
      const id = `e2e-${kind.replace(/ /g, "-")}-${crypto.randomUUID()}`;
      const headers = { ...(init?.headers as Record<string, string> | undefined), "x-request-id": id };
      const res = await s.request(path, { ...init, headers });
      echoed.push([kind, res.headers.get("x-request-id") === id]);
    }
    expect(echoed).toEqual(kinds.map(([kind]) => [kind, true]));
  });

  test("without one, each answer carries a fresh generated id", async () => {
    const a = (await s.request("/health")).headers.get("x-request-id");
    const b = (await s.request("/health")).headers.get("x-request-id");
    expect(a?.length ?? 0).toBeGreaterThan(0);
    expect(b?.length ?? 0).toBeGreaterThan(0);
    expect(a).not.toBe(b);
  });

  test("each request writes one JSON access line with id, method, status, route and duration", async () => {
    const login = freshLogin("logged");
    s.fake.setUser(login, 1);
    const id = `e2e-log-${crypto.randomUUID()}`;
    expect((await s.request(`/${login}`, { headers: { "x-request-id": id } })).status).toBe(200);
    const mentions = (line: Record<string, unknown>) => Object.values(line).includes(id);
    await s.service.waitForLog((line) => mentions(line) && "status" in line, 3_000);
    await Bun.sleep(100);
    const access = s.service.logs().filter((line) => mentions(line) && "status" in line);
    expect(access).toHaveLength(1);
    const line = access[0]!;
    expect(line).toMatchObject({ method: "GET", route: "/:username" });
    expect(Number(line.status)).toBe(200);
    const durations = Object.entries(line).filter(([key, value]) => /duration|latency|elapsed/i.test(key) && typeof value === "number");
    expect(durations.length).toBeGreaterThan(0);
  });

  test("a cached hit writes its access line too", async () => {
    const login = freshLogin("loghit");
    s.fake.setUser(login, 1);
    await s.request(`/${login}`);
    const ids = [`e2e-hit1-${crypto.randomUUID()}`, `e2e-hit2-${crypto.randomUUID()}`];
    for (const id of ids) expect((await s.request(`/${login}`, { headers: { "x-request-id": id } })).headers.get("x-cache")).toBe("HIT");
    for (const id of ids) {
      const line = await s.service.waitForLog((l) => l.request_id === id || Object.values(l).includes(id), 3_000);
      expect(line).toMatchObject({ method: "GET", route: "/:username" });
      expect(Number(line.status)).toBe(200);
    }
  });

  test("stdout is JSON lines only", () => {
    const lines = s.service
      .stdout()
      .split("\n")
      .filter((line) => line.trim() !== "");
    const notJson = lines.filter((line) => {
      try {
        return typeof JSON.parse(line) !== "object";
      } catch {
        return true;
      }
    });
    expect(lines.length).toBeGreaterThan(0);
    expect(notJson).toEqual([]);
  });
});
