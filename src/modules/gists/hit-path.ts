import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { EarlyAnswer } from "../../http/front-door.ts";
import type { RequestContext } from "../../http/request-context.ts";
import { answerFor, type GistsAnswers } from "./answer.ts";
import { gistsParams, gistsQuery, queryDefaults } from "./model.ts";
import { cacheKeyOf, completeKeyOf, type GistsService } from "./service.ts";

/** The gists route's parameters after validation, as the cache keys them. */
interface CanonicalQuery {
  page: number;
  perPage: number;
  useCache: boolean;
  all: boolean;
}

// The route's own schemas, compiled once: what passes here is what the route would accept.
const validParams = TypeCompiler.Compile(gistsParams);
const validQuery = TypeCompiler.Compile(gistsQuery);

// Only the plain spellings are read here ("page=2", "all=true"); anything else ("page=02", "%70age=2", a repeated
// name, a name the route does not know) is left to the router, which answers it the slow way.
const plainNumber = /^[1-9]\d{0,2}$/;
const plainBoolean = new Set(["true", "false"]);
const plainLogin = /^[A-Za-z0-9-]{1,39}$/;

// A handful of distinct query strings covers nearly every client; the bound keeps hostile ones from growing it.
const maxRememberedQueries = 256;

/**
 * Answers a fresh cache hit for `GET /{username}` before routing. It reads the request as the route does,
 * validated by the route's compiled schemas, so an invalid request can never be answered from the cache:
 * it finds no entry, or is not read here at all and goes on to the router and its validation.
 */
export function createGistsHitPath(gists: GistsService, answers: GistsAnswers, now: () => number = Date.now): EarlyAnswer {
  const queries = new Map<string, CanonicalQuery | null>();
  const canonical = (query: string): CanonicalQuery | null => {
    let known = queries.get(query);
    if (known === undefined) {
      known = _canonicalQuery(query);
      if (queries.size < maxRememberedQueries) queries.set(query, known);
    }
    return known;
  };

  return {
    answer(context: RequestContext): Response | undefined {
      if (context.method !== "GET") return undefined;
      const { path } = context;
      if (path.indexOf("/", 1) !== -1) return undefined;
      const username = path.slice(1);
      if (!plainLogin.test(username) || !validParams.Check({ username })) return undefined;
      const query = canonical(context.query);
      if (query === null || !query.useCache) return undefined;
      const at = now();
      const key = query.all ? completeKeyOf(username) : cacheKeyOf({ username, page: query.page, perPage: query.perPage });
      const slot = gists.freshHit(key, at);
      if (slot === undefined) return undefined;
      context.route = "/:username";
      context.cache = "HIT";
      const { headers } = context;
      const ifNoneMatch = headers.get("if-none-match");
      const request = { requestId: context.id, acceptEncoding: headers.get("accept-encoding"), ifNoneMatch, now: at };
      return ifNoneMatch === null ? answers.HIT(slot, request) : answerFor(answers, { slot, verdict: "HIT" }, request);
    },
  };
}

function _canonicalQuery(query: string): CanonicalQuery | null {
  const given: Record<string, string> = {};
  if (query !== "") {
    for (const pair of query.split("&")) {
      const equals = pair.indexOf("=");
      const name = equals === -1 ? pair : pair.slice(0, equals);
      if (!Object.hasOwn(queryDefaults, name) || Object.hasOwn(given, name)) return null;
      given[name] = equals === -1 ? "" : pair.slice(equals + 1);
    }
  }
  const parsed: Record<string, number | boolean> = { ...queryDefaults };
  for (const [name, text] of Object.entries(given)) {
    if (typeof queryDefaults[name as keyof typeof queryDefaults] === "number") {
      if (!plainNumber.test(text)) return null;
      parsed[name] = Number(text);
    } else {
      if (!plainBoolean.has(text)) return null;
      parsed[name] = text === "true";
    }
  }
  if (!validQuery.Check(parsed)) return null;
  return { page: parsed.page as number, perPage: parsed.per_page as number, useCache: parsed.use_cache as boolean, all: parsed.all as boolean };
}
