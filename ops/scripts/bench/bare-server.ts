/**
 * The yardstick for the benchmark: a bare Bun.serve that answers every request with the bytes in a file, and
 * with the headers in a JSON file when one is given (else only a content type).
 */
export {};
const [path, port, headersPath] = process.argv.slice(2);
if (!path || !port) {
  console.error("usage: bun ops/scripts/bench/bare-server.ts BODY_FILE PORT [HEADERS_JSON_FILE]");
  process.exit(2);
}
const body = new Uint8Array(await Bun.file(path).arrayBuffer());
const headers: Record<string, string> = headersPath ? await Bun.file(headersPath).json() : { "content-type": "application/json" };
Bun.serve({
  port: Number(port),
  hostname: "127.0.0.1",
  fetch: () => new Response(body, { headers }),
});
console.log(JSON.stringify({ msg: "listening", port: Number(port), bytes: body.length, headers: Object.keys(headers).length }));
