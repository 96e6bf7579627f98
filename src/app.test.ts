import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";
import { bearerMatches } from "./modules/cache-admin/index.ts";
import { createServer, type Server } from "./server.ts";
import { startFakeGithub, type FakeGithub } from "./testing/fake-github.ts";

// The whole request path in-process (server.fetch, no port on our side) against the fake GitHub over HTTP.
let github: FakeGithub;
let server: Server;
let logs = { text: "" };

const get = async (path: string, init: RequestInit = {}) => {
  const response = await server.fetch(new Request(`http://localhost${path}`, init));
  const text = await response.text();
  return { response, status: response.status, text, json: () => JSON.parse(text) };
};

beforeAll(async () => {
  github = await startFakeGithub({ users: { octocat: 8, "mona-lisa": 0 } });
});
afterAll(() => github.close());
beforeEach(() => {
  github.reset();
  github.clearRequests();
  server = _serve();
});

// A deadline a stalled, busy machine still answers within; the hang case waits out a shorter one (and still
// recovers within it) to see its 504.
function _serve(upstreamTimeoutMs = 10_000): Server {
  const buffer = { text: "" };
  logs = buffer;
  const config = loadConfig({ GITHUB_API_URL: github.url, UPSTREAM_TIMEOUT_MS: String(upstreamTimeoutMs), GITHUB_TOKEN: "ghp_unit_secret" });
  return createServer(
    config,
    createLogger("info", (text) => (buffer.text += text)),
  );
}

describe("validation", () => {
  test.each([
    ["/oct_cat", ["path", "username"]],
    ["/octo.cat", ["path", "username"]],
    ["/-octocat", ["path", "username"]],
    ["/octocat-", ["path", "username"]],
    ["/octo--cat", ["path", "username"]],
    ["/octo%2Fcat", ["path", "username"]],
    ["/octo%20cat", ["path", "username"]],
    [`/${"a".repeat(40)}`, ["path", "username"]],
    ["/octocat?page=0", ["query", "page"]],
    ["/octocat?page=101", ["query", "page"]],
    ["/octocat?page=1.5", ["query", "page"]],
    ["/octocat?page=abc", ["query", "page"]],
    ["/octocat?page=", ["query", "page"]],
    ["/octocat?per_page=0", ["query", "per_page"]],
    ["/octocat?per_page=500", ["query", "per_page"]],
    ["/octocat?use_cache=yes", ["query", "use_cache"]],
  ])("%s is 422 naming %p, with no upstream call", async (path, loc) => {
    const { status, json } = await get(path);
    expect(status).toBe(422);
    const body = json();
    expect(body.detail[0].loc).toEqual(loc);
    expect(body.detail[0].msg).toContain(loc[1]);
    expect(typeof body.request_id).toBe("string");
    expect(github.requestCount()).toBe(0);
  });

  test("a 39-character login with single hyphens is valid", async () => {
    const login = `a-${"b".repeat(37)}`;
    github.setUser(login, 1);
    expect((await get(`/${login}`)).status).toBe(200);
  });

  test("a cached page never answers an invalid variant of its URL", async () => {
    expect((await get("/octocat")).status).toBe(200);
    expect((await get("/octocat")).response.headers.get("x-cache")).toBe("HIT");
    expect((await get("/octocat?per_page=500")).status).toBe(422);
    expect((await get("/octocat?use_cache=nope")).status).toBe(422);
  });
});

describe("gists pages", () => {
  test("shape, pagination from the Link header and the cache verdict", async () => {
    const first = await get("/octocat?page=1&per_page=3");
    expect(first.status).toBe(200);
    expect(first.response.headers.get("x-cache")).toBe("MISS");
    const body = first.json();
    expect(Object.keys(body)).toEqual(["data", "pagination", "cache"]);
    expect(body.pagination).toEqual({ page: 1, per_page: 3, count: 3, has_next: true, has_prev: false });
    expect(body.cache).toEqual({ hit: false, ttl_seconds: 300 });
    const [gist] = github.gists("octocat");
    expect(body.data[0]).toMatchObject({ id: gist!.id, url: gist!.html_url, created_at: gist!.created_at });
    expect(body.data[0].files).toEqual(gist!.files);
    const [name, file] = Object.entries(gist!.files)[0]!;
    expect(body.data[0].files[name].raw_url).toBe(file.raw_url);

    const last = (await get("/octocat?page=3&per_page=3")).json();
    expect(last.pagination).toEqual({ page: 3, per_page: 3, count: 2, has_next: false, has_prev: true });
    const past = (await get("/octocat?page=9&per_page=3")).json();
    expect(past.data).toEqual([]);
    expect(past.pagination.count).toBe(0);
  });

  test("the canonical request keys the cache: case and defaults do not matter", async () => {
    await get("/Octocat");
    const second = await get("/octocat?page=1&per_page=30");
    expect(second.response.headers.get("x-cache")).toBe("HIT");
    expect(second.json().cache.hit).toBe(true);
    expect(github.requestCount("octocat")).toBe(1);
  });

  test("use_cache=false goes upstream every time", async () => {
    await get("/octocat");
    const bypass = await get("/octocat?use_cache=false");
    expect(bypass.response.headers.get("x-cache")).toBe("BYPASS");
    await get("/octocat?use_cache=false");
    expect(github.requestCount("octocat")).toBe(3);
  });

  test("concurrent misses for one page make one upstream request", async () => {
    github.setFault("octocat", { kind: "latency", ms: 100 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => get("/octocat")));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(github.requestCount("octocat")).toBe(1);
  });

  test("a user with no gists is an empty page", async () => {
    const { status, json } = await get("/mona-lisa");
    expect(status).toBe(200);
    expect(json().data).toEqual([]);
  });

  test("upstream requests carry GitHub's headers and the token", async () => {
    await get("/octocat?page=2&per_page=5");
    const [request] = github.requests;
    expect(request!.path).toBe("/users/octocat/gists");
    expect(request!.query.get("page")).toBe("2");
    expect(request!.query.get("per_page")).toBe("5");
    expect(request!.headers.accept).toBe("application/vnd.github+json");
    expect(request!.headers["x-github-api-version"]).toBe("2022-11-28");
    expect(request!.headers["user-agent"]).toStartWith("gists-api/");
    expect(request!.headers.authorization).toBe("Bearer ghp_unit_secret");
  });
});

describe("upstream failures map to one status each and are never cached", () => {
  test.each([
    ["unknown user", null, 404],
    ["5xx", { kind: "status", status: 500 } as const, 502],
    ["malformed body", { kind: "malformed" } as const, 502],
    ["not an array", { kind: "not-array" } as const, 502],
    ["connection reset", { kind: "reset" } as const, 502],
    ["hang", { kind: "hang" } as const, 504],
    ["secondary rate limit", { kind: "secondary-rate-limit", retryAfter: 42 } as const, 429],
  ])("%s", async (_name, fault, expected) => {
    const login = fault ? "octocat" : "ghost-user";
    if (fault?.kind === "hang") server = _serve(2_000);
    if (fault) github.setFault(login, fault);
    const failed = await get(`/${login}`);
    expect(failed.status).toBe(expected);
    expect(failed.json().request_id).toBeString();
    if (expected === 404) expect(failed.json().detail).toBe("User 'ghost-user' not found");
    if (expected === 429) expect(failed.response.headers.get("retry-after")).toBe("42");
    expect(failed.text).not.toContain("ghp_unit_secret");
    if (expected === 429) {
      // The pause GitHub asked for is honoured: nothing more is sent until it is over.
      github.setFault(login, null);
      const sent = github.requestCount();
      expect((await get(`/${login}`)).status).toBe(429);
      expect(github.requestCount()).toBe(sent);
    } else if (fault) {
      github.setFault(login, null);
      const recovered = await get(`/${login}`);
      expect(recovered.status).toBe(200);
      expect(recovered.response.headers.get("x-cache")).toBe("MISS");
    }
  });

  test("an exhausted primary rate limit is 429 with the seconds to reset", async () => {
    github.setRateLimit({ remaining: 0, resetAt: Math.floor(Date.now() / 1000) + 120 });
    const limited = await get("/octocat");
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.response.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(110);
    expect(retryAfter).toBeLessThanOrEqual(121);
  });
});

describe("around every answer", () => {
  test("echoes a sane X-Request-Id and replaces an unsafe one", async () => {
    const echoed = await get("/health", { headers: { "x-request-id": "abc-123" } });
    expect(echoed.response.headers.get("x-request-id")).toBe("abc-123");
    const replaced = await get("/health", { headers: { "x-request-id": 'bad"id\\' } });
    expect(replaced.response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("writes one JSON access-log line per request, hits included", async () => {
    await get("/octocat", { headers: { "x-request-id": "log-1" } });
    await get("/octocat", { headers: { "x-request-id": "log-2" } });
    await get('/octocat?x="quote"', { headers: { "x-request-id": "log-3" } });
    await new Promise((resolve) => setTimeout(resolve, 80));
    const lines = logs.text
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.request_id)).toEqual(["log-1", "log-2", "log-3"]);
    expect(lines[1]).toMatchObject({ msg: "request", method: "GET", route: "/:username", status: 200, cache: "HIT" });
    expect(lines[2].path).toBe("/octocat?x=%22quote%22");
    expect(logs.text).not.toContain("ghp_unit_secret");
  });

  test("unknown routes are JSON 404s", async () => {
    const { status, json } = await get("/a/b/c");
    expect(status).toBe(404);
    expect(json().detail).toBe("Not Found");
  });
});

describe("DELETE /cache and the Host header", () => {
  test("a DNS rebinding page (its own name in Host and Origin) is refused with 403 and clears nothing", async () => {
    expect((await get("/octocat")).status).toBe(200);
    const rebound = await get("/cache", { method: "DELETE", headers: { host: "evil.example", origin: "http://evil.example" } });
    expect(rebound.status).toBe(403);
    expect(rebound.json().detail).toContain("ADMIN_HOSTS");
    expect((await get("/octocat")).response.headers.get("x-cache")).toBe("HIT");
  });

  test("an operator's names clear it: localhost, an IP address, the Service's name", async () => {
    for (const host of ["localhost:8080", "10.244.0.7:8080", "gists-api", "gists-api.gists-api.svc.cluster.local"]) {
      expect((await get("/octocat")).status).toBe(200);
      expect({ host, status: (await get("/cache", { method: "DELETE", headers: { host } })).status }).toEqual({ host, status: 200 });
      expect((await get("/octocat")).response.headers.get("x-cache")).toBe("MISS");
    }
  });
});

describe("bearerMatches", () => {
  test("accepts only the exact token", () => {
    expect(bearerMatches("Bearer s3cret", "s3cret")).toBe(true);
    expect(bearerMatches("bearer s3cret", "s3cret")).toBe(true);
    expect(bearerMatches("Bearer s3cre", "s3cret")).toBe(false);
    expect(bearerMatches("Bearer s3cretX", "s3cret")).toBe(false);
    expect(bearerMatches("s3cret", "s3cret")).toBe(false);
    expect(bearerMatches(undefined, "s3cret")).toBe(false);
    expect(bearerMatches("Bearer ", "s3cret")).toBe(false);
  });
});

describe("the hit path answers only what the route would accept", () => {
  test("with the page cached, every invalid spelling is still a 422 and every valid one a HIT", async () => {
    expect((await get("/octocat")).status).toBe(200);
    for (const path of ["/octocat?page=0", "/octocat?per_page=500", "/octocat?use_cache=yes", "/octocat?all=1", "/octo--cat", "/octocat-"]) {
      const { status } = await get(path);
      expect({ path, status }).toEqual({ path, status: 422 });
    }
    for (const path of [
      "/octocat",
      "/OctoCat",
      "/octocat?page=1",
      "/octocat?per_page=30&page=1",
      "/octocat?use_cache=true",
      "/octocat?page=01",
      "/octocat?per_page=30.0",
    ]) {
      const { response } = await get(path);
      expect({ path, verdict: response.headers.get("x-cache") }).toEqual({ path, verdict: "HIT" });
    }
    expect(github.requestCount()).toBe(1);
  });

  test("use_cache=false and all=true are never answered from the page's entry", async () => {
    expect((await get("/octocat")).status).toBe(200);
    expect((await get("/octocat?use_cache=false")).response.headers.get("x-cache")).toBe("BYPASS");
    expect((await get("/octocat?all=true")).response.headers.get("x-cache")).not.toBe("HIT");
  });
});
