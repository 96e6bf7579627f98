import { t } from "elysia";

/** A GitHub login: 1–39 letters, digits and single hyphens, neither first nor last. */
export const githubLoginPattern = "^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$";

/** What a client is told for each parameter that fails validation, FastAPI-style: where it is and what it must be. */
export const parameterRules = {
  username: { loc: ["path", "username"], msg: "must be a GitHub login: 1-39 letters, digits or single hyphens, not starting or ending with a hyphen" },
  page: { loc: ["query", "page"], msg: "must be a whole number from 1 to 100" },
  per_page: { loc: ["query", "per_page"], msg: "must be a whole number from 1 to 100" },
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
    description: "GitHub login: 1-39 letters, digits and single hyphens, not starting or ending with a hyphen",
    examples: ["octocat"],
  }),
});

/** Query parameters of `GET /{username}`, with the defaults filled in by validation. */
export const gistsQuery = t.Object({
  page: t.Integer({ [parameterKey]: "page", minimum: 1, maximum: 100, default: 1, description: "Page number, 1-100" }),
  per_page: t.Integer({ [parameterKey]: "per_page", minimum: 1, maximum: 100, default: 30, description: "Gists per page, 1-100" }),
  use_cache: t.Boolean({ [parameterKey]: "use_cache", default: true, description: "false asks GitHub even when a cached copy is fresh" }),
  all: t.Boolean({
    [parameterKey]: "all",
    default: false,
    description: "true returns every public gist (following GitHub's pages of 100, up to GISTS_MAX_PAGES); page and per_page are ignored",
  }),
});

/** One gist as the API returns it. */
export const gist = t.Object({
  id: t.String(),
  description: t.Union([t.String(), t.Null()]),
  url: t.String({ description: "The gist's page on GitHub (html_url)" }),
  created_at: t.String(),
  updated_at: t.Optional(t.String()),
  files: t.Array(t.String(), { description: "File names in the gist" }),
});

/** Where this page sits in the user's list, from GitHub's Link header. */
export const pagination = t.Object({
  page: t.Integer(),
  per_page: t.Integer(),
  count: t.Integer({ description: "Gists on this page" }),
  has_next: t.Boolean(),
  has_prev: t.Boolean(),
  pages: t.Optional(t.Integer({ description: "With all=true: GitHub pages followed" })),
  truncated: t.Optional(t.Boolean({ description: "With all=true: true when GISTS_MAX_PAGES stopped the list early" })),
});

/** Whether the answer came from the cache. */
export const cacheInfo = t.Object({
  hit: t.Boolean(),
  ttl_seconds: t.Integer({ description: "How long a page stays fresh in the cache" }),
  stale: t.Optional(t.Boolean({ description: "Present and true when a stale copy answered (X-Cache: STALE)" })),
  age_seconds: t.Optional(t.Integer({ description: "With stale: seconds since the copy was fetched" })),
});

/** The body of a successful `GET /{username}`. */
export const gistsPage = t.Object({ data: t.Array(gist), pagination, cache: cacheInfo });

/** Every error body: a message (or a list of problems for 422) and the request id. */
export const errorBody = t.Object({
  detail: t.Any({ description: "What went wrong; for 422 a list of {loc, msg, type}" }),
  request_id: t.Optional(t.String()),
});

export type Gist = typeof gist.static;
export type Pagination = typeof pagination.static;
export type GistsQuery = typeof gistsQuery.static;
