/**
 * GitHub documents a secondary limit of 900 points a minute for REST endpoints, a GET costing 1 point
 * ("Rate limits for the REST API", "About secondary rate limits"): the figure this replica's pace is a share of.
 */
export const githubRestPointsPerMinute = 900;

/** The share of GitHub's figure one replica spends by default, leaving room for other clients of the token. */
export const defaultPaceShare = 0.8;

/** UPSTREAM_MAX_PER_MINUTE's default: 720 requests a minute. */
export const defaultMaxPerMinute = Math.floor(githubRestPointsPerMinute * defaultPaceShare);

/** The sliding minute the pace counts over. */
export const paceWindowMs = 60_000;

/** A local estimate of GitHub's per-minute secondary limit: requests this replica sent in the last minute. */
export type RequestPace = ReturnType<typeof createRequestPace>;

/**
 * Counts the upstream requests sent in the last minute and says how long the next one must wait to stay at
 * most `maxPerMinute` (0: never waits). `now` is injectable for tests.
 */
export function createRequestPace(maxPerMinute: number, now: () => number = Date.now) {
  // Send times, oldest first, in a ring of `maxPerMinute` slots: at most that many can be inside the window.
  const sentAt: number[] = new Array(Math.max(1, maxPerMinute)).fill(0);
  let oldest = 0;
  let count = 0;

  const prune = (nowMs: number) => {
    while (count > 0 && sentAt[oldest]! <= nowMs - paceWindowMs) {
      oldest = (oldest + 1) % sentAt.length;
      count--;
    }
  };

  return {
    /** Milliseconds until one more request may be sent: 0 when it may be sent now. */
    delayMs(): number {
      if (maxPerMinute === 0) return 0;
      const nowMs = now();
      prune(nowMs);
      return count < maxPerMinute ? 0 : sentAt[oldest]! + paceWindowMs - nowMs;
    },
    /** Records a request sent now; call only after `delayMs()` said 0. */
    sent(): void {
      if (maxPerMinute === 0) return;
      const nowMs = now();
      prune(nowMs);
      if (count === sentAt.length) {
        // Over the bound (a caller that did not ask): the oldest send makes room.
        oldest = (oldest + 1) % sentAt.length;
        count--;
      }
      sentAt[(oldest + count) % sentAt.length] = nowMs;
      count++;
    },
    /** Requests sent in the last minute. */
    get lastMinute(): number {
      prune(now());
      return count;
    },
    /** The most requests a minute (0: no local pace). */
    get limit(): number {
      return maxPerMinute;
    },
  };
}
