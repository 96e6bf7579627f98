import { afterAll, beforeAll, expect, test } from "bun:test";
import { startOtlpReceiver, type OtlpReceiver } from "../testing/otlp-receiver.ts";
import { repoRoot } from "../testing/service.ts";

// The service's Deno target exports JSON (src/e2e/tracing.test.ts); this shows both official exporters work under Deno.
let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(async () => {
  await receiver.close();
});

test("the official exporters under Deno, configured by OTEL_EXPORTER_OTLP_* only, reach the receiver", async () => {
  for (const protocol of ["protobuf", "json"]) {
    // Asynchronous spawn: a synchronous one would block the receiver, which runs in this process.
    const proc = Bun.spawn(
      [`${repoRoot}node_modules/.bin/deno`, "run", "-A", "--node-modules-dir=manual", "src/testing/otlp-export-one.ts", protocol, `deno ${protocol}`],
      {
        cwd: repoRoot,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "",
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.tracesUrl,
          OTEL_EXPORTER_OTLP_HEADERS: "x-tenant=deno",
        },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    expect({ code, stdout: stdout.trim(), stderr }).toEqual({ code: 0, stdout: '{"code":0}', stderr: "" });
    const [span] = await receiver.waitForSpans((s) => s.name === `deno ${protocol}`);
    expect(span).toMatchObject({ attributes: { runtime: "deno" }, resource: { "service.name": "otlp-export-one" } });
  }
  expect(receiver.requests().map((r) => [r.contentType, r.headers["x-tenant"]])).toEqual([
    ["application/x-protobuf", "deno"],
    ["application/json", "deno"],
  ]);
}, 60_000);
