import { timingSafeEqual } from "node:crypto";
import { Elysia, t } from "elysia";
import { ApiError } from "../../http/errors.ts";
import { errorBody } from "../gists/model.ts";
import type { GistsFastPath } from "../gists/fast-path.ts";
import type { GistsService } from "../gists/service.ts";

/** Dependencies of the cache admin routes. */
export interface CacheAdminDeps {
  gists: GistsService;
  fastPath: GistsFastPath;
  adminToken: string | undefined;
}

const statsBody = t.Object(
  {
  size: t.Integer({ description: "Entries held (pages, complete lists, 404s)" }),
  hits: t.Integer({ description: "Answers from a fresh copy" }),
  misses: t.Integer({ description: "Answers that had to ask GitHub" }),
  hit_rate: t.Number({ description: "(hits + stale_served) / all cacheable answers, 0..1" }),
  ttl_seconds: t.Integer(),
  stale_ttl_seconds: t.Integer(),
  bytes: t.Integer({ description: "Bytes of stored answers" }),
  max_bytes: t.Integer(),
  max_entries: t.Integer(),
  evictions: t.Integer(),
  stale_served: t.Integer({ description: "Answers from a stale copy" }),
  coalesced: t.Integer({ description: "Requests that joined an upstream request already in flight" }),
  revalidated: t.Integer({ description: "Entries renewed by a 304 from GitHub" }),
  inflight: t.Integer({ description: "Upstream loads in flight" }),
  },
  { description: "Counters, bounds and occupancy of the cache" },
);

/** `GET /cache/stats` and `DELETE /cache` (guarded by ADMIN_TOKEN when it is set). */
export function cacheAdminModule({ gists, fastPath, adminToken }: CacheAdminDeps) {
  return new Elysia({ name: "cache-admin" })
    .get("/cache/stats", () => gists.stats(), {
      response: statsBody,
      detail: { summary: "Cache statistics", tags: ["cache"] },
    })
    .delete(
      "/cache",
      ({ headers }) => {
        if (adminToken && !bearerMatches(headers.authorization, adminToken)) {
          throw new ApiError(401, "DELETE /cache needs the header 'Authorization: Bearer <ADMIN_TOKEN>'", {
            "www-authenticate": "Bearer",
          });
        }
        gists.clear();
        fastPath.clear();
        return { message: "Cache cleared successfully" };
      },
      {
        response: { 200: t.Object({ message: t.String() }, { description: "The cache is empty" }), 401: errorBody },
        detail: {
          summary: "Empty the cache",
          description: "When ADMIN_TOKEN is set, requires `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time).",
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
