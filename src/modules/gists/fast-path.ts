import QuickLRU from "quick-lru";
import { gistsAnswer, type AnswerSettings } from "./answer.ts";
import type { GistsService } from "./service.ts";

/** Raw request targets longer than this are never remembered, so the index stays small. */
const maxTargetLength = 256;

/** Answers repeat cache hits before routing, by the exact path and query of a request that already passed validation. */
export type GistsFastPath = ReturnType<typeof createGistsFastPath>;

/**
 * Creates the fast path. Only targets that the validated route remembered are known here, so an invalid
 * request can never be answered by it: unknown targets fall through to the router and its validation.
 */
export function createGistsFastPath(gists: GistsService, maxTargets: number, settings: AnswerSettings, now: () => number = Date.now) {
  const keyOfTarget = new QuickLRU<string, string>({ maxSize: maxTargets });

  return {
    /** Records that `target` (path and query) is the cacheable request with canonical `key`. */
    remember(target: string, key: string): void {
      if (target.length <= maxTargetLength) keyOfTarget.set(target, key);
    },
    /** The hit answer for `target`, or undefined when it is unknown or no longer fresh. */
    answer(target: string, request: Request, requestId: string): Response | undefined {
      const key = keyOfTarget.get(target);
      if (key === undefined) return undefined;
      const at = now();
      const slot = gists.freshHit(key, at);
      if (slot === undefined) return undefined;
      const context = {
        requestId,
        acceptEncoding: request.headers.get("accept-encoding"),
        ifNoneMatch: request.headers.get("if-none-match"),
        now: at,
      };
      return gistsAnswer({ slot, verdict: "HIT" }, context, settings);
    },
    /** Forgets every remembered target. */
    clear(): void {
      keyOfTarget.clear();
    },
  };
}
