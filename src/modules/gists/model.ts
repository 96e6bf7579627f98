import { Kind, TypeRegistry } from "@sinclair/typebox";
import { t } from "elysia";

/** A GitHub login: 1–39 letters, digits and single hyphens, neither first nor last. */
export const githubLoginPattern = "^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$";

// Each rule is stated once: the schemas enforce it, the OpenAPI descriptions and the 422 messages quote it.
const loginRule = "1-39 letters, digits or single hyphens, not starting or ending with a hyphen";
const pageRange = { minimum: 1, maximum: 100 } as const;
const wholeNumber = `a whole number from ${pageRange.minimum} to ${pageRange.maximum}`;

/** What a client is told for each parameter that fails validation, FastAPI-style: where it is and what it must be. */
export const parameterRules = {
  username: { loc: ["path", "username"], msg: `must be a GitHub login: ${loginRule}` },
  page: { loc: ["query", "page"], msg: `must be ${wholeNumber}` },
  per_page: { loc: ["query", "per_page"], msg: `must be ${wholeNumber}` },
  use_cache: { loc: ["query", "use_cache"], msg: "must be true or false" },
  all: { loc: ["query", "all"], msg: "must be true or false" },
} as const;

/** The schema key naming the parameter a schema validates, so a failure can be traced to it. */
export const parameterKey = "x-parameter";

/** Path parameters of `GET /{username}`. */
export const gistsParams = t.Object({
  username: t.String({
    [parameterKey]: "username",
    pattern: githubLoginPattern,
    minLength: 1,
    maxLength: 39,
    description: `GitHub login: ${loginRule}`,
    example: "octocat",
  }),
});

/** Defaults of the query parameters (validation fills them in; the handler relies on them). */
export const queryDefaults = { page: 1, per_page: 30, use_cache: true, all: false } as const;

/** Query parameters of `GET /{username}`: all optional, with the defaults filled in by validation. */
export const gistsQuery = t.Object({
  page: t.Optional(t.Integer({ [parameterKey]: "page", ...pageRange, default: queryDefaults.page, description: `Page number, ${wholeNumber}`, example: 1 })),
  per_page: t.Optional(
    t.Integer({ [parameterKey]: "per_page", ...pageRange, default: queryDefaults.per_page, description: `Gists per page, ${wholeNumber}`, example: 30 }),
  ),
  use_cache: t.Optional(
    t.Boolean({
      [parameterKey]: "use_cache",
      default: queryDefaults.use_cache,
      description: "true or false; false asks GitHub even when a cached copy is fresh",
    }),
  ),
  all: t.Optional(
    t.Boolean({
      [parameterKey]: "all",
      default: queryDefaults.all,
      description: "true or false; true returns every public gist (following GitHub's pages of 100, up to GISTS_MAX_PAGES); page and per_page are ignored",
    }),
  ),
});

// Elysia's t.Integer also takes numeric strings (it coerces query parameters); answers carry real integers.
// TypeBox's own Integer kind publishes `{"type":"integer"}` and compiles to a check of a real integer.
const integer = (options: { description?: string; minimum?: number } = {}) => t.Unsafe<number>({ [Kind]: "Integer", type: "integer", ...options });

// OpenAPI 3.0 has no null type: a nullable string is published as `nullable: true` and checked as "a string or null".
TypeRegistry.Set("NullableString", (_schema, value) => value === null || typeof value === "string");
const nullableString = (description: string) => t.Unsafe<string | null>({ [Kind]: "NullableString", type: "string", nullable: true, description });

/** One file of a gist, as GitHub lists it (its content is never included). */
export const gistFile = t.Object(
  {
    filename: t.String(),
    type: t.String({ description: "MIME type, as GitHub guesses it from the name" }),
    language: nullableString("null when GitHub does not recognise the language"),
    raw_url: t.String({ description: "Where the file's content can be downloaded" }),
    size: integer({ minimum: 0, description: "Size of the content in bytes" }),
    encoding: t.Optional(t.String({ description: "Present when GitHub sends it, e.g. utf-8" })),
    truncated: t.Optional(t.Boolean({ description: "Present when GitHub sends it" })),
  },
  { additionalProperties: false },
);

/** A gist's files keyed by file name, passed on from GitHub. */
export const gistFiles = t.Unsafe<Record<string, typeof gistFile.static>>({
  // An object with no fixed properties, so TypeBox compiles it: every key is a file name, none is special.
  [Kind]: "Object",
  type: "object",
  properties: {},
  additionalProperties: gistFile,
  description: "The gist's files keyed by file name, as GitHub sends them (without their content)",
});

/** One gist as the API returns it. */
export const gist = t.Object(
  {
    id: t.String(),
    description: nullableString("null when the gist has none"),
    url: t.String({ description: "The gist's page on GitHub (html_url)" }),
    created_at: t.String(),
    updated_at: t.Optional(t.String()),
    files: gistFiles,
  },
  { additionalProperties: false },
);

/** Where this page sits in the user's list, from GitHub's Link header. */
export const pagination = t.Object(
  {
    page: integer(),
    per_page: integer(),
    count: integer({ description: "Gists on this page" }),
    has_next: t.Boolean(),
    has_prev: t.Boolean(),
    pages: t.Optional(integer({ description: "With all=true: GitHub pages followed" })),
    truncated: t.Optional(t.Boolean({ description: "With all=true: true when GISTS_MAX_PAGES stopped the list early" })),
  },
  { additionalProperties: false },
);

/** Whether the answer came from the cache. */
export const cacheInfo = t.Object(
  {
    hit: t.Boolean(),
    ttl_seconds: t.Number({ description: "How long a page stays fresh in the cache (CACHE_TTL), in seconds: whole unless set in milliseconds" }),
    stale: t.Optional(t.Boolean({ description: "Present and true when a stale copy answered (X-Cache: STALE)" })),
    age_seconds: t.Optional(integer({ description: "With stale: seconds since the copy was fetched" })),
  },
  { additionalProperties: false },
);

/** The body of a successful `GET /{username}`. */
export const gistsPage = t.Object({ data: t.Array(gist), pagination, cache: cacheInfo }, { additionalProperties: false });

/** Every error body but 422's: a message and the request id. */
export const errorBody = t.Object(
  {
    detail: t.String({ description: "What went wrong, and what to do about it" }),
    request_id: t.String({ description: "The request's id, also in X-Request-Id" }),
  },
  { description: "An error: what went wrong and the request's id" },
);

/** The 422 body: one problem per invalid parameter, as FastAPI reported them. */
export const validationErrorBody = t.Object({
  detail: t.Array(
    t.Object({
      loc: t.Array(t.String(), { description: '["path", "username"] or ["query", name]' }),
      msg: t.String(),
      type: t.String(),
    }),
  ),
  request_id: t.String(),
});

/** Request headers the gists route reads. */
export const gistsHeaders = t.Object({
  "if-none-match": t.Optional(t.String({ description: "An ETag from an earlier answer: 304 when the page is unchanged" })),
  "accept-encoding": t.Optional(t.String({ description: "br and gzip are supported" })),
  "x-request-id": t.Optional(t.String({ description: "Echoed back; generated when absent or not [A-Za-z0-9_.:-]{1,128}" })),
});

/** The body of `GET /cache/stats`: counters, bounds and occupancy of both tiers (the service fills it in). */
export const cacheStats = t.Object(
  {
    size: t.Integer({ description: "Entries held (pages, complete lists, 404s)" }),
    hits: t.Integer({ description: "Answers from a fresh copy" }),
    misses: t.Integer({ description: "Answers that waited for GitHub (coalesced ones included)" }),
    hit_rate: t.Number({ description: "(hits + stale_served) / all cacheable answers, 0..1" }),
    ttl_seconds: t.Number({ description: "CACHE_TTL in seconds" }),
    stale_ttl_seconds: t.Number({ description: "CACHE_STALE_TTL in seconds" }),
    bytes: t.Integer({ description: "Bytes of stored answers" }),
    max_bytes: t.Integer(),
    max_entries: t.Integer(),
    evictions: t.Integer(),
    stale_served: t.Integer({ description: "Answers from a stale copy" }),
    coalesced: t.Integer({ description: "Requests that joined an upstream request already in flight" }),
    revalidated: t.Integer({ description: "Entries renewed by a 304 from GitHub" }),
    inflight: t.Integer({ description: "Upstream loads in flight" }),
    shared: t.Object(
      {
        state: t.UnionEnum(["off", "up", "down"], {
          description: "off: REDIS_URL unset; up: the shared tier answers; down: this replica answers from its local tier alone",
        }),
        full: t.Boolean({ description: "Redis refuses writes for want of memory: copies are read but no longer shared" }),
        hits: t.Integer({ description: "Reads of the shared tier that found a copy" }),
        misses: t.Integer({ description: "Reads of the shared tier that found nothing" }),
        dropped: t.Integer({ description: "Unreadable entries removed, never served" }),
        errors: t.Integer({ description: "Redis commands that failed or timed out" }),
        fallbacks: t.Integer({ description: "Redis commands not sent or failed: the local tier answered alone" }),
        lease_waits: t.Integer({ description: "Waits for another replica's load of the same page" }),
      },
      { description: "The tier shared by every replica, on Redis" },
    ),
  },
  { description: "Counters, bounds and occupancy of the cache" },
);

/** What `GET /cache/stats` answers. */
export type GistsCacheStats = typeof cacheStats.static;
export type Gist = typeof gist.static;
export type GistFile = typeof gistFile.static;
export type Pagination = typeof pagination.static;
export type GistsQuery = typeof gistsQuery.static;
