import { Elysia } from "elysia";
import { pathAndQuery, requestContextOf } from "../../http/request-context.ts";
import { gistsAnswer, type AnswerSettings } from "./answer.ts";
import type { GistsFastPath } from "./fast-path.ts";
import { errorBody, gistsPage, gistsParams, gistsQuery } from "./model.ts";
import { cacheKeyOf, completeKeyOf, type GistsService } from "./service.ts";

/** Dependencies of the gists routes. */
export interface GistsModuleDeps {
  gists: GistsService;
  fastPath: GistsFastPath;
  answers: AnswerSettings;
  now?: () => number;
}

/** `GET /{username}`: a user's public gists, one page at a time or all of them, through the cache. */
export function gistsModule({ gists, fastPath, answers, now = Date.now }: GistsModuleDeps) {
  return new Elysia({ name: "gists" }).get(
    "/:username",
    async ({ params, query, request }) => {
      const context = requestContextOf(request);
      const username = params.username;
      const resolution = query.all
        ? await gists.complete(username, query.use_cache)
        : await gists.page({ username, page: query.page, perPage: query.per_page, useCache: query.use_cache });
      if (context) context.cache = resolution.verdict;
      if (query.use_cache && !resolution.slot.value.negative) {
        const key = query.all ? completeKeyOf(username) : cacheKeyOf({ username, page: query.page, perPage: query.per_page });
        fastPath.remember(pathAndQuery(request.url), key);
      }
      return gistsAnswer(
        resolution,
        {
          requestId: context?.id ?? "",
          acceptEncoding: request.headers.get("accept-encoding"),
          ifNoneMatch: request.headers.get("if-none-match"),
          now: now(),
        },
        answers,
      );
    },
    {
      params: gistsParams,
      query: gistsQuery,
      response: { 200: gistsPage, 404: errorBody, 422: errorBody, 429: errorBody, 502: errorBody, 504: errorBody },
      detail: {
        summary: "A user's public gists",
        description:
          "One page of the user's public gists (or all of them with `all=true`), served from the cache when fresh. " +
          "`X-Cache` says HIT, MISS, STALE, REVALIDATED or BYPASS.",
        tags: ["gists"],
      },
    },
  );
}
