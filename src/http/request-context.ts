/** What the outer handler knows about a request, shared with the Elysia app for labels and error bodies. */
export interface RequestContext {
  id: string;
  /** The route template that answered (a metric label), or "unmatched". */
  route: string;
  /** The cache verdict to log, when the gists route answered. */
  cache?: string;
  /** The request URL as the outer handler read it: what the fast path is keyed by. */
  url?: string;
  /** The request's path and query as the outer handler read them (what the access log shows). */
  target?: string;
}

const contexts = new WeakMap<Request, RequestContext>();

/** Attaches a context to a request for the duration of its handling. */
export function bindRequestContext(request: Request, context: RequestContext): void {
  contexts.set(request, context);
}

/** The context of a request, if the outer handler bound one (tests calling app.handle directly may not). */
export function requestContextOf(request: Request): RequestContext | undefined {
  return contexts.get(request);
}

/** The path and query of a request URL, without scheme and host. */
export function pathAndQuery(url: string): string {
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  return slash === -1 ? "/" : url.slice(slash);
}

// A Host header the service accepts: a DNS name or IPv4 address, or a bracketed IPv6 address, and a port.
const validHost = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Where a request's path and query start in its URL, read with the Host header the URL was built from, so a
 * Host holding "/", "?" or a second value cannot move the boundary. -1 when the Host header is not one.
 */
export function targetStart(url: string, host: string | null): number {
  const authority = url.indexOf("//") + 2;
  if (host === null) {
    // No Host header: the runtime wrote the authority itself.
    const slash = url.indexOf("/", authority);
    return slash === -1 ? url.length : slash;
  }
  if (!validHost.test(host) || !url.startsWith(host, authority)) return -1;
  return authority + host.length;
}
