import { expect, test } from "bun:test";
import { describeTargets, freshLogin, useStack, type Stack } from "./stack.ts";

const allowed = "https://a.example";
const stranger = "https://evil.example";

function preflight(s: Stack, path: string, origin: string): Promise<Response> {
  return s.request(path, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "x-request-id" },
  });
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
    }
    for (const res of [await preflight(s, "/octocat", stranger), await s.request("/health", { headers: { origin: stranger } })]) {
      expect([null, allowed]).toContain(res.headers.get("access-control-allow-origin"));
    }
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
