/**
 * The one freshness rule. Every question about how long a stored answer lives (is it fresh, may it answer
 * stale, how many seconds are left, how old is it, how long the shared tier keeps it, when a failed refresh
 * may run again) is answered here, from the three windows of the configuration and nothing else.
 *
 *   storedAt ──── CACHE_TTL ────> freshUntil ──── CACHE_STALE_TTL ────> staleUntil
 *   (a 404: storedAt ── CACHE_NEGATIVE_TTL ──> freshUntil = staleUntil; never served stale)
 *
 * CACHE_TTL=0 turns the cache off: nothing is stored, so nothing is served from it, fresh or stale (the stale
 * window then has nothing to apply to); requests for one page that arrive together still share one fetch.
 */

/** The windows an entry lives by, in milliseconds (CACHE_TTL, CACHE_STALE_TTL, CACHE_NEGATIVE_TTL). */
export interface FreshnessWindows {
  ttlMs: number;
  staleMs: number;
  negativeTtlMs: number;
}

/** When an entry was stored, until when it is fresh, and until when it may answer stale. */
export interface Timeline {
  readonly storedAt: number;
  readonly freshUntil: number;
  readonly staleUntil: number;
}

/** The freshness rule for one configuration. */
export type Freshness = ReturnType<typeof createFreshness>;

// A failed background refresh is tried again after the TTL, but never sooner than a second or later than 30 s.
const refreshRetry = { minMs: 1_000, maxMs: 30_000 };

/** Creates the rule for `windows`. */
export function createFreshness(windows: FreshnessWindows) {
  const { ttlMs, staleMs, negativeTtlMs } = windows;
  const refreshRetryMs = Math.min(refreshRetry.maxMs, Math.max(refreshRetry.minMs, ttlMs));

  const timeline = (storedAt: number, negative: boolean): Timeline | undefined => {
    if (ttlMs === 0) return undefined;
    if (negative) return negativeTtlMs > 0 ? { storedAt, freshUntil: storedAt + negativeTtlMs, staleUntil: storedAt + negativeTtlMs } : undefined;
    return { storedAt, freshUntil: storedAt + ttlMs, staleUntil: storedAt + ttlMs + staleMs };
  };

  return {
    /** False when CACHE_TTL=0: nothing is stored or served from the cache. */
    caching: ttlMs > 0,
    /** CACHE_TTL in seconds, as answers and /cache/stats show it. */
    ttlSeconds: ttlMs / 1000,
    /** CACHE_STALE_TTL in seconds, as /cache/stats shows it. */
    staleSeconds: staleMs / 1000,
    /** The timeline of a value stored at `storedAt`, or undefined when such a value is not stored at all. */
    timeline,
    /** The timeline of an answer that is not stored: never fresh for a client, never stale. */
    unstored(at: number): Timeline {
      return { storedAt: at, freshUntil: at, staleUntil: at };
    },
    /**
     * A timeline read from elsewhere (another replica, through Redis) as this replica may use it: never stored
     * later than now, and no longer fresh or servable than this replica's own windows allow from its stored
     * time. Undefined when it is out of order or this replica would not store such a value.
     */
    bounded(read: Timeline, negative: boolean, at: number): Timeline | undefined {
      if (!(read.storedAt <= read.freshUntil && read.freshUntil <= read.staleUntil)) return undefined;
      const own = timeline(Math.min(read.storedAt, at), negative);
      if (own === undefined) return undefined;
      return { storedAt: own.storedAt, freshUntil: Math.min(read.freshUntil, own.freshUntil), staleUntil: Math.min(read.staleUntil, own.staleUntil) };
    },
    /** Whether the entry answers as a fresh hit at `at`. */
    isFresh(entry: Timeline, at: number): boolean {
      return at < entry.freshUntil;
    },
    /** Whether a copy that is no longer fresh may answer at once while it refreshes (stale-while-revalidate). */
    servesStale(entry: Timeline, at: number): boolean {
      return at < entry.staleUntil;
    },
    /**
     * Whether a held copy may answer in place of a failed fetch (stale-if-error): a page, of any age, while
     * this replica still holds it. A 404 never stands in.
     */
    standsInForError(negative: boolean): boolean {
      return !negative;
    },
    /** The seconds a client may reuse the answer (Cache-Control max-age): what is left of the fresh window, rounded up. */
    maxAgeSeconds(entry: Timeline, at: number): number {
      return Math.max(0, Math.ceil((entry.freshUntil - at) / 1000));
    },
    /**
     * Seconds of freshness left (Cache-Status `ttl`), rounded up as max-age is: max-age while fresh, 0 or less once
     * stale. It is the freshness lifetime minus the age (RFC 9111 §4.2), so with a whole-second CACHE_TTL a stale
     * answer's `ttl` is CACHE_TTL minus its Age header.
     */
    freshnessLeftSeconds(entry: Timeline, at: number): number {
      return Math.ceil((entry.freshUntil - at) / 1000) || 0;
    },
    /** Whole seconds since the entry was stored (the Age header and a stale body's age_seconds). */
    ageSeconds(entry: Timeline, at: number): number {
      return Math.max(0, Math.floor((at - entry.storedAt) / 1000));
    },
    /** How long the shared tier keeps the entry: until its stale window ends. 0 or less: not worth storing. */
    expiryMs(entry: Timeline, at: number): number {
      return Math.floor(entry.staleUntil - at);
    },
    /** When a background refresh may start again after one failed at `at`. */
    nextRefreshAfterFailure(at: number): number {
      return at + refreshRetryMs;
    },
  };
}

/** What every tier holds: a value with its timeline. */
export interface StoredCopy<V> extends Timeline {
  readonly value: V;
}
