import type { Logger } from "../logger.ts";
import type { RequestRecorder } from "../metrics/plugin.ts";
import type { GistsFastPath } from "../modules/gists/fast-path.ts";
import type { Cors } from "./cors.ts";
import { bindRequestContext, pathAndQuery, type RequestContext } from "./request-context.ts";

/** What the outer handler wraps: the routed app and the pieces that see every request. */
export interface HandlerDeps {
  handle: (request: Request) => Promise<Response>;
  fastPath: GistsFastPath;
  cors: Cors;
  recorder: RequestRecorder;
  logger: Logger;
}

/** The runtime-neutral `fetch` the server listens with, plus the count of requests in flight. */
export interface FetchHandler {
  fetch(request: Request): Promise<Response>;
  readonly inFlight: number;
}

const validRequestId = /^[\w.:-]{1,128}$/;

/**
 * Wraps the app with what every answer gets: a request id, CORS, metrics and one access-log line.
 * Repeat cache hits are answered here before routing, from bytes built when the page was stored.
 */
export function createFetchHandler(deps: HandlerDeps): FetchHandler {
  const { handle, fastPath, cors, recorder, logger } = deps;
  const logRequests = logger.enabled("info");
  let inFlight = 0;

  async function fetch(request: Request): Promise<Response> {
    const started = performance.now();
    inFlight++;
    const incomingId = request.headers.get("x-request-id");
    const id = incomingId !== null && validRequestId.test(incomingId) ? incomingId : crypto.randomUUID();
    const target = pathAndQuery(request.url);
    const context: RequestContext = { id, route: "unmatched" };
    let response: Response | undefined;
    try {
      if (request.method === "GET") {
        response = fastPath.answer(target, id);
        if (response) {
          context.route = "/:username";
          context.cache = "HIT";
        }
      }
      if (!response) {
        response = cors.preflight(request);
        if (response) context.route = "preflight";
      }
      if (!response) {
        bindRequestContext(request, context);
        response = await handle(request);
        response.headers.set("x-request-id", id);
        // Static answers (the Swagger pages) skip Elysia's hooks, so they never name their route.
        if (context.route === "unmatched" && response.status !== 404) context.route = "static";
      }
      const origin = request.headers.get("origin");
      if (origin !== null) cors.decorate(origin, response.headers);
      return response;
    } finally {
      inFlight--;
      const seconds = (performance.now() - started) / 1000;
      const status = response?.status ?? 500;
      recorder.record(request.method, context.route, status, seconds);
      if (logRequests) {
        logger.info("request", {
          request_id: id,
          method: request.method,
          path: target,
          route: context.route,
          status,
          duration_ms: Math.round(seconds * 100_000) / 100,
          cache: context.cache,
        });
      }
    }
  }

  return {
    fetch,
    get inFlight() {
      return inFlight;
    },
  };
}
