import type { Logger } from "../logger.ts";
import type { RequestRecorder } from "../metrics/plugin.ts";
import { noTracing, type RequestSpan, type Tracing } from "../tracing/tracing.ts";
import { accessLine, type AccessRecord } from "./access-log.ts";
import type { ClientRateLimiter } from "./client-rate-limit.ts";
import type { Cors } from "./cors.ts";
import { errorResponse } from "./errors.ts";
import type { Peers } from "../runtime.ts";
import { localOrigin, requestTarget, RoutedRequest, splitTarget, type RequestContext } from "./request-context.ts";
import type { PreparedAnswer, WayOut } from "./way-out.ts";

/**
 * The hit path: a fresh cache hit answered before routing, synchronously, for a request it recognises in full.
 * It names the route and the verdict in the context it answers; undefined lets the router answer.
 */
export interface HitPath {
  answer(context: RequestContext): Response | PreparedAnswer | undefined;
}

/** What the front door needs: the router, the hit path, what sees every request, and the way out. */
export interface FrontDoorDeps {
  route: (request: RoutedRequest) => Promise<Response>;
  hitPath: HitPath;
  cors: Cors;
  wayOut: WayOut;
  recorder: RequestRecorder;
  rateLimiter: ClientRateLimiter;
  /** Whether requests the router answers carry their client's address (GitHub's budget is shared out per client). */
  accountsClients?: boolean;
  /** Paths the per-client rate limit never applies to (probes and scrapes: a throttled kubelet restarts a healthy pod). */
  unlimitedPaths: ReadonlySet<string>;
  onRateLimited?: () => void;
  logger: Logger;
  /** Server spans for sampled requests; off by default. */
  tracing?: Tracing;
  /** Paths never traced (probes and scrapes: a span every few seconds that says nothing about a user's request). */
  untracedPaths?: ReadonlySet<string>;
}

/** The runtime-neutral `fetch` the server listens with (given the way to the client's address), plus requests in flight. */
export interface FrontDoor {
  fetch(request: Request, peers?: Peers): Response | Promise<Response>;
  readonly inFlight: number;
}

const validRequestId = /^[\w.:-]{1,128}$/;

/**
 * The request pipeline, top to bottom: request id, request target and Host check, per-client rate limit, the
 * hit path, CORS preflight and cross-origin refusal, the router; every answer then leaves through the way out
 * and is counted, traced and logged once. It knows no route: modules name theirs.
 */
export function createFrontDoor(deps: FrontDoorDeps): FrontDoor {
  const { route, hitPath, cors, wayOut, recorder, rateLimiter, unlimitedPaths, logger } = deps;
  const tracing = deps.tracing ?? noTracing;
  const untracedPaths = deps.untracedPaths ?? new Set<string>();
  const logRequest = logger.enabled("info") ? logger.formatted<AccessRecord>(accessLine) : undefined;
  let inFlight = 0;

  // Synchronous up to the router, so a hit costs no promise.
  function fetch(request: Request, peers?: Peers): Response | Promise<Response> {
    const started = performance.now();
    const headers = request.headers;
    const incomingId = headers.get("x-request-id");
    const id = incomingId !== null && validRequestId.test(incomingId) ? incomingId : crypto.randomUUID();
    const url = request.url;
    const target = requestTarget(url, headers.get("host"));
    const context: RequestContext = { id, method: request.method, headers, target: target ?? "(invalid host)", route: "unmatched" };
    // Only a sampled request gets a span: an unsampled hit costs one flag check (and a header look when parents count).
    const span = tracing.enabled ? _span(request, context) : undefined;
    if (target === undefined) {
      return finish(context, errorResponse(400, "The Host header must be one host name or address, with an optional port", id), started, span);
    }
    if (rateLimiter.enabled && !unlimitedPaths.has(splitTarget(target).path)) {
      const refused = _rateLimit(headers, peers?.requestIP(request)?.address, id);
      if (refused) {
        context.route = "rate-limited";
        return finish(context, refused, started, span);
      }
    }
    const hit = hitPath.answer(context);
    if (hit) return finish(context, hit, started, span);
    const preflight = cors.preflight(request);
    if (preflight) {
      context.route = "preflight";
      return finish(context, preflight, started, span);
    }
    const crossOrigin = cors.refuseCrossOrigin(request, id);
    if (crossOrigin) {
      context.route = "cross-origin";
      return finish(context, crossOrigin, started, span);
    }
    // Asked only on the way to the router: a hit never looks up where it came from.
    if (deps.accountsClients) context.client = rateLimiter.clientOf(peers?.requestIP(request)?.address, headers.get("x-forwarded-for"));
    return routed(_routedRequest(request, url, target, context), context, started, span);
  }

  async function routed(request: RoutedRequest, context: RequestContext, started: number, span: RequestSpan | undefined): Promise<Response> {
    inFlight++;
    let response: Response;
    try {
      response = await (span ? tracing.within(span, () => route(request)) : route(request));
      // Static answers (the Swagger pages) skip Elysia's hooks, so they never name their route.
      if (context.route === "unmatched" && response.status !== 404) context.route = "static";
    } catch {
      response = errorResponse(500, "Internal server error", context.id);
    } finally {
      inFlight--;
    }
    return finish(context, response, started, span);
  }

  // Every answer: the way out, then the metrics, the server span and one access-log line.
  function finish(context: RequestContext, answer: Response | PreparedAnswer, started: number, span?: RequestSpan): Response {
    const response = wayOut.send(answer, context.id, context.headers.get("origin"));
    const seconds = (performance.now() - started) / 1000;
    recorder.record(context.method, context.route, response.status, seconds, span?.traceId);
    span?.end({ route: context.route, status: response.status, requestId: context.id, cache: context.cache });
    if (logRequest) {
      const { id, route: routeName, cache, method, target } = context;
      logRequest({ id, route: routeName, cache, method, path: target, status: response.status, seconds, finishedAt: Date.now(), span });
    }
    return response;
  }

  function _span(request: Request, context: RequestContext): RequestSpan | undefined {
    const path = splitTarget(context.target).path;
    return untracedPaths.has(path) ? undefined : tracing.startRequest(context.headers, request.method, path);
  }

  function _rateLimit(headers: Headers, peer: string | undefined, id: string): Response | undefined {
    const decision = rateLimiter.take(rateLimiter.clientOf(peer, headers.get("x-forwarded-for")));
    if (decision.allowed) return undefined;
    deps.onRateLimited?.();
    return errorResponse(429, "Too many requests from this client; slow down and retry after the given seconds", id, {
      "retry-after": String(decision.resetSeconds),
      "ratelimit-limit": String(decision.limit),
      "ratelimit-remaining": String(decision.remaining),
      "ratelimit-reset": String(decision.resetSeconds),
    });
  }

  return {
    fetch,
    get inFlight() {
      return inFlight;
    },
  };
}

// Elysia reads the path from the first "/" at index 11 on: a path-only URL, a short Host ("api") or an
// absolute-form authority puts that elsewhere, so the router then gets a URL on a fixed origin with the same target.
function _routedRequest(request: Request, url: string, target: string, context: RequestContext): RoutedRequest {
  if (_routable(url, target)) return new RoutedRequest(request, undefined, context);
  const rebuilt = new RoutedRequest(localOrigin + target, { method: request.method, headers: request.headers }, context);
  context.target = rebuilt.url.slice(localOrigin.length);
  return rebuilt;
}

// True when the router, reading from the first "/" at index 11, finds exactly `target` in `url`.
function _routable(url: string, target: string): boolean {
  const start = url.length - target.length;
  return start >= 11 && url.indexOf("/", 11) === start && url.endsWith(target);
}
