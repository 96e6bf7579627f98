/** How the cache took part in an answer, as sent in `X-Cache`. */
export type CacheVerdict = "HIT" | "MISS" | "BYPASS";

/** A `GET /{username}` answer from ready bytes: no encoding on this path. */
export function gistsAnswer(body: Uint8Array<ArrayBuffer>, verdict: CacheVerdict, requestId: string): Response {
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "application/json",
      "x-cache": verdict,
      "x-request-id": requestId,
    },
  });
}
