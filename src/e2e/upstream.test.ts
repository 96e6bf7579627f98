import { expect, test } from "bun:test";
import type { Fault } from "../testing/fake-github.ts";
import { describeTargets, expectError, freshLogin, useStack, type Stack } from "./stack.ts";

const upstreamTimeoutMs = 300;
const token = "ghp_e2eUpstreamToken0123456789abcdefXYZ";

/** Once GitHub is healthy again the next request goes upstream and succeeds: the failure was not cached. */
async function expectRecovers(s: Stack, login: string): Promise<void> {
  s.fake.setFault(login, null);
  s.fake.setRateLimit({ remaining: 5000 });
  const before = s.fake.requestCount(login);
  const res = await s.request(`/${login}`);
  expect(res.status).toBe(200);
  expect(((await res.json()) as any).cache.hit).toBe(false);
  expect(s.fake.requestCount(login)).toBe(before + 1);
}

function retryAfterSeconds(res: Response): number {
  const header = res.headers.get("retry-after");
  expect(header ?? "").toMatch(/^\d+$/);
  const seconds = Number(header);
  expect(seconds).toBeGreaterThanOrEqual(1);
  return seconds;
}

describeTargets("upstream failures", (target) => {
  const s = useStack(target, { UPSTREAM_TIMEOUT_MS: String(upstreamTimeoutMs), GITHUB_TOKEN: token, CACHE_NEGATIVE_TTL: "0" });

  test("upstream requests carry GitHub's media type, API version, a User-Agent and the token", async () => {
    const login = freshLogin("headers");
    s.fake.setUser(login, 1);
    expect((await s.request(`/${login}`)).status).toBe(200);
    const [sent] = s.fake.requests.filter((r) => r.login === login);
    expect(sent!.path).toBe(`/users/${login}/gists`);
    expect(sent!.headers.accept).toContain("application/vnd.github+json");
    expect(sent!.headers["x-github-api-version"]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(sent!.headers["user-agent"]?.length ?? 0).toBeGreaterThan(0);
    expect(sent!.headers.authorization).toBe(`Bearer ${token}`);
  });

  test("an upstream that does not answer in time is 504, promptly", async () => {
    const login = freshLogin("hang");
    s.fake.setUser(login, 2);
    s.fake.setFault(login, { kind: "hang" });
    const started = Date.now();
    await expectError(await s.request(`/${login}`), 504);
    expect(Date.now() - started).toBeLessThan(upstreamTimeoutMs * 4 + 2_000);
    await expectRecovers(s, login);
  });

  test("a slow upstream inside the deadline is still 200", async () => {
    const login = freshLogin("slowok");
    s.fake.setUser(login, 2);
    s.fake.setFault(login, { kind: "latency", ms: 80 });
    expect((await s.request(`/${login}`)).status).toBe(200);
  });

  const badGateway: Array<[string, Fault]> = [
    ["500", { kind: "status", status: 500 }],
    ["502", { kind: "status", status: 502, body: "<html>Unicorn!</html>" }],
    ["503", { kind: "status", status: 503 }],
    ["malformed", { kind: "malformed" }],
    ["notarray", { kind: "not-array" }],
    ["reset", { kind: "reset" }],
  ];
  for (const [name, fault] of badGateway) {
    test(`an upstream ${name} answer is 502, and not cached`, async () => {
      const login = freshLogin(`bad${name}`);
      s.fake.setUser(login, 2);
      s.fake.setFault(login, fault);
      await expectError(await s.request(`/${login}`), 502);
      expect(s.fake.requestCount(login)).toBeGreaterThanOrEqual(1);
      await expectRecovers(s, login);
    });
  }

  test("with CACHE_NEGATIVE_TTL=0 a 404 is not cached: once the user exists the next request goes upstream", async () => {
    const login = freshLogin("later");
    await expectError(await s.request(`/${login}`), 404);
    s.fake.setUser(login, 3);
    await expectRecovers(s, login);
  });

  test("the token never shows in logs or answers", async () => {
    expect(s.service.stdout()).not.toContain(token);
    expect(s.service.stderr()).not.toContain(token);
    const leaks = s.bodies.filter((body) => body.includes(token));
    expect(leaks).toEqual([]);
    for (const path of ["/metrics", "/cache/stats", "/swagger/json", "/health"]) {
      expect(await (await s.request(path)).text()).not.toContain(token);
    }
  });
});

// GitHub's limits pause every upstream request of the process, so each case gets its own service (the forms whose
// pause is a minute or more are in github-secondary-limits.test.ts).
const rateLimitCases: Array<[string, (s: Stack, login: string) => void, number]> = [
  ["GitHub's spent rate limit (403, remaining 0)", (s) => s.fake.setRateLimit({ remaining: 0, resetAt: _inSeconds(2) }), 2],
  ["a spent rate limit answered with 429", (s) => s.fake.setRateLimit({ remaining: 0, exceededStatus: 429, resetAt: _inSeconds(2) }), 2],
  ["a secondary rate limit (403 with retry-after)", (s, login) => s.fake.setFault(login, { kind: "secondary-rate-limit", retryAfter: 1, status: 403 }), 1],
  ["a secondary rate limit (429 with retry-after)", (s, login) => s.fake.setFault(login, { kind: "secondary-rate-limit", retryAfter: 1, status: 429 }), 1],
];

for (const [name, limit, pauseSeconds] of rateLimitCases) {
  describeTargets(`rate limit: ${name}`, (target) => {
    const s = useStack(target, { GITHUB_TOKEN: token });

    test("is 429 with Retry-After, sends nothing more until the pause ends, then recovers", async () => {
      const login = freshLogin("limited");
      s.fake.setUser(login, 2);
      limit(s, login);
      const res = await s.request(`/${login}`);
      await expectError(res.clone(), 429);
      expect(retryAfterSeconds(res)).toBeLessThanOrEqual(pauseSeconds + 1);
      s.fake.setFault(login, null);
      s.fake.setRateLimit({ remaining: 5000, exceededStatus: 403, resetAt: _inSeconds(3600) });
      const sent = s.fake.requestCount(login);
      const other = freshLogin("waiting");
      s.fake.setUser(other, 1);
      await expectError(await s.request(`/${other}`), 429);
      expect(s.fake.requestCount()).toBe(s.fake.requests.length);
      expect(s.fake.requestCount(login) + s.fake.requestCount(other)).toBe(sent);
      await Bun.sleep(pauseSeconds * 1000 + 150);
      await expectRecovers(s, login);
    });
  });
}

function _inSeconds(seconds: number): number {
  return Math.floor(Date.now() / 1000) + seconds;
}
