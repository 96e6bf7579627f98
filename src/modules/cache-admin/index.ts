import { timingSafeEqual } from "node:crypto";
import { Elysia, t } from "elysia";
import { adminHostRefusal, type AdminHosts } from "../../http/admin-hosts.ts";
import { ApiError } from "../../http/errors.ts";
import { cacheStats, errorBody } from "../gists/model.ts";
import type { GistsService } from "../gists/service.ts";

/** Dependencies of the cache admin routes. */
export interface CacheAdminDeps {
  gists: GistsService;
  adminToken: string | undefined;
  adminHosts: AdminHosts;
}

/** `GET /cache/stats` and `DELETE /cache` (guarded by ADMIN_HOSTS, and by ADMIN_TOKEN when it is set). */
export function cacheAdminModule({ gists, adminToken, adminHosts }: CacheAdminDeps) {
  return new Elysia({ name: "cache-admin" })
    .get("/cache/stats", () => gists.stats(), {
      response: cacheStats,
      detail: { summary: "Cache statistics", tags: ["cache"] },
    })
    .delete(
      "/cache",
      async ({ headers }) => {
        // Checked first and whatever the token: a DNS rebinding page sends its own name, which no operator uses.
        const wrongHost = adminHostRefusal(adminHosts, headers.host);
        if (wrongHost) throw new ApiError(403, wrongHost);
        if (adminToken && !bearerMatches(headers.authorization, adminToken)) {
          throw new ApiError(401, "DELETE /cache needs the header 'Authorization: Bearer <ADMIN_TOKEN>'", {
            "www-authenticate": "Bearer",
          });
        }
        const shared = await gists.clear();
        if (shared === undefined) return { message: "Cache cleared successfully" };
        if (shared) return { message: "Cache cleared successfully", shared: "cleared" as const };
        return { message: "Cache cleared on this replica; the shared tier could not be reached", shared: "unavailable" as const };
      },
      {
        response: {
          200: t.Object(
            {
              message: t.String(),
              shared: t.Optional(
                t.UnionEnum(["cleared", "unavailable"], {
                  description: "With REDIS_URL: whether the shared tier (and with it every replica) was cleared",
                }),
              ),
            },
            { description: "The cache is empty" },
          ),
          401: errorBody,
          403: errorBody,
        },
        detail: {
          summary: "Empty the cache",
          description:
            "Empties this replica's cache and, with REDIS_URL, the shared tier, which tells every replica to empty its own. " +
            "The Host header must be an IP address or a name in ADMIN_HOSTS (403 otherwise), so a web page cannot send it through DNS rebinding. " +
            "When ADMIN_TOKEN is set, requires `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time).",
          tags: ["cache"],
          security: [{ bearer: [] }],
        },
      },
    );
}

/** Compares a bearer header with the expected token in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  const given = new TextEncoder().encode(match?.[1]?.trim() ?? "");
  const expected = new TextEncoder().encode(token);
  // Pad so the comparison time does not reveal the token's length.
  const length = Math.max(given.length, expected.length);
  const a = new Uint8Array(length);
  const b = new Uint8Array(length);
  a.set(given);
  b.set(expected);
  return timingSafeEqual(a, b) && given.length === expected.length;
}
