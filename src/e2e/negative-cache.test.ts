import { expect, test } from "bun:test";
import { describeTargets, expectError, freshLogin, getGists, pastShortTtl, shortTtl, useStack } from "./stack.ts";

describeTargets("negative caching", (target) => {
  const s = useStack(target, { CACHE_NEGATIVE_TTL: shortTtl });

  test("an unknown user's 404 is answered from the cache (X-Cache HIT) until CACHE_NEGATIVE_TTL, then GitHub is asked again", async () => {
    const login = freshLogin("ghost");
    await expectError(await s.request(`/${login}`), 404);
    expect(s.fake.requestCount(login)).toBe(1);

    const repeat = await s.request(`/${login}`);
    expect(repeat.headers.get("x-cache")).toBe("HIT");
    const body = await expectError(repeat, 404);
    expect(body.detail).toBe(`User '${login}' not found`);
    s.fake.setUser(login, 2);
    await expectError(await s.request(`/${login.toUpperCase()}`), 404);
    expect(s.fake.requestCount(login)).toBe(1);

    await pastShortTtl();
    const found = await getGists(s, `/${login}`);
    expect([found.status, found.body.data.length]).toEqual([200, 2]);
    expect(s.fake.requestCount(login)).toBe(2);
  });

  test("use_cache=false asks GitHub past a cached 404", async () => {
    const login = freshLogin("ghostbypass");
    await expectError(await s.request(`/${login}`), 404);
    s.fake.setUser(login, 1);
    const bypass = await getGists(s, `/${login}?use_cache=false`);
    expect([bypass.status, bypass.xCache]).toEqual([200, "BYPASS"]);
    expect(s.fake.requestCount(login)).toBe(2);
  });

  test("an upstream failure is not a negative entry: the next request asks GitHub again", async () => {
    const login = freshLogin("flaky");
    s.fake.setUser(login, 1);
    s.fake.setFault(login, { kind: "status", status: 500 });
    await expectError(await s.request(`/${login}`), 502);
    const failed = s.fake.requestCount(login);
    s.fake.setFault(login, null);
    const ok = await getGists(s, `/${login}`);
    expect([ok.status, ok.xCache]).toEqual([200, "MISS"]);
    expect(s.fake.requestCount(login)).toBe(failed + 1);
  });
});
