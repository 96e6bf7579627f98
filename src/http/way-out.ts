import type { Cors } from "./cors.ts";
import { securityHeaders } from "./security.ts";

/**
 * An answer built once and sent many times (a cache hit's, for the rest of its second): the way out writes
 * the headers every answer carries into it once, then sends a copy per request with that request's id. A copy
 * shares the body and copies the headers, which costs less than building a Response from its parts.
 */
export class PreparedAnswer {
  /** Whether the headers every answer carries are already in the template. */
  stamped = false;

  constructor(readonly template: Response) {}
}

/** What the way out needs: the CORS policy and whether the process is shutting down. */
export interface WayOutDeps {
  cors: Cors;
  /** True once shutdown has begun. */
  draining: () => boolean;
}

/** The one place every answer leaves through. */
export type WayOut = ReturnType<typeof createWayOut>;

/**
 * Creates the way out: every answer (a hit, a miss, an error, a preflight, a static page) gets here the
 * request id, the security headers, CORS for the request's Origin and, while draining, `Connection: close`;
 * nothing else sets them.
 */
export function createWayOut({ cors, draining }: WayOutDeps) {
  return {
    /** The answer to send for a request with `requestId` and `origin`, with the headers every answer carries. */
    send(answer: Response | PreparedAnswer, requestId: string, origin: string | null): Response {
      let response: Response;
      if (answer instanceof PreparedAnswer) {
        // The template's headers are the copy's: its own id goes in just before the copy, the constant ones once.
        const headers = answer.template.headers;
        if (!answer.stamped) {
          _stamp(headers);
          answer.stamped = true;
        }
        headers.set("x-request-id", requestId);
        response = answer.template.clone();
      } else {
        response = answer;
        _stamp(response.headers);
        response.headers.set("x-request-id", requestId);
      }
      // While draining, every answer closes its connection, so no client is left holding an idle keep-alive
      // socket that the shutdown would cut under its next request.
      if (draining()) response.headers.set("connection", "close");
      // A copy's headers are reached for only when something must be added to them.
      if (cors.applies(origin)) cors.decorate(origin, response.headers);
      return response;
    },
  };
}

function _stamp(headers: Headers): void {
  for (const name in securityHeaders) headers.set(name, securityHeaders[name as keyof typeof securityHeaders]);
}
