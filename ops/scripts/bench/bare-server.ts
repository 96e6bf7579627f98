/** The yardstick for the benchmark: a bare Bun.serve that answers every request with the bytes in a file. */
export {};
const [path, port] = process.argv.slice(2);
if (!path || !port) {
  console.error("usage: bun ops/scripts/bare-server.ts BODY_FILE PORT");
  process.exit(2);
}
const body = new Uint8Array(await Bun.file(path).arrayBuffer());
Bun.serve({
  port: Number(port),
  hostname: "127.0.0.1",
  fetch: () => new Response(body, { headers: { "content-type": "application/json" } }),
});
console.log(JSON.stringify({ msg: "listening", port: Number(port), bytes: body.length }));
