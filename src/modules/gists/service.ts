import type { Freshness } from "../../cache/freshness.ts";
import { createCachePolicy, type CacheEvent, type Loader, type Resolution, type ResolveMode, type Slot } from "../../cache/policy.ts";
import type { CacheConfig } from "../../config.ts";
import { sharedTierOff, type FleetMembership } from "../../fleet/connect.ts";
import { UpstreamError } from "../../github/client.ts";
import type { ClientShare } from "../../github/client-share.ts";
import type { Upstream } from "../../github/upstream.ts";
import type { Cost, GithubCallReason } from "../../metrics/catalog.ts";
import { callReason, isCharged, type UpstreamStatus } from "./cost.ts";
import type { GistsCacheStats } from "./model.ts";
import { completeEntry, notFoundEntry, pageEntry, type GistsEntry } from "./entry.ts";

/** A page request after validation: the canonical form that keys the cache, and who asked. */
export interface GistsRequest {
  username: string;
  page: number;
  perPage: number;
  useCache: boolean;
  /** The client's address, when GitHub's budget is shared out per client: the calls it causes count against it. */
  client?: string;
}

/** Dependencies of the gists service. */
export interface GistsServiceDeps {
  upstream: Upstream;
  cache: CacheConfig;
  freshness: Freshness;
  /** This replica's place in the fleet, when REDIS_URL is set. */
  membership?: FleetMembership<GistsEntry>;
  /** Each client's share of GitHub's budget (CLIENT_GITHUB_SHARE). */
  share?: ClientShare;
  onBackgroundError?: (key: string, error: unknown) => void;
  onCacheEvent?: (event: CacheEvent) => void;
  /** Whether GitHub requests carry GITHUB_TOKEN: GitHub does not charge a 304 to a token. */
  authenticated?: boolean;
  /** Each GitHub call that got an answer (200, 304, 404): why it was made and whether GitHub charged it. */
  onGithubCall?: (reason: GithubCallReason, charged: boolean) => void;
  now?: () => number;
}

// What one request spent: the charged GitHub calls its own loads made (a wait on another's load makes none).
interface Meter {
  charged: number;
}

/** The gists service: cached pages and complete lists over the guarded upstream, free of HTTP types. */
export type GistsService = ReturnType<typeof createGistsService>;

/** The canonical cache key of a page: lower-cased login, defaults filled in. */
export function cacheKeyOf(request: Pick<GistsRequest, "username" | "page" | "perPage">): string {
  return `${request.username.toLowerCase()}:${request.page}:${request.perPage}`;
}

/** The cache key of a user's complete list. */
export function completeKeyOf(username: string): string {
  return `${username.toLowerCase()}:all`;
}

/** Creates the gists service. */
export function createGistsService(deps: GistsServiceDeps) {
  const { upstream, cache, freshness, membership } = deps;
  const policy = createCachePolicy<GistsEntry>({
    limits: { maxEntries: cache.maxEntries, maxBytes: cache.maxBytes },
    freshness,
    // A stale page stands in for GitHub failing or limiting us, never for GitHub saying the user is gone.
    servesStaleAfter: (error) => !(error instanceof UpstreamError && error.kind === "not-found"),
    onBackgroundError: deps.onBackgroundError,
    onEvent: deps.onCacheEvent,
    fleet: membership?.fleet,
    now: deps.now,
  });
  // The fleet's cache was cleared elsewhere (or may have been while this replica was cut off): its copies go too.
  membership?.fleet.onClear(() => policy.clear());

  const answered: Record<Cost, number> = { charged: 0, free: 0 };

  // Each call is counted where it is made, with why: the loader knows the request, the purpose and the copy held.
  const pageLoader =
    (request: GistsRequest, forList: boolean, meter: Meter): Loader<GistsEntry> =>
    async (previous) => {
      const validators =
        cache.revalidate && previous && !previous.value.negative && (previous.value.upstream.etag || previous.value.upstream.lastModified)
          ? previous.value.upstream
          : undefined;
      const called = (status: UpstreamStatus) => {
        const charged = isCharged(status, deps.authenticated ?? false);
        if (charged) meter.charged++;
        deps.onGithubCall?.(callReason({ bypass: !request.useCache, forList, held: previous !== undefined, status }), charged);
      };
      try {
        // A page nothing held, or asked for past the cache, is a call the client causes: it counts against its share.
        if (request.client && (!previous || !request.useCache)) await deps.share?.spend(request.client);
        const fetched = await upstream.fetchPage(request.username, request.page, request.perPage, validators);
        if (fetched.kind === "page") {
          called(200);
          return { kind: "value", value: pageEntry(fetched.page, request, freshness.ttlSeconds) };
        }
        if (!validators) throw new UpstreamError("bad-response", "GitHub answered 'not modified' to a request that had nothing to compare");
        called(304);
        return { kind: "not-modified" };
      } catch (error) {
        if (!(error instanceof UpstreamError && error.kind === "not-found")) throw error;
        called(404);
        return { kind: "value", value: notFoundEntry(request.username) };
      }
    };

  const page = (request: GistsRequest, mode: ResolveMode, forList: boolean, meter: Meter) =>
    policy.resolve(cacheKeyOf(request), pageLoader(request, forList, meter), mode);

  // An answer that went upstream costs a charged call when its own loads made one; a fresh or stale copy costs
  // none, whatever the refresh it started spends later.
  const counted = (resolution: Resolution<GistsEntry>, meter: Meter) => {
    answered[resolution.forward !== undefined && meter.charged > 0 ? "charged" : "free"]++;
    return resolution;
  };

  // Follows the pages one by one (each cached and revalidated on its own) until GitHub has no next page.
  const completeLoader =
    (username: string, useCache: boolean, client: string | undefined, meter: Meter): Loader<GistsEntry> =>
    async () => {
      const pages: GistsEntry[] = [];
      for (let number = 1; number <= cache.maxPages; number++) {
        const request = { username, page: number, perPage: 100, useCache, client };
        const resolved = await page(request, useCache ? "fresh" : "bypass", true, meter);
        if (resolved.error) throw resolved.error;
        const entry = resolved.slot.value;
        if (entry.negative) return { kind: "value", value: entry };
        pages.push(entry);
        if (!entry.hasNext) break;
      }
      const truncated = pages.at(-1)?.hasNext ?? false;
      return { kind: "value", value: completeEntry(username, pages, truncated, freshness.ttlSeconds) };
    };

  return {
    /** One page, from the cache (fresh or stale) or GitHub. Throws UpstreamError when nothing can answer. */
    async page(request: GistsRequest): Promise<Resolution<GistsEntry>> {
      const meter = { charged: 0 };
      return counted(await page(request, request.useCache ? "allow-stale" : "bypass", false, meter), meter);
    },
    /** Every public gist of a user (up to GISTS_MAX_PAGES pages of 100). */
    async complete(username: string, useCache: boolean, client?: string): Promise<Resolution<GistsEntry>> {
      const meter = { charged: 0 };
      const key = completeKeyOf(username);
      return counted(await policy.resolve(key, completeLoader(username, useCache, client, meter), useCache ? "allow-stale" : "bypass"), meter);
    },
    /** The fresh, non-negative entry under `key` at `at`, for the hit path, counted as a hit; undefined otherwise. */
    freshHit(key: string, at: number): Slot<GistsEntry> | undefined {
      const slot = policy.peekFresh(key, at);
      if (slot === undefined || slot.value.negative) return undefined;
      policy.countHit(slot);
      answered.free++;
      return slot;
    },
    /** Answers given (every resolution and hit-path hit, each answered once), by whether they cost a charged GitHub call. */
    answered: answered as Readonly<Record<Cost, number>>,
    /** Hit and miss counters, bounds and occupancy. */
    stats(): GistsCacheStats {
      const { hits, misses, staleServed, coalesced, revalidated } = policy.stats;
      const answered = hits + staleServed + misses;
      return {
        size: policy.size,
        hits,
        misses,
        hit_rate: answered === 0 ? 0 : Math.round(((hits + staleServed) / answered) * 10_000) / 10_000,
        ttl_seconds: freshness.ttlSeconds,
        stale_ttl_seconds: freshness.staleSeconds,
        bytes: policy.bytes,
        max_bytes: cache.maxBytes,
        max_entries: cache.maxEntries,
        evictions: policy.evictions,
        stale_served: staleServed,
        coalesced,
        revalidated,
        inflight: policy.inflight,
        shared: membership?.stats() ?? sharedTierOff,
      };
    },
    /** Accounts for bytes an entry gained after it was stored. */
    grow(slot: Slot<GistsEntry>, added: number): void {
      policy.grow(slot, added);
    },
    /**
     * Empties this replica's cache and the shared tier, which tells every other replica to empty its own
     * (counters keep counting). Answers whether the shared tier was cleared (undefined without one).
     */
    async clear(): Promise<boolean | undefined> {
      policy.clear();
      return membership?.fleet.clear();
    },
  };
}
