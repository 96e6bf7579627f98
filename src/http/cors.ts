import { errorResponse } from "./errors.ts";

/** CORS for every answer: allowed origins from config, preflights answered before routing. */
export type Cors = ReturnType<typeof createCors>;

// Reading is all a web page may do: clearing the cache is an operator's action, whatever CORS_ORIGINS says.
const allowedMethods = "GET, HEAD, OPTIONS";
const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);
const exposedHeaders = "X-Request-Id, X-Cache, Cache-Status, Retry-After, ETag, Age";

/** Creates the CORS policy for `origins` (a list, or ["*"]). */
export function createCors(origins: string[]) {
  const any = origins.includes("*");
  const allowed = new Set(origins);
  const allowOrigin = (origin: string | null): string | undefined => {
    if (!origin) return undefined;
    if (any) return "*";
    return allowed.has(origin) ? origin : undefined;
  };

  return {
    /** The answer to a preflight request, or undefined when the request is not one. */
    preflight(request: Request): Response | undefined {
      if (request.method !== "OPTIONS" || !request.headers.has("access-control-request-method")) return undefined;
      const origin = allowOrigin(request.headers.get("origin"));
      const headers: Record<string, string> = { vary: "Origin" };
      if (origin) {
        headers["access-control-allow-origin"] = origin;
        headers["access-control-allow-methods"] = allowedMethods;
        headers["access-control-allow-headers"] = request.headers.get("access-control-request-headers") ?? "Authorization, Content-Type, X-Request-Id";
        headers["access-control-max-age"] = "600";
      }
      return new Response(null, { status: 204, headers });
    },
    /**
     * A 403 for a request that would change something (any method but GET, HEAD and OPTIONS) sent by a web page
     * of another origin, or undefined. Browsers preflight such requests and the preflight never grants them;
     * refusing the request itself also covers a browser or proxy that skips the preflight.
     */
    refuseCrossOrigin(request: Request, requestId: string): Response | undefined {
      if (safeMethods.has(request.method)) return undefined;
      const origin = request.headers.get("origin");
      if (origin === null || _sameOrigin(origin, request.headers.get("host"))) return undefined;
      const detail = `${request.method} is not allowed from a web page of another origin (${_shown(origin)}): send it without an Origin header, as curl does`;
      return errorResponse(403, detail, requestId);
    },
    /**
     * Whether an answer to `origin` (null: no Origin header) needs any CORS header: with a list of origins every
     * answer varies by Origin; with `*` only an answer to a request that sent one. Checked first, so the common
     * answer never reaches for its headers at all.
     */
    applies(origin: string | null): boolean {
      return origin !== null || !any;
    },
    /** Adds the CORS headers an answer to `origin` (null: no Origin header) needs. */
    decorate(origin: string | null, headers: Headers): void {
      // With a list, the answer depends on the Origin header, so a shared cache must key it by Origin too.
      if (!any) _varyOnOrigin(headers);
      const allow = allowOrigin(origin);
      if (!allow) return;
      headers.set("access-control-allow-origin", allow);
      headers.set("access-control-expose-headers", exposedHeaders);
    },
  };
}

function _varyOnOrigin(headers: Headers): void {
  const vary = headers.get("vary");
  if (vary === null) return headers.set("vary", "Origin");
  if (!vary.split(",").some((name) => name.trim().toLowerCase() === "origin")) headers.set("vary", `${vary}, Origin`);
}

// A browser's same-origin request carries the page's origin, whose host and port are the request's Host.
function _sameOrigin(origin: string, host: string | null): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

// The Origin as the message shows it: short, printable, never a whole header an attacker chose.
function _shown(origin: string): string {
  return JSON.stringify(origin.length > 100 ? `${origin.slice(0, 100)}...` : origin);
}
