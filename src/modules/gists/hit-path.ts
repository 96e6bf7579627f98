import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { HitPath } from "../../http/front-door.ts";
import type { RequestContext } from "../../http/request-context.ts";
import { answerFor, type GistsAnswers } from "./answer.ts";
import { gistsParams, gistsQuery, queryDefaults } from "./model.ts";
import { cacheKeyOf, completeKeyOf, type GistsService } from "./service.ts";

// The route's own schemas, compiled once: what passes here is what the route would accept.
const validParams = TypeCompiler.Compile(gistsParams);
const validQuery = TypeCompiler.Compile(gistsQuery);

// Only the plain spellings are read here ("page=2", "all=true"); anything else ("page=02", "%70age=2", a repeated
// name, a name the route does not know) is left to the router, which answers it the slow way.
const plainNumber = /^[1-9]\d{0,2}$/;
const plainBoolean = new Set(["true", "false"]);
const plainLogin = /^[A-Za-z0-9-]{1,39}$/;

// Request targets remembered with what they ask for (about 150 B each, so at most about 600 KB). The hot pages of a
// cache fit; a flood of new targets starts the record over, and a target read again costs about a microsecond.
const maxRememberedTargets = 4_096;

/**
 * Creates the hit path for `GET /{username}`: a fresh cache hit answered before routing. The first time it
 * meets a request target it reads it as the route does, validated by the route's compiled schemas, and
 * remembers the cache key it asks for (or that it is not one to answer here); afterwards the target alone finds
 * the key. So an invalid request can never be answered from the cache: it finds no key, and goes on to the
 * router and its validation.
 */
export function createGistsHitPath(gists: GistsService, answers: GistsAnswers, now: () => number = Date.now): HitPath {
  const keys = new Map<string, string | null>();
  const keyOf = (target: string): string | null => {
    let key = keys.get(target);
    if (key === undefined) {
      key = _cacheKeyOfTarget(target);
      if (keys.size >= maxRememberedTargets) keys.clear();
      keys.set(target, key);
    }
    return key;
  };

  return {
    answer(context: RequestContext): ReturnType<HitPath["answer"]> {
      if (context.method !== "GET") return undefined;
      const key = keyOf(context.target);
      if (key === null) return undefined;
      const at = now();
      const slot = gists.freshHit(key, at);
      if (slot === undefined) return undefined;
      context.route = "/:username";
      context.cache = "HIT";
      const { headers } = context;
      const ifNoneMatch = headers.get("if-none-match");
      const request = { acceptEncoding: headers.get("accept-encoding"), ifNoneMatch, now: at };
      return ifNoneMatch === null ? answers.HIT(slot, request) : answerFor(answers, { slot, verdict: "HIT" }, { ...request, requestId: context.id });
    },
  };
}

/** The cache key a request target asks for, read as the route reads it; null when the hit path must leave it to the router. */
function _cacheKeyOfTarget(target: string): string | null {
  const question = target.indexOf("?");
  const path = question === -1 ? target : target.slice(0, question);
  if (path.indexOf("/", 1) !== -1) return null;
  const username = path.slice(1);
  if (!plainLogin.test(username) || !validParams.Check({ username })) return null;
  const query = _canonicalQuery(question === -1 ? "" : target.slice(question + 1));
  if (query === null || !query.useCache) return null;
  return query.all ? completeKeyOf(username) : cacheKeyOf({ username, page: query.page, perPage: query.perPage });
}

function _canonicalQuery(query: string): { page: number; perPage: number; useCache: boolean; all: boolean } | null {
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
