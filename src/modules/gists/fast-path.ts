import QuickLRU from "quick-lru";
import { gistsAnswer, type AnswerSettings } from "./answer.ts";
import type { GistsService } from "./service.ts";

/** Request URLs longer than this are never remembered, so the index stays small. */
const maxUrlLength = 512;

/** A request URL the validated route answered from the cache: the cache key and the path and query it carried. */
export interface KnownRequest {
  key: string;
  target: string;
}

/** Answers repeat cache hits before routing, by the exact URL of a request that already passed validation. */
export type GistsFastPath = ReturnType<typeof createGistsFastPath>;

/**
 * Creates the fast path. Only URLs that the validated route remembered are known here, so an invalid
 * request can never be answered by it: unknown URLs fall through to the router and its validation.
 */
export function createGistsFastPath(gists: GistsService, maxUrls: number, settings: AnswerSettings, now: () => number = Date.now) {
  // quick-lru keeps two generations of up to maxSize each, so half of maxUrls keeps the index within maxUrls.
  const known = new QuickLRU<string, KnownRequest>({ maxSize: Math.max(1, Math.ceil(maxUrls / 2)) });

  return {
    /** Records that `url` (whose path and query are `target`) is the cacheable request with canonical `key`. */
    remember(url: string, target: string, key: string): void {
      if (url.length > maxUrlLength) return;
      const previous = known.peek(url);
      if (previous === undefined || previous.key !== key || previous.target !== target) known.set(url, { key, target });
    },
    /** What the route remembered about `url`, if anything. */
    find(url: string): KnownRequest | undefined {
      return known.get(url);
    },
    /** The hit answer for a known request, or undefined when its page is no longer fresh in the cache. */
    answer(request: KnownRequest, headers: Headers, requestId: string): Response | undefined {
      const at = now();
      const slot = gists.freshHit(request.key, at);
      if (slot === undefined) return undefined;
      const context = {
        requestId,
        acceptEncoding: headers.get("accept-encoding"),
        ifNoneMatch: headers.get("if-none-match"),
        now: at,
      };
      return gistsAnswer({ slot, verdict: "HIT" }, context, settings);
    },
    /** Forgets every remembered URL. */
    clear(): void {
      known.clear();
    },
  };
}
