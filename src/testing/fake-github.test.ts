import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { startFakeGithub, type FakeGithub } from "./fake-github.ts";

let fake: FakeGithub;
const get = (path: string, headers: Record<string, string> = {}) => fetch(`${fake.url}${path}`, { headers });
const links = (res: Response) =>
  Object.fromEntries(
    (res.headers.get("link") ?? "")
      .split(", ")
      .filter(Boolean)
      .map((part) => {
        const [, href, rel] = /^<([^>]+)>; rel="(\w+)"$/.exec(part)!;
        return [rel!, href!];
      }),
  );

beforeAll(async () => {
  fake = await startFakeGithub({ users: { octocat: 75, nobody: 0 } });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe("gist lists", () => {
  test("serve GitHub-shaped gists with defaults page=1 per_page=30, login case-insensitive", async () => {
    const res = await get("/users/OctoCat/gists");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const gists = (await res.json()) as any[];
    expect(gists).toHaveLength(30);
    expect(gists).toEqual(fake.gists("octocat").slice(0, 30));
    const first = gists[0];
    expect(Object.keys(first)).toEqual(
      expect.arrayContaining(["id", "url", "html_url", "created_at", "updated_at", "description", "public", "comments", "owner", "files"]),
    );
    expect(first.owner.login).toBe("octocat");
    const file = Object.values(first.files)[0] as any;
    expect(Object.keys(file).sort()).toEqual(["filename", "language", "raw_url", "size", "type"]);
    expect(gists.some((g) => g.description === null)).toBe(true);
  });

  test("are deterministic and cap per_page at 100", async () => {
    fake.setUser("many", 250);
    const a = (await (await get("/users/many/gists?per_page=500")).json()) as any[];
    const b = (await (await get("/users/many/gists?per_page=100")).json()) as any[];
    expect(a).toHaveLength(100);
    expect(a).toEqual(b);
  });

  test("a user with no gists answers [] without a Link", async () => {
    const res = await get("/users/nobody/gists");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
    expect(res.headers.get("link")).toBeNull();
  });

  test("an unknown user is GitHub's 404", async () => {
    const res = await get("/users/ghost/gists");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: "Not Found", documentation_url: "https://docs.github.com/rest" });
  });
});

describe("Link header", () => {
  test("a middle page links prev, next, last, first with absolute URLs to the fake", async () => {
    const res = await get("/users/octocat/gists?page=2&per_page=30");
    const header = res.headers.get("link")!;
    expect(header).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/[^>]+>; rel="prev", <[^>]+>; rel="next", <[^>]+>; rel="last", <[^>]+>; rel="first"$/);
    const rel = links(res);
    expect(new URL(rel.next!).searchParams.get("page")).toBe("3");
    expect(new URL(rel.last!).searchParams.get("page")).toBe("3");
    expect(new URL(rel.prev!).searchParams.get("page")).toBe("1");
    expect(rel.first!.startsWith(fake.url)).toBe(true);
    const next = (await (await fetch(rel.next!)).json()) as any[];
    expect(next.map((g) => g.id)).toEqual(
      fake
        .gists("octocat")
        .slice(60, 75)
        .map((g) => g.id),
    );
  });

  test("the first page has next/last only, the last page prev/first only", async () => {
    expect(Object.keys(links(await get("/users/octocat/gists")))).toEqual(["next", "last"]);
    expect(Object.keys(links(await get("/users/octocat/gists?page=3")))).toEqual(["prev", "first"]);
  });

  test("a page past the end is [] with prev and first", async () => {
    const res = await get("/users/octocat/gists?page=9");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
    expect(Object.keys(links(res))).toEqual(["prev", "first"]);
  });
});

describe("conditional requests", () => {
  test("If-None-Match with the current ETag answers 304 with the same headers and no body", async () => {
    const first = await get("/users/octocat/gists");
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^W\/"[0-9a-f]{64}"$/);
    const again = await get("/users/octocat/gists", { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(etag);
    expect(again.headers.get("link")).toBe(first.headers.get("link"));
    expect(again.headers.get("last-modified")).toBe(first.headers.get("last-modified"));
  });

  test("a changed list gets a new ETag and a 200", async () => {
    const etag = (await get("/users/octocat/gists")).headers.get("etag")!;
    fake.setUser("octocat", 76);
    const res = await get("/users/octocat/gists", { "if-none-match": etag });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).not.toBe(etag);
  });

  test("a 304 costs rate limit only without Authorization", async () => {
    const etag = (await get("/users/octocat/gists")).headers.get("etag")!;
    expect(fake.rateLimit.remaining).toBe(4999);
    await get("/users/octocat/gists", { "if-none-match": etag, authorization: "Bearer t" });
    expect(fake.rateLimit.remaining).toBe(4999);
    await get("/users/octocat/gists", { "if-none-match": etag });
    expect(fake.rateLimit.remaining).toBe(4998);
  });
});

describe("rate limit", () => {
  test("each request spends one and the headers say so", async () => {
    const resetAt = Math.floor(Date.now() / 1000) + 600;
    fake.setRateLimit({ limit: 60, remaining: 2, resetAt });
    const res = await get("/users/octocat/gists");
    expect(res.headers.get("x-ratelimit-limit")).toBe("60");
    expect(res.headers.get("x-ratelimit-remaining")).toBe("1");
    expect(res.headers.get("x-ratelimit-used")).toBe("59");
    expect(res.headers.get("x-ratelimit-reset")).toBe(String(resetAt));
    expect(res.headers.get("x-ratelimit-resource")).toBe("core");
    expect((await get("/users/ghost/gists")).headers.get("x-ratelimit-remaining")).toBe("0");
    const spent = await get("/users/octocat/gists");
    expect(spent.status).toBe(403);
    expect(spent.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(((await spent.json()) as any).message).toStartWith("API rate limit exceeded for 127.0.0.1");
  });

  test("can answer a spent window with 429", async () => {
    fake.setRateLimit({ remaining: 0, exceededStatus: 429 });
    expect((await get("/users/octocat/gists")).status).toBe(429);
  });
});

describe("faults", () => {
  test("status, not-array and malformed answer as told, then `times` runs out", async () => {
    fake.setFault("octocat", { kind: "status", status: 502, times: 1 });
    expect((await get("/users/octocat/gists")).status).toBe(502);
    fake.setFault("*", { kind: "not-array", times: 1 });
    expect(await (await get("/users/octocat/gists")).json()).toEqual({ message: "x" });
    fake.setFault("OCTOCAT", { kind: "malformed", times: 2 });
    for (const _ of [1, 2]) {
      const res = await get("/users/octocat/gists");
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text.startsWith("[")).toBe(true);
      expect(() => JSON.parse(text)).toThrow();
    }
    expect((await get("/users/octocat/gists")).status).toBe(200);
  });

  test("a login's fault wins over the global one and leaves other logins alone", async () => {
    fake.setFault("*", { kind: "status", status: 500 });
    fake.setFault("nobody", { kind: "status", status: 418 });
    expect((await get("/users/nobody/gists")).status).toBe(418);
    expect((await get("/users/octocat/gists")).status).toBe(500);
    fake.setFault("*", null);
    expect((await get("/users/octocat/gists")).status).toBe(200);
  });

  test("secondary rate limit answers 403 with retry-after", async () => {
    fake.setFault("octocat", { kind: "secondary-rate-limit", retryAfter: 7 });
    const res = await get("/users/octocat/gists");
    expect(res.status).toBe(403);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(((await res.json()) as any).message).toContain("You have exceeded a secondary rate limit");
  });

  test("a secondary limit in each of GitHub's forms: 403 or 429, with or without retry-after, remaining as the window's or 0", async () => {
    const answerOf = async (path = "/users/octocat/gists") => {
      const res = await get(path);
      const body = (await res.json()) as { message?: string };
      return { status: res.status, retryAfter: res.headers.get("retry-after"), remaining: res.headers.get("x-ratelimit-remaining"), message: body.message };
    };
    const secondary = expect.stringContaining("You have exceeded a secondary rate limit");
    fake.setSecondaryLimit({ times: 1 });
    expect(await answerOf()).toEqual({ status: 403, retryAfter: null, remaining: "5000", message: secondary });
    fake.setSecondaryLimit({ status: 429, retryAfter: 30, times: 1 });
    expect(await answerOf("/users/nobody/gists")).toEqual({ status: 429, retryAfter: "30", remaining: "5000", message: secondary });
    const date = new Date(Date.now() + 90_000).toUTCString();
    fake.setSecondaryLimit({ status: 403, retryAfter: date, remaining: 0, message: "secondary rate limit", times: 2 });
    expect(await answerOf()).toEqual({ status: 403, retryAfter: date, remaining: "0", message: "secondary rate limit" });
    expect(fake.secondaryLimit).toMatchObject({ times: 1 });
    await answerOf();
    expect([fake.secondaryLimit, (await get("/users/octocat/gists")).status, fake.rateLimit.remaining]).toEqual([undefined, 200, 4999]);
    fake.setFault("octocat", { kind: "status", status: 500 });
    fake.setSecondaryLimit({ status: 429 });
    expect((await answerOf()).status).toBe(429);
    fake.reset();
    expect([fake.secondaryLimit, (await get("/users/octocat/gists")).status]).toEqual([undefined, 200]);
    expect(() => fake.setSecondaryLimit({ status: 500 as 403 })).toThrow("status must be 403 or 429");
  });

  test("a secondary limit is set over HTTP too, and cleared with null", async () => {
    const post = (body: unknown) => fetch(`${fake.url}/_fake/secondary-limit`, { method: "POST", body: JSON.stringify(body) });
    expect(await (await post({ status: 429, retryAfter: 5, remaining: 0 })).json()).toEqual({ secondaryLimit: { status: 429, retryAfter: 5, remaining: 0 } });
    expect((await get("/users/octocat/gists")).status).toBe(429);
    expect((await post({ status: 404 })).status).toBe(400);
    expect(await (await post({ limit: null })).json()).toEqual({ secondaryLimit: null });
    expect((await get("/users/octocat/gists")).status).toBe(200);
  });

  test("latency delays, hang holds until reset, and in-flight counts follow", async () => {
    fake.setFault("octocat", { kind: "latency", ms: 150 });
    const started = Date.now();
    const slow = await Promise.all([1, 2, 3].map(() => get("/users/octocat/gists")));
    expect(slow.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(fake.maxInFlight).toBe(3);
    fake.setFault("octocat", { kind: "hang" });
    // A fresh connection, so the client does not retry the dropped request on another socket.
    const hung = fetch(`${fake.url}/users/octocat/gists`, { keepalive: false }).then(
      (r) => r.status,
      () => "dropped",
    );
    await Bun.sleep(100);
    expect(fake.inFlight).toBe(1);
    fake.reset();
    expect(await hung).toBe("dropped");
    expect(fake.inFlight).toBe(0);
  });

  test("delayMs holds any fault back first: a slow 500", async () => {
    fake.setFault("octocat", { kind: "status", status: 500, delayMs: 150, times: 1 });
    const started = Date.now();
    const pending = get("/users/octocat/gists");
    await Bun.sleep(50);
    expect(fake.inFlight).toBe(1);
    expect((await pending).status).toBe(500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect((await get("/users/octocat/gists")).status).toBe(200);
  });

  test("chunked sends the normal answer without a content-length", async () => {
    fake.setUser("many", 120);
    fake.setFault("many", { kind: "chunked", times: 1 });
    const res = await get("/users/many/gists?per_page=100");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBeNull();
    expect(res.headers.get("transfer-encoding")).toBe("chunked");
    expect(await res.json()).toEqual(fake.gists("many").slice(0, 100));
    expect(fake.requests[0]!.responseHeaders!["content-length"]).toBeUndefined();
  });

  test("reset destroys the connection", async () => {
    fake.setFault("octocat", { kind: "reset" });
    expect(
      await get("/users/octocat/gists").then(
        () => "answered",
        () => "reset",
      ),
    ).toBe("reset");
  });
});

describe("observability", () => {
  test("records method, path, query and lower-cased headers", async () => {
    await get("/users/OctoCat/gists?per_page=5", { "X-GitHub-Api-Version": "2022-11-28" });
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: "GET", path: "/users/OctoCat/gists", login: "octocat" });
    expect(request!.query.get("per_page")).toBe("5");
    expect(request!.headers["x-github-api-version"]).toBe("2022-11-28");
    expect(fake.requestCount("OCTOCAT")).toBe(1);
    expect(fake.requestCount("nobody")).toBe(0);
    expect(fake.requestCount((r) => r.query.get("per_page") === "5")).toBe(1);
    fake.clearRequests();
    expect(fake.requestCount()).toBe(0);
  });

  test("records the status and headers each answer went out with", async () => {
    const first = await get("/users/octocat/gists");
    const etag = first.headers.get("etag")!;
    await get("/users/octocat/gists", { "if-none-match": etag });
    fake.setFault("octocat", { kind: "hang", times: 1 });
    const hung = fetch(`${fake.url}/users/octocat/gists`, { keepalive: false }).then(
      (r) => r.status,
      () => "dropped",
    );
    await Bun.sleep(50);
    const [ok, notModified, held] = fake.requests;
    expect([ok!.status, ok!.responseHeaders!.etag, ok!.responseHeaders!["last-modified"]]).toEqual([200, etag, first.headers.get("last-modified")!]);
    expect(ok!.responseHeaders!["x-ratelimit-remaining"]).toBe("4999");
    expect([notModified!.status, notModified!.headers["if-none-match"]]).toEqual([304, etag]);
    expect(held!.status).toBeUndefined();
    fake.reset();
    expect(await hung).toBe("dropped");
  });
});

describe("control API", () => {
  const control = (path: string, body?: unknown) =>
    fetch(`${fake.url}/_fake/${path}`, { method: body === undefined ? "GET" : "POST", body: JSON.stringify(body) });

  test("drives users, faults, rate limit and requests over HTTP without being recorded", async () => {
    expect((await control("users", { login: "Remote", count: 2 })).status).toBe(200);
    expect(((await (await get("/users/remote/gists")).json()) as any[]).length).toBe(2);
    await control("fault", { login: "remote", fault: { kind: "status", status: 503, times: 1 } });
    expect((await get("/users/remote/gists")).status).toBe(503);
    await control("rate-limit", { remaining: 0 });
    expect((await get("/users/remote/gists")).status).toBe(403);
    const log = (await (await control("requests")).json()) as any;
    expect(log.count).toBe(3);
    expect(log.requests[0]).toMatchObject({ method: "GET", path: "/users/remote/gists", query: {} });
    expect((await control("fault", { fault: { kind: "nonsense" } })).status).toBe(400);
    expect((await control("fault", { fault: { kind: "hang", delayMs: "soon" } })).status).toBe(400);
    await control("reset", {});
    expect(fake.requestCount()).toBe(0);
    expect(fake.users()).toEqual({ octocat: 75, nobody: 0 });
  });
});

describe("a small primary window that refills", () => {
  test("{ limit, windowSeconds }: the window is spent, refused with remaining 0, then full again once its reset passes", async () => {
    const small = await startFakeGithub({ users: { octocat: 1 }, rateLimit: { limit: 2, windowSeconds: 1 } });
    try {
      const statuses = async (count: number) => {
        const answers: string[] = [];
        for (let i = 0; i < count; i++) {
          const res = await fetch(`${small.url}/users/octocat/gists`);
          answers.push(`${res.status}:${res.headers.get("x-ratelimit-remaining")}`);
        }
        return answers;
      };
      expect(await statuses(3)).toEqual(["200:1", "200:0", "403:0"]);
      const { resetAt } = small.rateLimit;
      expect(resetAt - Date.now() / 1000).toBeLessThanOrEqual(1);
      await Bun.sleep(Math.max(0, resetAt * 1000 - Date.now()) + 50);
      expect(await statuses(1)).toEqual(["200:1"]);
      expect(small.rateLimit.resetAt).toBeGreaterThan(resetAt);
    } finally {
      await small.close();
    }
  });
});
