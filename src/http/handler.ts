import type { Logger } from "../logger.ts";
import type { RequestRecorder } from "../metrics/plugin.ts";
import type { GistsFastPath } from "../modules/gists/fast-path.ts";
import type { Cors } from "./cors.ts";
import type { ClientRateLimiter } from "./client-rate-limit.ts";
import { accessLine, type AccessRecord } from "./access-log.ts";
import { errorBody } from "./errors.ts";
import { secure, securityHeaders } from "./security.ts";
import { bindRequestContext, localOrigin, requestTarget, type RequestContext } from "./request-context.ts";

/** What the outer handler wraps: the routed app and the pieces that see every request. */
export interface HandlerDeps {
  handle: (request: Request) => Promise<Response>;
  fastPath: GistsFastPath;
  cors: Cors;
  recorder: RequestRecorder;
  rateLimiter: ClientRateLimiter;
  onRateLimited?: () => void;
  logger: Logger;
  /** True once shutdown has begun. */
  draining: () => boolean;
}

// Probes and scrapes are never rate limited: a throttled kubelet would restart a healthy pod.
const unlimitedPaths = new Set(["/healthz", "/readyz", "/health", "/metrics"]);

/** The runtime-neutral `fetch` the server listens with (given the peer address when it needs one), plus requests in flight. */
export interface FetchHandler {
  fetch(request: Request, peer?: string): Response | Promise<Response>;
  readonly inFlight: number;
}

const validRequestId = /^[\w.:-]{1,128}$/;

/**
 * Wraps the app with what every answer gets: a request id, CORS, metrics and one access-log line.
 * Repeat cache hits are answered here before routing, from bytes built when the page was stored.
 */
export function createFetchHandler(deps: HandlerDeps): FetchHandler {
  const { handle, fastPath, cors, recorder, rateLimiter, logger } = deps;
  const logRequest = logger.enabled("info") ? logger.formatted<AccessRecord>(accessLine) : undefined;
  const recordHit = recorder.bind("GET", "/:username", 200);
  let inFlight = 0;

  const finish = (request: Request, response: Response, context: RequestContext, target: string, started: number) => {
    // While draining, every answer closes its connection, so no client is left holding an idle keep-alive
    // socket that the shutdown would cut under its next request.
    if (deps.draining()) response.headers.set("connection", "close");
    cors.decorate(request.headers.get("origin"), response.headers);
    const seconds = (performance.now() - started) / 1000;
    if (context.route === "/:username" && context.cache === "HIT" && response.status === 200) recordHit(seconds);
    else recorder.record(request.method, context.route, response.status, seconds);
    if (logRequest) {
      const { id, route, cache } = context;
      logRequest({ id, route, cache, method: request.method, path: target, status: response.status, seconds, finishedAt: Date.now() });
    }
    return response;
  };

  async function routed(request: Request, context: RequestContext, target: string, started: number): Promise<Response> {
    inFlight++;
    let response: Response;
    try {
      bindRequestContext(request, context);
      response = await handle(request);
      response.headers.set("x-request-id", context.id);
      secure(response.headers);
      // Static answers (the Swagger pages) skip Elysia's hooks, so they never name their route.
      if (context.route === "unmatched" && response.status !== 404) context.route = "static";
    } catch {
      response = new Response(errorBody("Internal server error", context.id), {
        status: 500,
        headers: { "content-type": "application/json", "x-request-id": context.id },
      });
    } finally {
      inFlight--;
    }
    return finish(request, response, context, target, started);
  }

  // Synchronous for a hit, so the common answer costs no promise.
  function fetch(request: Request, peer?: string): Response | Promise<Response> {
    const started = performance.now();
    const headers = request.headers;
    const incomingId = headers.get("x-request-id");
    const id = incomingId !== null && validRequestId.test(incomingId) ? incomingId : crypto.randomUUID();
    const url = request.url;
    // A repeat hit is known by its whole URL, which only a request that passed the Host check and the route's
    // validation can have put in the fast path: nothing else about the request needs reading.
    const known = request.method === "GET" ? fastPath.find(url) : undefined;
    if (known !== undefined) {
      const refused = rateLimiter.enabled ? _rateLimit(request, peer, known.target, id) : undefined;
      if (refused) return finish(request, refused, { id, route: "rate-limited" }, known.target, started);
      const hit = fastPath.answer(known, headers, id);
      if (hit) return finish(request, hit, { id, route: "/:username", cache: "HIT" }, known.target, started);
    }
    const context: RequestContext = { id, route: "unmatched", url };
    let target = requestTarget(url, headers.get("host"));
    if (target === undefined) return finish(request, _badHost(id), context, "(invalid host)", started);
    // Elysia reads the path from the first "/" at index 11 on: a path-only URL, a short Host ("api") or an
    // absolute-form authority puts that elsewhere, so give the router a URL on a fixed origin with the same target.
    if (!_routable(url, target)) {
      request = new Request(localOrigin + target, { method: request.method, headers });
      target = request.url.slice(localOrigin.length);
    }
    context.target = target;
    if (rateLimiter.enabled && known === undefined) {
      const refused = _rateLimit(request, peer, target, id);
      if (refused) {
        context.route = "rate-limited";
        return finish(request, refused, context, target, started);
      }
    }
    const preflight = cors.preflight(request);
    if (preflight) {
      context.route = "preflight";
      preflight.headers.set("x-request-id", id);
      secure(preflight.headers);
      return finish(request, preflight, context, target, started);
    }
    const crossOrigin = cors.refuseCrossOrigin(request, id);
    if (crossOrigin) {
      context.route = "cross-origin";
      secure(crossOrigin.headers);
      return finish(request, crossOrigin, context, target, started);
    }
    return routed(request, context, target, started);
  }

  function _badHost(id: string): Response {
    return new Response(errorBody("The Host header must be one host name or address, with an optional port", id), {
      status: 400,
      headers: { "content-type": "application/json", "x-request-id": id, ...securityHeaders },
    });
  }

  function _rateLimit(request: Request, peer: string | undefined, target: string, id: string): Response | undefined {
    const path = target.split("?", 1)[0]!;
    if (unlimitedPaths.has(path)) return undefined;
    const decision = rateLimiter.take(rateLimiter.clientOf(peer, request.headers.get("x-forwarded-for")));
    if (decision.allowed) return undefined;
    deps.onRateLimited?.();
    return new Response(errorBody("Too many requests from this client; slow down and retry after the given seconds", id), {
      status: 429,
      headers: {
        "content-type": "application/json",
        "x-request-id": id,
        "retry-after": String(decision.resetSeconds),
        "ratelimit-limit": String(decision.limit),
        "ratelimit-remaining": String(decision.remaining),
        "ratelimit-reset": String(decision.resetSeconds),
        ...securityHeaders,
      },
    });
  }

  return {
    fetch,
    get inFlight() {
      return inFlight;
    },
  };
}

// True when the router, reading from the first "/" at index 11, finds exactly `target` in `url`.
function _routable(url: string, target: string): boolean {
  const start = url.length - target.length;
  return start >= 11 && url.indexOf("/", 11) === start && url.endsWith(target);
}
