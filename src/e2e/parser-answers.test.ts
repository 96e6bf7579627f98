import { expect, test } from "bun:test";
import { rawExchange } from "../testing/raw-http.ts";
import { parsePrometheusText } from "../testing/prometheus-text.ts";
import { describeTargets, useStack } from "./stack.ts";

// Known limit of Bun: requests its HTTP parser refuses are answered by the parser itself (400, 431, 505) with
// `Connection: close` and nothing else, before the service sees them: no security headers, no X-Request-Id, no
// access-log line, no metric. When Bun hands them to the server (or adds headers), this test fails: then the
// README's limits section and this test change.

const refused = [
  { what: "a header line with no name", status: 400, bytes: "GET /healthz HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n" },
  { what: "a 70 KB header", status: 431, bytes: `GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(70_000)}\r\n\r\n` },
  { what: "an unknown HTTP version", status: 505, bytes: "GET /healthz HTTP/2.7\r\nHost: a\r\n\r\n" },
];

describeTargets("answers of the runtime's HTTP parser", (target) => {
  if (target !== "binary") return;
  const s = useStack(target);

  test("known limit: 400, 431 and 505 carry only Connection: close and never reach the metrics or the log", async () => {
    const port = Number(new URL(s.service.url).port);
    for (const { what, status, bytes } of refused) {
      const exchange = await rawExchange(port, bytes, { expectResponses: 1, timeoutMs: 10_000 });
      expect({ what, status: exchange.responses[0]?.status, headers: exchange.responses[0]?.headers }).toEqual({
        what,
        status,
        headers: { connection: "close" },
      });
    }
    const scrape = parsePrometheusText(await (await s.request("/metrics")).text());
    const counted = scrape.samples.filter((m) => m.name === "http_requests_total" && ["400", "431", "505"].includes(m.labels.status ?? ""));
    expect(counted.filter((m) => m.value > 0)).toEqual([]);
    expect(s.service.logs().filter((l) => l.msg === "request" && l.path !== "/metrics")).toEqual([]);
  });
});
