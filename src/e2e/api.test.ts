import { expect, test } from "bun:test";
import type { FakeGist } from "../testing/fake-github.ts";
import { describeTargets, expectError, freshLogin, useStack } from "./stack.ts";

const healthy = { status: "healthy", service: "github-gists-api" };

/** What the service should answer for each upstream gist, per the spec: `files` exactly as GitHub sent it. */
function expectedItem(gist: FakeGist) {
  return {
    id: gist.id,
    description: gist.description,
    url: gist.html_url,
    created_at: gist.created_at,
    files: gist.files,
  };
}

/** The spec's fields of an answered item, with a null description allowed to arrive as "". */
function comparable(item: any, upstream: FakeGist | undefined) {
  const description = upstream?.description === null && item.description === "" ? null : item.description;
  return { id: item.id, description, url: item.url, created_at: item.created_at, files: item.files };
}

describeTargets("gists API", (target) => {
  const s = useStack(target);

  test("GET /health and GET / answer healthy", async () => {
    for (const path of ["/health", "/"]) {
      const res = await s.request(path);
      expect({ path, status: res.status, body: await res.json() }).toEqual({ path, status: 200, body: healthy });
    }
  });

  test("GET /healthz and GET /readyz answer 200 while serving", async () => {
    expect((await s.request("/healthz")).status).toBe(200);
    expect((await s.request("/readyz")).status).toBe(200);
    expect(s.fake.requestCount()).toBe(0);
  });

  test("GET /{username} answers the user's gists with pagination and cache info", async () => {
    const login = freshLogin("octo");
    s.fake.setUser(login, 8);
    const res = await s.request(`/${login}?page=1&per_page=30&use_cache=true`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    const body = (await res.json()) as any;
    expect(Object.keys(body).sort()).toEqual(["cache", "data", "pagination"]);
    const upstream = s.fake.gists(login);
    expect(body.data.map((item: any, i: number) => comparable(item, upstream[i]))).toEqual(upstream.map(expectedItem));
    expect(body.pagination).toEqual({ page: 1, per_page: 30, count: 8, has_next: false, has_prev: false });
    expect(body.cache.hit).toBe(false);
    expect(body.cache.ttl_seconds).toBeGreaterThan(0);
    expect(body.cache.ttl_seconds).toBeLessThanOrEqual(300);
    expect(s.fake.requestCount(login)).toBe(1);
  });

  test("gist items carry the earlier service's fields, plus updated_at", async () => {
    const login = freshLogin("fields");
    s.fake.setUser(login, 3);
    const body = (await (await s.request(`/${login}`)).json()) as any;
    for (const item of body.data) {
      expect(Object.keys(item).sort()).toEqual(["created_at", "description", "files", "id", "updated_at", "url"]);
    }
  });

  test("files is GitHub's object keyed by file name: clients read files[name].raw_url, .language and .size", async () => {
    const login = freshLogin("files");
    s.fake.setUser(login, 12);
    const body = (await (await s.request(`/${login}`)).json()) as any;
    const upstream = s.fake.gists(login);
    const read = [];
    for (const [index, gist] of upstream.entries()) {
      for (const [name, file] of Object.entries(gist.files)) {
        const served = body.data[index].files[name];
        read.push({ name, raw_url: served?.raw_url, language: served?.language, size: served?.size, keys: Object.keys(served ?? {}) });
        expect(read.at(-1)).toEqual({ name, raw_url: file.raw_url, language: file.language, size: file.size, keys: Object.keys(file) });
      }
    }
    expect(read.some((file) => file.language === null)).toBe(true);
    expect(read.some((file) => typeof file.language === "string")).toBe(true);
  });

  test("a null upstream description stays null or becomes an empty string", async () => {
    const login = freshLogin("nulls");
    s.fake.setUser(login, 6);
    const body = (await (await s.request(`/${login}`)).json()) as any;
    const nullIndex = s.fake.gists(login).findIndex((g) => g.description === null);
    expect([null, ""]).toContain(body.data[nullIndex].description);
  });

  test("has_next and has_prev follow GitHub's Link header across pages", async () => {
    const login = freshLogin("pages");
    s.fake.setUser(login, 75);
    const upstream = s.fake.gists(login);
    const pages = [];
    for (const page of [1, 2, 3, 4]) {
      const body = (await (await s.request(`/${login}?page=${page}&per_page=30`)).json()) as any;
      pages.push({ ids: body.data.map((g: any) => g.id), pagination: body.pagination });
    }
    const ids = (from: number, to: number) => upstream.slice(from, to).map((g) => g.id);
    expect(pages).toEqual([
      { ids: ids(0, 30), pagination: { page: 1, per_page: 30, count: 30, has_next: true, has_prev: false } },
      { ids: ids(30, 60), pagination: { page: 2, per_page: 30, count: 30, has_next: true, has_prev: true } },
      { ids: ids(60, 75), pagination: { page: 3, per_page: 30, count: 15, has_next: false, has_prev: true } },
      { ids: [], pagination: { page: 4, per_page: 30, count: 0, has_next: false, has_prev: true } },
    ]);
    const asked = s.fake.requests.filter((r) => r.login === login).map((r) => [r.query.get("page"), r.query.get("per_page")]);
    expect(asked).toEqual([
      ["1", "30"],
      ["2", "30"],
      ["3", "30"],
      ["4", "30"],
    ]);
  });

  test("a full last page has no next: has_next comes from the Link header, not the count", async () => {
    const login = freshLogin("exact");
    s.fake.setUser(login, 60);
    const body = (await (await s.request(`/${login}?page=2&per_page=30`)).json()) as any;
    expect(body.pagination).toEqual({ page: 2, per_page: 30, count: 30, has_next: false, has_prev: true });
  });

  test("per_page bounds pass through: 100 and 1", async () => {
    const login = freshLogin("bounds");
    s.fake.setUser(login, 120);
    const hundred = (await (await s.request(`/${login}?per_page=100`)).json()) as any;
    expect(hundred.pagination).toEqual({ page: 1, per_page: 100, count: 100, has_next: true, has_prev: false });
    const one = (await (await s.request(`/${login}?page=100&per_page=1`)).json()) as any;
    expect(one.pagination).toEqual({ page: 100, per_page: 1, count: 1, has_next: true, has_prev: true });
    expect(one.data[0].id).toBe(s.fake.gists(login)[99]!.id);
  });

  test("a user with no gists answers 200 with an empty list", async () => {
    const login = freshLogin("empty");
    s.fake.setUser(login, 0);
    const res = await s.request(`/${login}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.data).toEqual([]);
    expect(body.pagination).toEqual({ page: 1, per_page: 30, count: 0, has_next: false, has_prev: false });
  });

  test("an unknown user answers 404 naming the user", async () => {
    const login = freshLogin("ghost");
    const res = await s.request(`/${login}`);
    const body = await expectError(res, 404);
    expect(body).toEqual({ detail: `User '${login}' not found`, request_id: body.request_id });
    expect(s.fake.requestCount(login)).toBe(1);
  });

  test("an unknown route answers a JSON 404 with detail and never asks GitHub", async () => {
    s.fake.clearRequests();
    for (const path of ["/a/b/c", "/octocat/gists", "/cache/nothing"]) await expectError(await s.request(path), 404);
    expect(s.fake.requestCount()).toBe(0);
  });

  test("gist descriptions with quotes, markup and non-ASCII arrive intact", async () => {
    const login = freshLogin("unicode");
    s.fake.setUser(login, 16);
    const body = (await (await s.request(`/${login}`)).json()) as any;
    const upstream = s.fake.gists(login).find((g) => g.description?.startsWith("Ünïcode"))!;
    const item = body.data.find((g: any) => g.id === upstream.id);
    expect(item.description).toBe(upstream.description);
    expect(item.files).toEqual(upstream.files);
  });

  test("/swagger is an HTML page and /swagger/json documents /{username}", async () => {
    const page = await s.request("/swagger");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type") ?? "").toContain("text/html");
    const doc = await s.request("/swagger/json");
    expect(doc.status).toBe(200);
    const openapi = (await doc.json()) as any;
    expect(String(openapi.openapi)).toMatch(/^3\./);
    expect(Object.keys(openapi.paths)).toContain("/{username}");
  });
});
