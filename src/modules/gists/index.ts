import { Elysia } from "elysia";
import { requestContextOf, pathAndQuery } from "../../http/request-context.ts";
import { gistsAnswer } from "./answer.ts";
import type { GistsFastPath } from "./fast-path.ts";
import { errorBody, gistsPage, gistsParams, gistsQuery } from "./model.ts";
import { cacheKeyOf, type GistsRequest, type GistsService } from "./service.ts";

/** Dependencies of the gists routes. */
export interface GistsModuleDeps {
  gists: GistsService;
  fastPath: GistsFastPath;
}

/** `GET /{username}`: a user's public gists, one page at a time, through the cache. */
export function gistsModule({ gists, fastPath }: GistsModuleDeps) {
  return new Elysia({ name: "gists" }).get(
    "/:username",
    async ({ params, query, request }) => {
      const context = requestContextOf(request);
      const requestId = context?.id ?? "";
      const gistsRequest: GistsRequest = {
        username: params.username,
        page: query.page,
        perPage: query.per_page,
        useCache: query.use_cache,
      };
      const key = cacheKeyOf(gistsRequest);
      if (gistsRequest.useCache) {
        fastPath.remember(pathAndQuery(request.url), key);
        const slot = gists.cached(key);
        if (slot) {
          if (context) context.cache = "HIT";
          return gistsAnswer(slot.value.hitBody, "HIT", requestId);
        }
      }
      const entry = await gists.load(gistsRequest);
      const verdict = gistsRequest.useCache ? "MISS" : "BYPASS";
      if (context) context.cache = verdict;
      return gistsAnswer(gists.missBody(entry), verdict, requestId);
    },
    {
      params: gistsParams,
      query: gistsQuery,
      response: { 200: gistsPage, 404: errorBody, 422: errorBody, 429: errorBody, 502: errorBody, 504: errorBody },
      detail: {
        summary: "A user's public gists",
        description:
          "One page of the user's public gists, served from the cache when fresh. `X-Cache` says HIT, MISS or BYPASS.",
        tags: ["gists"],
      },
    },
  );
}
