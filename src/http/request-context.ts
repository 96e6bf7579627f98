/** What the outer handler knows about a request, shared with the Elysia app for labels and error bodies. */
export interface RequestContext {
  id: string;
  /** The route template that answered (a metric label), or "unmatched". */
  route: string;
  /** The cache verdict to log, when the gists route answered. */
  cache?: string;
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
