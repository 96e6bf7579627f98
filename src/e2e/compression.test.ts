import { expect, test } from "bun:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { describeTargets, freshLogin, rawGet, useStack, type RawReply } from "./stack.ts";

const decoders: Record<string, (body: Buffer) => Buffer> = { gzip: gunzipSync, br: brotliDecompressSync };

/** The body of a raw answer decoded as its Content-Encoding says, parsed as JSON. */
function decodedJson(reply: RawReply): any {
  const encoding = reply.headers["content-encoding"];
  const decode = encoding === undefined ? (body: Buffer) => body : decoders[encoding];
  if (!decode) throw new Error(`unexpected content-encoding ${encoding}`);
  return JSON.parse(decode(reply.body).toString("utf8"));
}

/** Whether a raw answer's Vary names Accept-Encoding. */
function variesOnEncoding(reply: RawReply): boolean {
  const vary = reply.headers.vary ?? "";
  return vary.split(",").some((name) => name.trim().toLowerCase() === "accept-encoding");
}

describeTargets("compression", (target) => {
  const s = useStack(target);

  // 30 gists shape to about 21 KB of JSON, well over the ~1 KB threshold.
  test("gzip and br answers decode to the identity answer's JSON, on a miss and on hits", async () => {
    const login = freshLogin("zip");
    s.fake.setUser(login, 30);
    const url = `${s.service.url}/${login}`;
    const gzip = await rawGet(url, { "accept-encoding": "gzip" });
    const br = await rawGet(url, { "accept-encoding": "br" });
    const identity = await rawGet(url);
    expect([gzip.status, br.status, identity.status]).toEqual([200, 200, 200]);
    expect([gzip.headers["content-encoding"], br.headers["content-encoding"], identity.headers["content-encoding"]]).toEqual(["gzip", "br", undefined]);
    expect([variesOnEncoding(gzip), variesOnEncoding(br), variesOnEncoding(identity)]).toEqual([true, true, true]);
    const plain = decodedJson(identity);
    expect(plain.data).toHaveLength(30);
    for (const reply of [gzip, br]) {
      const decoded = decodedJson(reply);
      expect({ data: decoded.data, pagination: decoded.pagination }).toEqual({ data: plain.data, pagination: plain.pagination });
      expect(reply.body.length).toBeLessThan(identity.body.length);
    }
    expect([gzip.headers["x-cache"], br.headers["x-cache"], identity.headers["x-cache"]]).toEqual(["MISS", "HIT", "HIT"]);
    expect(s.fake.requestCount(login)).toBe(1);
  });

  test("Accept-Encoding: identity is answered uncompressed, and a compressed hit still decodes", async () => {
    const login = freshLogin("ident");
    s.fake.setUser(login, 30);
    const url = `${s.service.url}/${login}?per_page=30`;
    const identity = await rawGet(url, { "accept-encoding": "identity" });
    expect(identity.headers["content-encoding"]).toBeUndefined();
    const gzip = await rawGet(url, { "accept-encoding": "gzip" });
    expect(gzip.headers["content-encoding"]).toBe("gzip");
    expect(decodedJson(gzip).data).toEqual(decodedJson(identity).data);
  });
});
