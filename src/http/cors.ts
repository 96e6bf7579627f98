/** CORS for every answer: allowed origins from config, preflights answered before routing. */
export type Cors = ReturnType<typeof createCors>;

const allowedMethods = "GET, HEAD, DELETE, OPTIONS";
const exposedHeaders = "X-Request-Id, X-Cache, Retry-After, ETag, Age";

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
        headers["access-control-allow-headers"] =
          request.headers.get("access-control-request-headers") ?? "Authorization, Content-Type, X-Request-Id";
        headers["access-control-max-age"] = "600";
      }
      return new Response(null, { status: 204, headers });
    },
    /** Adds the CORS headers an answer to `origin` needs. */
    decorate(origin: string | null, headers: Headers): void {
      const allow = allowOrigin(origin);
      if (!allow) return;
      headers.set("access-control-allow-origin", allow);
      headers.set("access-control-expose-headers", exposedHeaders);
      if (!any) headers.append("vary", "Origin");
    },
  };
}
