import { Elysia } from "elysia";
import { contextOf } from "../../http/request-context.ts";
import { PreparedAnswer } from "../../http/way-out.ts";
import { answerFor, type GistsAnswers } from "./answer.ts";
import { gistsHeaders, gistsParams, gistsQuery, queryDefaults } from "./model.ts";
import { gistsResponses } from "./openapi.ts";
import type { GistsService } from "./service.ts";

/** Dependencies of the gists routes. */
export interface GistsModuleDeps {
  gists: GistsService;
  answers: GistsAnswers;
  now?: () => number;
}

/** `GET /{username}`: a user's public gists, one page at a time or all of them, through the cache. */
export function gistsModule({ gists, answers, now = Date.now }: GistsModuleDeps) {
  return new Elysia({ name: "gists" }).get(
    "/:username",
    async ({ params, query, request }) => {
      const context = contextOf(request);
      const username = params.username;
      const { page, per_page: perPage, use_cache: useCache, all } = { ...queryDefaults, ...query };
      const client = context?.client;
      const resolution = all ? await gists.complete(username, useCache, client) : await gists.page({ username, page, perPage, useCache, client });
      if (context) context.cache = resolution.verdict;
      const answer = answerFor(answers, resolution, {
        requestId: context?.id ?? "",
        acceptEncoding: request.headers.get("accept-encoding"),
        ifNoneMatch: request.headers.get("if-none-match"),
        now: now(),
      });
      // The router hands on Responses: a prepared hit (an odd spelling the hit path left to it) goes as a copy.
      return answer instanceof PreparedAnswer ? answer.template.clone() : answer;
    },
    {
      params: gistsParams,
      query: gistsQuery,
      headers: gistsHeaders,
      detail: {
        summary: "A user's public gists",
        description:
          "One page of the user's public gists (or all of them with `all=true`), from the cache when it has a fresh copy, " +
          "else from GitHub. A stale copy answers at once while it refreshes, and stands in when GitHub fails or rate-limits. " +
          "`X-Cache` says HIT, MISS, STALE, REVALIDATED or BYPASS; `Cache-Status` (RFC 9211) says the same with what GitHub answered and the freshness left.",
        tags: ["gists"],
        responses: gistsResponses,
      },
    },
  );
}
