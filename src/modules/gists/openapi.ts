import type { OpenAPIV3 } from "openapi-types";
import { errorBody, gistsPage, parameterRules, validationErrorBody } from "./model.ts";

// TypeBox schemas are JSON Schema; OpenAPI's types only lack its symbol-keyed markers.
const schema = (value: object) => value as OpenAPIV3.SchemaObject;

// OpenAPI documentation of GET /{username}: every answer with its body, headers and an example. Elysia's
// route `detail.responses` replaces what the plugin would derive, so these must name the same schemas.

const header = (description: string, type: OpenAPIV3.SchemaObject = { type: "string" }): OpenAPIV3.HeaderObject => ({ description, schema: type });

const requestId = header("The request's id: the client's X-Request-Id when it sent a sane one, else generated");

const xCache = header("How the cache answered", { type: "string", enum: ["HIT", "MISS", "STALE", "REVALIDATED", "BYPASS"] });

// RFC 9211: the same verdict in the standard form, with what GitHub answered and the freshness left.
const cacheStatus = {
  ...header(
    "How the cache answered (RFC 9211): `hit` (fresh, or stale with a negative `ttl` and a `detail` saying why), or `fwd` " +
      "(`uri-miss`: nothing held, `stale`: an expired copy held, `request`: use_cache=false) with `fwd-status` (GitHub's 200, 304 or 404), " +
      "`stored` and `collapsed` (waited for another request's fetch); `ttl` is the seconds of freshness left (max-age while fresh), `key` the cache key",
  ),
  examples: {
    hit: { value: 'gists-api; hit; ttl=300; key="octocat:1:30"' },
    stale: { value: 'gists-api; hit; ttl=-412; key="octocat:1:30"; detail="stale-while-revalidate"' },
    miss: { value: 'gists-api; fwd=uri-miss; fwd-status=200; stored; ttl=300; key="octocat:1:30"' },
    revalidated: { value: 'gists-api; fwd=stale; fwd-status=304; stored; ttl=300; key="octocat:1:30"' },
    bypass: { value: 'gists-api; fwd=request; fwd-status=200; stored; ttl=300; key="octocat:1:30"' },
    collapsed: { value: 'gists-api; fwd=uri-miss; fwd-status=200; stored; collapsed; ttl=300; key="octocat:1:30"' },
  },
} satisfies OpenAPIV3.HeaderObject;

const errorExample = (detail: string) => ({ detail, request_id: "3cb7c4db-565c-4e64-abc5-d8528776544c" });

const error = (description: string, detail: string, headers: Record<string, OpenAPIV3.HeaderObject> = {}): OpenAPIV3.ResponseObject => ({
  description,
  headers: { "X-Request-Id": requestId, ...headers },
  content: { "application/json": { schema: schema(errorBody), example: errorExample(detail) } },
});

/** A page of gists as the README shows it. */
export const gistsPageExample = {
  data: [
    {
      id: "aa5a315d61ae9438b18d",
      description: "Hello world!",
      url: "https://gist.github.com/octocat/aa5a315d61ae9438b18d",
      created_at: "2010-04-14T02:15:15Z",
      updated_at: "2011-06-20T11:34:15Z",
      files: {
        "hello_world.rb": {
          filename: "hello_world.rb",
          type: "application/x-ruby",
          language: "Ruby",
          raw_url: "https://gist.githubusercontent.com/octocat/aa5a315d61ae9438b18d/raw/f3c5b3e6d1bd2b6a8d9a5b4c7e1f2a3b4c5d6e7f/hello_world.rb",
          size: 167,
        },
        ".env.example": {
          filename: ".env.example",
          type: "text/plain",
          language: null,
          raw_url: "https://gist.githubusercontent.com/octocat/aa5a315d61ae9438b18d/raw/0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c/.env.example",
          size: 52,
        },
      },
    },
  ],
  pagination: { page: 1, per_page: 30, count: 1, has_next: false, has_prev: false },
  cache: { hit: true, ttl_seconds: 300 },
};

/** The responses of `GET /{username}`. */
export const gistsResponses: OpenAPIV3.ResponsesObject = {
  200: {
    description: "One page of the user's public gists (or all of them with all=true)",
    headers: {
      "X-Cache": xCache,
      "Cache-Status": cacheStatus,
      ETag: header("Weak validator of the page's data; send it back as If-None-Match to get 304"),
      "Cache-Control": header("public, max-age=<seconds until the cached copy expires>"),
      Age: header("Seconds since the copy was fetched (stale answers)", { type: "integer" }),
      Vary: header("Accept-Encoding"),
      "Content-Encoding": header("br or gzip when the client accepts it and the body is over 1 KB"),
      "X-Request-Id": requestId,
    },
    content: {
      "application/json": {
        schema: schema(gistsPage),
        examples: {
          hit: { summary: "A cache hit", value: gistsPageExample },
          stale: {
            summary: "A stale copy, answered while it refreshes",
            value: { ...gistsPageExample, cache: { hit: true, ttl_seconds: 300, stale: true, age_seconds: 412 } },
          },
        },
      },
    },
  },
  304: {
    description: "Not modified: If-None-Match matched the page's ETag",
    headers: { ETag: header("The page's validator"), "X-Cache": xCache, "Cache-Status": cacheStatus, "X-Request-Id": requestId },
  },
  404: error("No GitHub user by that name (cached for CACHE_NEGATIVE_TTL)", "User 'ghost-user-1' not found", {
    "X-Cache": xCache,
    "Cache-Status": cacheStatus,
    "Cache-Control": header("public, max-age=<seconds until the cached 404 expires>"),
  }),
  422: {
    description: "A parameter is invalid; nothing was sent to GitHub",
    headers: { "X-Request-Id": requestId },
    content: {
      "application/json": {
        schema: schema(validationErrorBody),
        example: {
          detail: [{ loc: [...parameterRules.per_page.loc], msg: `per_page ${parameterRules.per_page.msg}`, type: "value_error" }],
          request_id: "3cb7c4db-565c-4e64-abc5-d8528776544c",
        },
      },
    },
  },
  429: error(
    "GitHub's rate limit is spent and no cached copy can answer, or this client sent too many requests",
    "GitHub's rate limit is exhausted; nothing is sent until it resets",
    {
      "Retry-After": header("Seconds until a retry can succeed", { type: "integer" }),
      "RateLimit-Limit": header("Per-client limit: bucket size (when the client was limited)", { type: "integer" }),
      "RateLimit-Remaining": header("Per-client limit: tokens left", { type: "integer" }),
      "RateLimit-Reset": header("Per-client limit: seconds until a token is back", { type: "integer" }),
    },
  ),
  502: error(
    "GitHub failed (5xx, connection error, an answer this document cannot describe: a gist off this schema, more gists than per_page, " +
      "JSON nested past 32 levels, an unasked 304, a redirect off GITHUB_API_URL's origin; or the circuit breaker is open) and no cached copy can answer",
    "GitHub answered 500; try again later",
  ),
  504: error("GitHub did not answer within UPSTREAM_TIMEOUT_MS and no cached copy can answer", "GitHub did not answer within 5000 ms; try again later"),
};
