import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createGithubClient, maxRedirects, UpstreamError, type GistsFetch } from "./client.ts";
import type { RateLimitRefusal } from "./rate-limit-rules.ts";

/** A GitHub stand-in on loopback: each test sets how it answers; every request it gets is recorded. */
function githubStandIn() {
  let answer: (request: Request) => Response = () => new Response("[]");
  const requests: Array<{ path: string; authorization: string | null }> = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(request) {
      const url = new URL(request.url);
      requests.push({ path: `${url.pathname}${url.search}`, authorization: request.headers.get("authorization") });
      return answer(request);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    answer(next: (request: Request) => Response) {
      answer = next;
    },
    stop: () => server.stop(true),
  };
}

const github = githubStandIn();
const elsewhere = githubStandIn();
const client = createGithubClient({ baseUrl: github.url, token: "test-token", userAgent: "gists-api/test", maxBodyBytes: 1024 * 1024 });

const file = (name: string) => ({
  filename: name,
  type: "text/plain",
  language: null,
  raw_url: `https://gist.githubusercontent.com/o/a/raw/1/${name}`,
  size: 3,
});
const gist = (id: string) => ({
  id,
  description: null,
  html_url: `https://gist.github.com/${id}`,
  created_at: "2020-01-01T00:00:00Z",
  files: { "a.txt": file("a.txt") },
});
const json = (body: unknown, init: ResponseInit = {}) =>
  new Response(typeof body === "string" ? body : JSON.stringify(body), { ...init, headers: { "content-type": "application/json", ...init.headers } });

/** The page fetched, or the UpstreamError's kind and message. */
async function fetched(options: { perPage?: number; validators?: { etag?: string } } = {}): Promise<GistsFetch | { kind: string; message: string }> {
  try {
    return await client.listUserGists("octo", 1, options.perPage ?? 30, { timeoutMs: 5_000, validators: options.validators });
  } catch (error) {
    if (error instanceof UpstreamError) return { kind: error.kind, message: error.message };
    throw error;
  }
}

beforeAll(() => {
  elsewhere.answer(() => json([gist("foreign")]));
});
beforeEach(() => {
  github.requests.length = 0;
  elsewhere.requests.length = 0;
});
afterAll(() => {
  github.stop();
  elsewhere.stop();
});

describe("what GitHub answers, read with bounds", () => {
  test("a page of gists comes back in the API's shape", async () => {
    github.answer(() => json([gist("a"), gist("b")], { headers: { etag: '"e1"' } }));
    const result = await fetched();
    expect(result).toMatchObject({ kind: "page", page: { etag: '"e1"', gists: [{ id: "a", url: "https://gist.github.com/a" }, { id: "b" }] } });
  });

  test("304 to a request that sent no validators is a bad response; to one that did, not modified", async () => {
    github.answer(() => new Response(null, { status: 304 }));
    expect(await fetched()).toEqual({ kind: "bad-response", message: "GitHub answered 304 Not Modified to a request that sent no validators" });
    expect(await fetched({ validators: { etag: '"e1"' } })).toEqual({ kind: "not-modified" });
  });

  test("JSON nested 100,000 levels inside a file field is a bad response", async () => {
    github.answer(() => json(`[{"id":"a","files":{"a.txt":{"filename":${"[".repeat(100_000)}${"]".repeat(100_000)}}}}]`));
    expect(await fetched()).toEqual({ kind: "bad-response", message: "GitHub answered with JSON nested deeper than 32 levels" });
  });

  test("more gists than the page holds, or a gist off the schema, is a bad response", async () => {
    github.answer(() => json(Array.from({ length: 31 }, (_, index) => gist(`g${index}`))));
    expect(await fetched()).toEqual({ kind: "bad-response", message: "GitHub answered with 31 gists for a page of 30" });
    github.answer(() => json([{ ...gist("a"), files: { "a.txt": { ...file("a.txt"), size: 1.5 } } }]));
    expect(await fetched()).toMatchObject({ kind: "bad-response", message: expect.stringContaining('"/files/a.txt/size"') });
  });
});

describe("rate limits and GitHub's other headers", () => {
  const observed = { kinds: [] as string[], states: [] as unknown[] };
  const observing = createGithubClient({
    baseUrl: github.url,
    userAgent: "gists-api/test",
    maxBodyBytes: 1024 * 1024,
    observer: { request: () => {}, rateLimit: (state) => observed.states.push(state), rateLimited: (kind) => observed.kinds.push(kind) },
  });
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const secondaryMessage = { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." };
  /** The refusal GitHub's answer was read as, or the failure's kind when it was not a rate limit. */
  const refusalOf = async (status: number, body: unknown, headers: Record<string, string> = {}) => {
    github.answer(() => json(body, { status, headers }));
    const error = await observing.listUserGists("octo", 1, 30, { timeoutMs: 5_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamError);
    return (error as UpstreamError).refusal ?? (error as UpstreamError).kind;
  };

  test("a 403 or 429 is a rate limit by GitHub's message, a retry-after or a spent window; its kind by the window and the message", async () => {
    observed.kinds.length = 0;
    const resetAt = nowSeconds() + 600;
    const window = { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(resetAt) };
    expect(await refusalOf(403, { message: "API rate limit exceeded for 1.2.3.4." }, window)).toEqual({ kind: "primary", exhausted: true, resetAt });
    expect(await refusalOf(429, { message: "API rate limit exceeded" }, window)).toEqual({ kind: "primary", exhausted: true, resetAt });
    expect(await refusalOf(403, secondaryMessage, window)).toEqual({ kind: "secondary", exhausted: true, resetAt });
    expect(await refusalOf(403, secondaryMessage, { "x-ratelimit-remaining": "4000" })).toEqual({ kind: "secondary", exhausted: false });
    expect(await refusalOf(429, { message: "slow down" }, { "retry-after": "30" })).toEqual({ kind: "secondary", exhausted: false, retryAfterSeconds: 30 });
    expect(await refusalOf(403, "", { "x-ratelimit-remaining": "0" })).toEqual({ kind: "primary", exhausted: true });
    expect(await refusalOf(403, { message: "Resource not accessible by integration" }, { "x-ratelimit-remaining": "4000" })).toBe("rejected");
    expect(await refusalOf(401, secondaryMessage, { "retry-after": "30" })).toBe("rejected");
    expect(observed.kinds).toEqual(["primary", "primary", "secondary", "secondary", "secondary", "primary"]);
  });

  test("a retry-after or a reset GitHub should not have sent is bounded or unknown, never a pause of years", async () => {
    const inYears = String(nowSeconds() + 1e9);
    expect(await refusalOf(403, secondaryMessage, { "retry-after": "1e308" })).toMatchObject({ retryAfterSeconds: 3600 });
    expect(await refusalOf(403, secondaryMessage, { "retry-after": "-5" })).not.toHaveProperty("retryAfterSeconds");
    expect(await refusalOf(403, secondaryMessage, { "retry-after": "soon" })).not.toHaveProperty("retryAfterSeconds");
    const inTwoMinutes = new Date(Date.now() + 120_000).toUTCString();
    const dated = (await refusalOf(429, secondaryMessage, { "retry-after": inTwoMinutes })) as RateLimitRefusal;
    expect(dated.retryAfterSeconds).toBeWithin(119, 121);
    observed.states.length = 0;
    expect(await refusalOf(403, {}, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": inYears })).toEqual({ kind: "primary", exhausted: true });
    expect(await refusalOf(403, {}, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(nowSeconds() - 30) })).toEqual({
      kind: "primary",
      exhausted: true,
    });
    // What the budget and the reset gauge hear leaves an unusable reset out too.
    expect(observed.states).toEqual([{ remaining: 0 }, { remaining: 0 }]);
  });

  test("x-poll-interval is read into the page, in whole seconds up to an hour", async () => {
    const pollOf = async (value?: string) => {
      github.answer(() => json([gist("a")], { headers: value === undefined ? {} : { "x-poll-interval": value } }));
      const result = await observing.listUserGists("octo", 1, 30, { timeoutMs: 5_000 });
      return result.kind === "page" ? result.page.pollIntervalSeconds : "not a page";
    };
    expect(await pollOf("60")).toBe(60);
    expect(await pollOf("86400")).toBe(3600);
    for (const ignored of [undefined, "", "0", "-60", "1.5", "soon"]) expect(await pollOf(ignored)).toBeUndefined();
  });
});

describe("redirects", () => {
  test("within GITHUB_API_URL's origin are followed, with the token", async () => {
    github.answer((request) =>
      new URL(request.url).pathname.startsWith("/users/")
        ? new Response(null, { status: 301, headers: { location: "/user/1/gists?page=1&per_page=30" } })
        : json([gist("moved")]),
    );
    expect(await fetched()).toMatchObject({ kind: "page", page: { gists: [{ id: "moved" }] } });
    expect(github.requests).toEqual([
      { path: "/users/octo/gists?page=1&per_page=30", authorization: "Bearer test-token" },
      { path: "/user/1/gists?page=1&per_page=30", authorization: "Bearer test-token" },
    ]);
  });

  test("to another origin are not followed: a bad response naming it, and the other host hears nothing", async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      github.answer(() => new Response(null, { status, headers: { location: `${elsewhere.url}/users/octo/gists` } }));
      expect(await fetched()).toEqual({
        kind: "bad-response",
        message: `GitHub redirected to ${elsewhere.url}, outside GITHUB_API_URL (${github.url}); not followed`,
      });
    }
    expect(elsewhere.requests).toEqual([]);
  });

  test(`at most ${maxRedirects} within the origin, and none without a Location`, async () => {
    github.answer(() => new Response(null, { status: 302, headers: { location: "/users/octo/gists?page=1&per_page=30" } }));
    expect(await fetched()).toEqual({ kind: "bad-response", message: `GitHub redirected more than ${maxRedirects} times` });
    expect(github.requests).toHaveLength(maxRedirects + 1);
    github.answer(() => new Response(null, { status: 301 }));
    expect(await fetched()).toEqual({ kind: "bad-response", message: "GitHub answered 301 without a usable Location" });
  });
});
