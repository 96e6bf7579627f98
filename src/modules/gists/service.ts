import type { CacheSlot, TtlCache } from "../../cache/ttl-cache.ts";
import type { GithubClient, GithubGist, GistsPage } from "../../github/client.ts";
import type { Gist, Pagination } from "./model.ts";

/** A page request after validation: the canonical form that keys the cache. */
export interface GistsRequest {
  username: string;
  page: number;
  perPage: number;
  useCache: boolean;
}

/** A page ready to send: the JSON body without its `cache` part, encoded once. */
export interface GistsEntry {
  /** Bytes of `{"data":[...],"pagination":{...}` (no closing brace): the cache part is appended per answer kind. */
  head: Uint8Array<ArrayBuffer>;
  /** The complete body for a cache hit, built once so hits do no encoding. */
  hitBody: Uint8Array<ArrayBuffer>;
  count: number;
}

/** Counters the cache admin endpoint reports. */
export interface GistsCacheStats {
  size: number;
  hits: number;
  misses: number;
  hit_rate: number;
  ttl_seconds: number;
}

/** Dependencies of the gists service. */
export interface GistsServiceDeps {
  github: GithubClient;
  cache: TtlCache<GistsEntry>;
  ttlSeconds: number;
}

/** The gists service: cache lookups, coalesced GitHub fetches and page shaping, free of HTTP types. */
export type GistsService = ReturnType<typeof createGistsService>;

/** The canonical cache key of a request: lower-cased login, defaults filled in. */
export function cacheKeyOf(request: Pick<GistsRequest, "username" | "page" | "perPage">): string {
  return `${request.username.toLowerCase()}:${request.page}:${request.perPage}`;
}

/** Creates the gists service. */
export function createGistsService(deps: GistsServiceDeps) {
  const { github, cache, ttlSeconds } = deps;
  const inflight = new Map<string, Promise<GistsEntry>>();
  const hitSuffix = encoder.encode(cacheSuffix(true, ttlSeconds));
  let hits = 0;
  let misses = 0;

  async function fetchPage(request: GistsRequest, key: string): Promise<GistsEntry> {
    const page = await github.listUserGists(request.username, request.page, request.perPage);
    const entry = buildEntry(page, request, hitSuffix);
    if (ttlSeconds > 0) cache.set(key, entry, ttlSeconds * 1000);
    return entry;
  }

  return {
    ttlSeconds,
    /** The fresh cached page for `key`, counted as a hit; undefined (and not counted) otherwise. */
    cached(key: string): CacheSlot<GistsEntry> | undefined {
      const slot = cache.fresh(key);
      if (slot) {
        hits++;
      }
      return slot;
    },
    /** Fetches a page from GitHub, counted as a miss; concurrent loads of one key share one upstream request. */
    load(request: GistsRequest): Promise<GistsEntry> {
      misses++;
      const key = cacheKeyOf(request);
      if (!request.useCache) return fetchPage(request, key);
      const pending = inflight.get(key);
      if (pending) return pending;
      const loading = fetchPage(request, key).finally(() => inflight.delete(key));
      inflight.set(key, loading);
      return loading;
    },
    /** The body of a page answered as a miss (fetched now). */
    missBody(entry: GistsEntry): Uint8Array<ArrayBuffer> {
      return concat(entry.head, encoder.encode(cacheSuffix(false, ttlSeconds)));
    },
    /** Hit and miss counters and the cache's size. */
    stats(): GistsCacheStats {
      const total = hits + misses;
      return {
        size: cache.size,
        hits,
        misses,
        hit_rate: total === 0 ? 0 : Math.round((hits / total) * 10_000) / 10_000,
        ttl_seconds: ttlSeconds,
      };
    },
    /** Empties the cache (counters keep counting). */
    clear(): void {
      cache.clear();
    },
  };
}

const encoder = new TextEncoder();

function cacheSuffix(hit: boolean, ttlSeconds: number): string {
  return `,"cache":{"hit":${hit},"ttl_seconds":${ttlSeconds}}}`;
}

function buildEntry(page: GistsPage, request: GistsRequest, hitSuffix: Uint8Array<ArrayBuffer>): GistsEntry {
  const data = page.gists.map(shapeGist);
  const pagination: Pagination = {
    page: request.page,
    per_page: request.perPage,
    count: data.length,
    has_next: page.links.next !== undefined,
    has_prev: page.links.prev !== undefined,
  };
  const json = JSON.stringify({ data, pagination });
  const head = encoder.encode(json.slice(0, -1));
  return { head, hitBody: concat(head, hitSuffix), count: data.length };
}

/** The API's shape of one gist: GitHub's html_url as `url`, file names as a list. */
export function shapeGist(gist: GithubGist): Gist {
  return {
    id: gist.id,
    description: gist.description ?? null,
    url: gist.html_url,
    created_at: gist.created_at,
    updated_at: gist.updated_at,
    files: Object.keys(gist.files),
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
