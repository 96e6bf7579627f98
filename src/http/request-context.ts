/** What the front door knows about a request, passed to every stage that answers it and read by the access log. */
export interface RequestContext {
  readonly id: string;
  readonly method: string;
  readonly headers: Headers;
  /** The path and query as the router sees them (what the access log shows). */
  target: string;
  /** The route template that answered (a metric label), or what stood in for one ("unmatched", "static"...). */
  route: string;
  /** The cache verdict, when the gists route answered. */
  cache?: string;
  /** The client's address, for requests the router answers when GitHub's budget is shared out per client. */
  client?: string;
}

/** A request on its way to the router, carrying its context: how routes read what the front door knows. */
export class RoutedRequest extends Request {
  constructor(
    input: Request | string,
    init: RequestInit | undefined,
    readonly context: RequestContext,
  ) {
    super(input, init);
  }
}

/** The context of a request the front door routed; undefined for one built elsewhere (tests calling the app). */
export function contextOf(request: Request): RequestContext | undefined {
  return request instanceof RoutedRequest ? request.context : undefined;
}

/** Splits a target into its path and its query (without "?"). */
export function splitTarget(target: string): { path: string; query: string } {
  const question = target.indexOf("?");
  return question === -1 ? { path: target, query: "" } : { path: target.slice(0, question), query: target.slice(question + 1) };
}

/** The path and query of a request URL, without scheme and host (a path-only URL is already that). */
export function pathAndQuery(url: string): string {
  return _afterAuthority(url.charCodeAt(0) === slash ? 0 : url.indexOf("//") + 2, url);
}

// A Host header the service accepts: a DNS name or IPv4 address, or a bracketed IPv6 address, and a port.
const validHost = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

const slash = 47;
const question = 63;
const hash = 35;
/** The origin of the URLs the outer handler gives the router when a request's own URL cannot be routed as it is. */
export const localOrigin = "http://localhost";

/**
 * The path and query a request asks for, whatever form its request line took: origin-form with a Host header
 * (the URL's authority is that Host), origin-form without one (Bun gives the path alone), or absolute-form
 * (Deno keeps the request line's authority, Bun rebuilds it from Host). Undefined when a Host header is present
 * and not one host: a Host holding "/", "?" or a second value could otherwise move the boundary.
 */
export function requestTarget(url: string, host: string | null): string | undefined {
  // An empty Host is what a request to a URI without an authority sends (RFC 9112, section 3.2): no Host.
  if (host && !validHost.test(host)) return undefined;
  // Bun leaves a path-only URL as sent, while it normalizes one it built from Host: read both the same way.
  if (url.charCodeAt(0) === slash) return new URL(localOrigin + url).href.slice(localOrigin.length);
  const scheme = url.indexOf("://");
  return _afterAuthority(scheme === -1 ? 0 : scheme + 3, url);
}

// The authority ends at the first "/", "?" or "#" (RFC 3986, section 3.2); a target always starts with "/".
function _afterAuthority(from: number, url: string): string {
  let at = from;
  while (at < url.length) {
    const code = url.charCodeAt(at);
    if (code === slash || code === question || code === hash) break;
    at++;
  }
  if (at === url.length) return "/";
  return url.charCodeAt(at) === slash ? url.slice(at) : `/${url.slice(at)}`;
}
