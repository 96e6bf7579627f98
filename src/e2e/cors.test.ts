import { expect, test } from "bun:test";
import { cacheStats, describeTargets, expectError, freshLogin, rawGet, useStack, type Stack } from "./stack.ts";

const allowed = "https://a.example";
const stranger = "https://evil.example";

function preflight(s: Stack, path: string, origin: string, method = "GET"): Promise<Response> {
  return s.request(path, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": method, "access-control-request-headers": "x-request-id" },
  });
}

/** Fills the cache with one user's page, so a cleared cache shows. */
async function cacheOne(s: Stack): Promise<void> {
  const login = freshLogin("kept");
  s.fake.setUser(login, 1);
  expect((await s.request(`/${login}`)).status).toBe(200);
  expect((await cacheStats(s)).size).toBeGreaterThan(0);
}

/** The methods a preflight's answer grants, upper-cased. */
function granted(res: Response): string[] {
  return (res.headers.get("access-control-allow-methods") ?? "")
    .split(",")
    .map((m) => m.trim().toUpperCase())
    .filter(Boolean);
}

describeTargets("CORS by default", (target) => {
  const s = useStack(target);

  test("a preflight from any origin is answered and never reaches GitHub", async () => {
    const login = freshLogin("cors");
    s.fake.setUser(login, 1);
    const res = await preflight(s, `/${login}`, stranger);
    expect([200, 204]).toContain(res.status);
    expect(["*", stranger]).toContain(res.headers.get("access-control-allow-origin")!);
    expect(s.fake.requestCount(login)).toBe(0);
  });

  test("a preflight never grants DELETE or any other method that changes something", async () => {
    for (const method of ["DELETE", "PUT", "POST", "PATCH"]) {
      const res = await preflight(s, "/cache", stranger, method);
      expect({ method, granted: granted(res) }).toEqual({ method, granted: ["GET", "HEAD", "OPTIONS"] });
    }
  });

  test("a DELETE /cache sent by a page of another origin is refused with 403 and clears nothing", async () => {
    await cacheOne(s);
    const res = await s.request("/cache", { method: "DELETE", headers: { origin: stranger } });
    const body = await expectError(res, 403);
    expect(String(body.detail)).toContain("another origin");
    expect((await cacheStats(s)).size).toBeGreaterThan(0);
    const sandboxed = await s.request("/cache", { method: "DELETE", headers: { origin: "null" } });
    expect(sandboxed.status).toBe(403);
    expect((await cacheStats(s)).size).toBeGreaterThan(0);
  });

  test("DELETE /cache from the service's own origin or without an Origin header (curl) still clears", async () => {
    await cacheOne(s);
    const own = await s.request("/cache", { method: "DELETE", headers: { origin: s.service.url } });
    expect(own.status).toBe(200);
    expect((await cacheStats(s)).size).toBe(0);
    await cacheOne(s);
    expect((await s.request("/cache", { method: "DELETE" })).status).toBe(200);
    expect((await cacheStats(s)).size).toBe(0);
  });

  test("a simple GET from any origin is allowed", async () => {
    const res = await s.request("/health", { headers: { origin: stranger } });
    expect(res.status).toBe(200);
    expect(["*", stranger]).toContain(res.headers.get("access-control-allow-origin")!);
  });
});

describeTargets("CORS_ORIGINS restricted, no GITHUB_TOKEN", (target) => {
  const s = useStack(target, { CORS_ORIGINS: allowed });

  test("only the configured origin is allowed, in preflights and answers", async () => {
    const ok = await preflight(s, "/octocat", allowed);
    expect([200, 204]).toContain(ok.status);
    expect(ok.headers.get("access-control-allow-origin")).toBe(allowed);
    const get = await s.request("/health", { headers: { origin: allowed } });
    expect(get.headers.get("access-control-allow-origin")).toBe(allowed);
    const login = freshLogin("corshit");
    s.fake.setUser(login, 1);
    for (const verdict of ["MISS", "HIT", "HIT"]) {
      const res = await s.request(`/${login}`, { headers: { origin: allowed } });
      expect([res.headers.get("x-cache"), res.headers.get("access-control-allow-origin")]).toEqual([verdict, allowed]);
      // A page may read both descriptions of how the cache answered.
      const exposed = (res.headers.get("access-control-expose-headers") ?? "").split(",").map((name) => name.trim().toLowerCase());
      expect(exposed).toEqual(expect.arrayContaining(["x-cache", "cache-status", "age", "etag"]));
    }
    for (const res of [await preflight(s, "/octocat", stranger), await s.request("/health", { headers: { origin: stranger } })]) {
      expect([null, allowed]).toContain(res.headers.get("access-control-allow-origin"));
    }
  });

  test("every answer carries Vary: Origin exactly once, beside the Vary of the gists answers", async () => {
    const login = freshLogin("vary");
    s.fake.setUser(login, 1);
    const varyOf = async (path: string, headers: Record<string, string>, method = "GET") => {
      if (method !== "GET") return (await s.request(path, { method, headers })).headers.get("vary");
      return String((await rawGet(`${s.service.url}${path}`, headers)).headers.vary ?? "");
    };
    const seen: Record<string, string | null> = {
      "preflight, allowed": (await preflight(s, "/octocat", allowed)).headers.get("vary"),
      "preflight, stranger": (await preflight(s, "/octocat", stranger)).headers.get("vary"),
      "health, allowed": await varyOf("/health", { origin: allowed }),
      "health, stranger": await varyOf("/health", { origin: stranger }),
      "health, no Origin": await varyOf("/health", {}),
      "gists miss, allowed": await varyOf(`/${login}`, { origin: allowed, "accept-encoding": "gzip" }),
      "gists hit, allowed": await varyOf(`/${login}`, { origin: allowed, "accept-encoding": "gzip" }),
      "gists hit, no Origin": await varyOf(`/${login}`, {}),
      "404, stranger": await varyOf("/cache/nope", { origin: stranger }),
      "DELETE refused": await varyOf("/cache", { origin: stranger }, "DELETE"),
    };
    const normalized = Object.fromEntries(
      Object.entries(seen).map(([what, vary]) => [
        what,
        (vary ?? "")
          .split(",")
          .map((v) => v.trim().toLowerCase())
          .filter(Boolean)
          .sort(),
      ]),
    );
    expect(normalized).toEqual({
      "preflight, allowed": ["origin"],
      "preflight, stranger": ["origin"],
      "health, allowed": ["origin"],
      "health, stranger": ["origin"],
      "health, no Origin": ["origin"],
      "gists miss, allowed": ["accept-encoding", "origin"],
      "gists hit, allowed": ["accept-encoding", "origin"],
      "gists hit, no Origin": ["accept-encoding", "origin"],
      "404, stranger": ["origin"],
      "DELETE refused": ["origin"],
    });
  });

  test("without GITHUB_TOKEN upstream requests carry no Authorization", async () => {
    const login = freshLogin("anon");
    s.fake.setUser(login, 1);
    expect((await s.request(`/${login}`)).status).toBe(200);
    const [sent] = s.fake.requests.filter((r) => r.login === login);
    expect(sent!.headers.authorization).toBeUndefined();
    expect(sent!.headers.accept).toContain("application/vnd.github+json");
  });
});
