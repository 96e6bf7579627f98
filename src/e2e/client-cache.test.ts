import { expect, test } from "bun:test";
import { describeTargets, freshLogin, useStack, type Stack } from "./stack.ts";

const ttlSeconds = 5;
const quotedEtag = /^(W\/)?"[^"]+"$/;

/** The max-age of a `public, max-age=N` Cache-Control, failing on any other shape. */
function maxAge(res: Response): number {
  const header = res.headers.get("cache-control") ?? "";
  expect(header).toMatch(/^public, max-age=\d+$/);
  return Number(header.split("=")[1]);
}

/** A user the fake knows, fetched once so the service holds the page. */
async function warmUser(s: Stack, prefix: string, gists = 3): Promise<{ login: string; etag: string }> {
  const login = freshLogin(prefix);
  s.fake.setUser(login, gists);
  const res = await s.request(`/${login}`);
  expect(res.status).toBe(200);
  return { login, etag: res.headers.get("etag") ?? "" };
}

describeTargets("client caching", (target) => {
  const s = useStack(target, { CACHE_TTL: String(ttlSeconds) });

  test("200 answers carry a quoted ETag and Cache-Control: public, max-age = the seconds the page has left", async () => {
    const login = freshLogin("etag");
    s.fake.setUser(login, 3);
    const miss = await s.request(`/${login}`);
    expect(miss.headers.get("x-cache")).toBe("MISS");
    const etag = miss.headers.get("etag") ?? "";
    expect(etag).toMatch(quotedEtag);
    expect(maxAge(miss)).toBeGreaterThanOrEqual(ttlSeconds - 1);
    expect(maxAge(miss)).toBeLessThanOrEqual(ttlSeconds);
    const hit = await s.request(`/${login}`);
    expect([hit.headers.get("x-cache"), hit.headers.get("etag")]).toEqual(["HIT", etag]);
    expect(maxAge(hit)).toBeLessThanOrEqual(ttlSeconds);
    await Bun.sleep(1_100);
    const later = await s.request(`/${login}`);
    expect([later.headers.get("x-cache"), later.headers.get("etag")]).toEqual(["HIT", etag]);
    expect(maxAge(later)).toBeLessThanOrEqual(ttlSeconds - 1);
    expect(maxAge(later)).toBeGreaterThanOrEqual(ttlSeconds - 3);
  });

  test("a matching If-None-Match gets 304 with no body and the same ETag; a non-matching one gets 200", async () => {
    const { login, etag } = await warmUser(s, "inm");
    const notModified = await s.request(`/${login}`, { headers: { "if-none-match": etag } });
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe("");
    expect(notModified.headers.get("etag")).toBe(etag);
    const listed = await s.request(`/${login}`, { headers: { "if-none-match": `"other", ${etag}` } });
    expect(listed.status).toBe(304);
    const other = await s.request(`/${login}`, { headers: { "if-none-match": '"not-this-one"' } });
    expect(other.status).toBe(200);
    expect(((await other.json()) as any).data).toHaveLength(3);
    expect(s.fake.requestCount(login)).toBe(1);
  });

  test("If-None-Match compares weakly, as HTTP requires: W/ on either side still matches", async () => {
    const { login, etag } = await warmUser(s, "weak");
    const flipped = etag.startsWith("W/") ? etag.slice(2) : `W/${etag}`;
    expect((await s.request(`/${login}`, { headers: { "if-none-match": flipped } })).status).toBe(304);
  });

  test("ETags follow the content: another page or changed data has another ETag, and sending the old one gets 200", async () => {
    const { login, etag } = await warmUser(s, "changes", 45);
    const second = await s.request(`/${login}?page=2`, { headers: { "if-none-match": etag } });
    expect(second.status).toBe(200);
    expect(second.headers.get("etag")).toMatch(quotedEtag);
    expect(second.headers.get("etag")).not.toBe(etag);
    s.fake.setUser(login, 46);
    const bypass = await s.request(`/${login}?use_cache=false`, { headers: { "if-none-match": etag } });
    expect(bypass.status).toBe(200);
    expect(bypass.headers.get("etag")).toMatch(quotedEtag);
    expect(bypass.headers.get("etag")).not.toBe(etag);
    expect(((await bypass.json()) as any).data[0].id).toBe(s.fake.gists(login)[0]!.id);
  });
});
