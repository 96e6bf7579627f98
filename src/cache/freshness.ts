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
 *
 * With budget awareness (CACHE_ADAPTIVE), the less of GitHub's window is left when an entry is stored, the longer
 * it stays fresh (up to CACHE_MAX_TTL), and the fewer stale entries are refreshed in the background:
 *
 *   budget left   fresh window   background refreshes
 *   50 % or more  CACHE_TTL      every stale page
 *   under 50 %    2 ×            every stale page
 *   under 20 %    4 ×            popular pages only (answered 3 times or more since stored)
 *   under 5 %     8 ×            none: stale pages answer until their stale window ends
 *
 * A floor a page brings (GitHub's `x-poll-interval`) makes its fresh window at least that long.
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

/** How the windows follow GitHub's budget (CACHE_ADAPTIVE); without it they are fixed. */
export interface BudgetAwareness {
  /** The share of GitHub's window left, 0 to 1; undefined while GitHub has not said. */
  budgetLeft(): number | undefined;
  /** The longest fresh window a stretch may give (CACHE_MAX_TTL). */
  maxTtlMs: number;
}

/** The freshness rule for one configuration. */
export type Freshness = ReturnType<typeof createFreshness>;

/** Answers since stored that make a page popular: its background refresh still runs when the budget is low. */
export const popularAnswers = 3;

// From the lowest budget up: below `under` of the window left, windows stretch by `stretch` and background
// refreshes run for `refreshes` pages.
const budgetSteps = [
  { under: 0.05, stretch: 8, refreshes: "none" },
  { under: 0.2, stretch: 4, refreshes: "popular" },
  { under: 0.5, stretch: 2, refreshes: "all" },
] as const;
const relaxed = { stretch: 1, refreshes: "all" } as const;

// A floor a page brings raises its fresh window to an hour at most (GitHub's primary window).
const maxFloorMs = 3_600_000;

// A failed background refresh is tried again after the TTL, but never sooner than a second or later than 30 s.
const refreshRetry = { minMs: 1_000, maxMs: 30_000 };

/** Creates the rule for `windows`, following GitHub's budget when `awareness` is given. */
export function createFreshness(windows: FreshnessWindows, awareness?: BudgetAwareness) {
  const { ttlMs, staleMs, negativeTtlMs } = windows;
  const refreshRetryMs = Math.min(refreshRetry.maxMs, Math.max(refreshRetry.minMs, ttlMs));

  const step = () => {
    const left = awareness?.budgetLeft();
    if (left === undefined) return relaxed;
    return budgetSteps.find((candidate) => left < candidate.under) ?? relaxed;
  };
  // A window stretched for the budget, never past CACHE_MAX_TTL (nor below what was configured), then raised to a floor.
  const stretched = (window: number, floorMs: number) => {
    const { stretch } = step();
    const longest = Math.max(window, awareness?.maxTtlMs ?? window);
    return Math.max(stretch === 1 ? window : Math.min(window * stretch, longest), Math.min(floorMs, maxFloorMs));
  };

  // The longest timeline this replica could give an entry stored at `storedAt`: what a copy read from elsewhere is held to.
  const ceiling = (storedAt: number, negative: boolean): Timeline | undefined => {
    if (ttlMs === 0 || (negative && negativeTtlMs === 0)) return undefined;
    const window = negative ? negativeTtlMs : ttlMs;
    const fresh = awareness ? Math.max(window, Math.min(window * budgetSteps[0].stretch, awareness.maxTtlMs)) : window;
    return { storedAt, freshUntil: storedAt + fresh, staleUntil: storedAt + fresh + (negative ? 0 : staleMs) };
  };

  const timeline = (storedAt: number, negative: boolean, floorMs = 0): Timeline | undefined => {
    if (ttlMs === 0) return undefined;
    if (negative) {
      if (negativeTtlMs === 0) return undefined;
      const fresh = stretched(negativeTtlMs, 0);
      return { storedAt, freshUntil: storedAt + fresh, staleUntil: storedAt + fresh };
    }
    const fresh = stretched(ttlMs, floorMs);
    return { storedAt, freshUntil: storedAt + fresh, staleUntil: storedAt + fresh + staleMs };
  };

  return {
    /** False when CACHE_TTL=0: nothing is stored or served from the cache. */
    caching: ttlMs > 0,
    /** CACHE_TTL in seconds, as answers and /cache/stats show it. */
    ttlSeconds: ttlMs / 1000,
    /** CACHE_STALE_TTL in seconds, as /cache/stats shows it. */
    staleSeconds: staleMs / 1000,
    /**
     * The timeline of a value stored at `storedAt` (fresh for at least `floorMs`, as GitHub's `x-poll-interval`
     * asks), or undefined when such a value is not stored at all.
     */
    timeline,
    /** Whether a stale entry answered `answers` times since stored is refreshed in the background now. */
    refreshesInBackground(answers: number): boolean {
      const { refreshes } = step();
      return refreshes === "all" || (refreshes === "popular" && answers >= popularAnswers);
    },
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
      const own = ceiling(Math.min(read.storedAt, at), negative);
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
