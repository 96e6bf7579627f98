import { expect, test } from "bun:test";
import { useFleet } from "./fleet-stack.ts";
import { describeTargets, freshLogin, useStack } from "./stack.ts";

// A window of 20 calls and a share of a quarter: each client may cause 5 GitHub calls an hour. Clients are told
// apart by X-Forwarded-For, as behind a gateway (one trusted hop).
const shareEnv = { CLIENT_GITHUB_SHARE: "0.25", RATE_LIMIT_TRUSTED_HOPS: "1" };
const window = { rateLimit: { limit: 20, remaining: 20 } };
const as = (client: string) => ({ headers: { "x-forwarded-for": client } });

describeTargets("each client's share of GitHub's budget", (target) => {
  const s = useStack(target, shareEnv, window);

  test("a client scanning new users gets 429 past its share, without a call to GitHub; its cached pages and other clients still answer", async () => {
    const scanner = "198.51.100.7";
    const users = Array.from({ length: 8 }, () => freshLogin("scan"));
    for (const login of users) s.fake.setUser(login, 2);
    // Another client's page first, so the service knows the window's size (until GitHub says, 60 is assumed).
    s.fake.setUser("warmup", 1);
    expect((await s.request("/warmup", as("192.0.2.1"))).status).toBe(200);
    const answers = [];
    for (const login of users) answers.push(await s.request(`/${login}`, as(scanner)));
    expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    const refused = answers[5]!;
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/share of GitHub's budget/);
    expect(users.map((login) => s.fake.requestCount(login))).toEqual([1, 1, 1, 1, 1, 0, 0, 0]);
    const cached = await s.request(`/${users[0]}`, as(scanner));
    expect([cached.status, cached.headers.get("x-cache")]).toEqual([200, "HIT"]);
    const other = await s.request(`/${users[6]}`, as("203.0.113.9"));
    expect([other.status, other.headers.get("x-cache")]).toEqual([200, "MISS"]);
    // Past the cache counts too: use_cache=false spends the share like a new page.
    expect((await s.request(`/${users[0]}?use_cache=false`, as(scanner))).status).toBe(429);
  });
});

describeTargets("each client's share, across a fleet", (target) => {
  const fleet = useFleet([target, target], shareEnv, window);

  test("the share is the fleet's: a client spending it on one replica is refused on the other", async () => {
    const scanner = "198.51.100.8";
    const users = Array.from({ length: 6 }, () => freshLogin("fleetscan"));
    for (const login of users) fleet.fake.setUser(login, 1);
    // Each replica learns the window's size from a page of another client's.
    for (const replica of [0, 1]) {
      const login = freshLogin("fleetwarm");
      fleet.fake.setUser(login, 1);
      expect((await fleet.request(`/${login}`, { replica, ...as("192.0.2.2") })).status).toBe(200);
    }
    const statuses = [];
    for (const [index, login] of users.entries()) statuses.push((await fleet.request(`/${login}`, { replica: index % 2, ...as(scanner) })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });
});
