import type { Freshness } from "../../cache/freshness.ts";
import type { Resolution } from "../../cache/policy.ts";
import type { GistsEntry } from "./entry.ts";

/**
 * The `Cache-Status` header (RFC 9211) of a gists answer: one list member, this cache, with parameters saying
 * how it handled the request. `X-Cache` says the same in one word; this one also says what GitHub answered and
 * how much freshness is left, in a form any client or proxy can parse (a Structured Field list, RFC 8941).
 *
 *   HIT            gists-api; hit; ttl=300; key="octocat:1:30"
 *   STALE          gists-api; hit; ttl=-412; key="octocat:1:30"; detail="stale-while-revalidate"   (or "stale-if-error")
 *   MISS           gists-api; fwd=uri-miss; fwd-status=200; stored; ttl=300; key="octocat:1:30"   (nothing held)
 *                  gists-api; fwd=stale; fwd-status=200; stored; ttl=300; key=...                  (an expired copy held)
 *   REVALIDATED    gists-api; fwd=stale; fwd-status=304; stored; ttl=300; key=...
 *   BYPASS         gists-api; fwd=request; fwd-status=200; stored; ttl=300; key=...
 *   a waiter       ...; collapsed                                                                 (shared another's fetch)
 */
export const cacheName = "gists-api";

/** The Cache-Status value of the answer to `resolution` at `now`; `ttl` is what freshness.ts says, as max-age and Age are. */
export function cacheStatusOf(resolution: Resolution<GistsEntry>, freshness: Freshness, now: number): string {
  const { slot, verdict, forward } = resolution;
  let value = cacheName;
  if (forward === undefined) {
    // §2.1: answered from a stored copy without going forward, fresh or stale; a failure it hid is only a detail.
    value += "; hit";
  } else {
    // §2.2: why it went forward. A held copy it went past was stale (or refused by the request itself).
    value += `; fwd=${verdict === "BYPASS" ? "request" : forward.held ? "stale" : "uri-miss"}`;
    // §2.3: given even when it equals the answer's status, so a 304 to the client still shows GitHub's 200.
    if (forward.status !== undefined) value += `; fwd-status=${forward.status}`;
    if (forward.stored) value += "; stored";
    if (forward.collapsed) value += "; collapsed";
  }
  // §2.4: the freshness left of what answers; a copy not stored (CACHE_TTL=0) has none to speak of.
  if (forward === undefined || forward.stored) value += `; ttl=${freshness.freshnessLeftSeconds(slot, now)}`;
  value += `; key=${_sfString(slot.key)}`;
  if (verdict === "STALE") value += `; detail=${_sfString(resolution.error === undefined ? "stale-while-revalidate" : "stale-if-error")}`;
  return value;
}

// An sf-string (RFC 8941 §4.1.6): printable ASCII in quotes, with `"` and `\` escaped. Cache keys are made of a
// validated login and numbers, so nothing else can occur; anything else is dropped rather than sent unparseable.
function _sfString(text: string): string {
  return `"${text.replace(/[^\x20-\x7e]/g, "").replace(/[\\"]/g, "\\$&")}"`;
}
