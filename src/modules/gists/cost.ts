import type { GithubCallReason } from "../../metrics/catalog.ts";

/** What GitHub answered a call that got an answer: a page, "not modified", or no such user. */
export type UpstreamStatus = 200 | 304 | 404;

/** One GitHub call as the loader that made it knows it. */
export interface GithubCall {
  /** The client asked `use_cache=false`. */
  bypass: boolean;
  /** The page was fetched for a complete list (`all=true`). */
  forList: boolean;
  /** A copy of the page was held (expired, or a 404 past its window). */
  held: boolean;
  status: UpstreamStatus;
}

/** Why a page was fetched: the client's bypass first, then a complete list, then what the cache held. */
export function callReason(call: GithubCall): GithubCallReason {
  if (call.bypass) return "bypass";
  if (call.forList) return "complete_list";
  if (!call.held) return "cold_miss";
  return call.status === 304 ? "refresh_not_modified" : "refresh_changed";
}

/**
 * Whether GitHub charges a call that answered `status` to the primary rate limit: a 304 to an authenticated
 * conditional request is free (GitHub's rule for conditional requests); a 304 without a token, a 200 and a 404
 * each cost one.
 */
export function isCharged(status: UpstreamStatus, authenticated: boolean): boolean {
  return !(status === 304 && authenticated);
}
