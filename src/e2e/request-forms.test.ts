import { afterAll, beforeAll, expect, test } from "bun:test";
import { startFakeGithub, type FakeGithub } from "../testing/fake-github.ts";
import { rawExchange, type RawResponse } from "../testing/raw-http.ts";
import { startService, type RunningService } from "../testing/service.ts";
import { describeTargets, freshLogin, timedTestMs, until, useStack, type Stack } from "./stack.ts";

/** The port of a stack's service. */
const portOf = (s: Stack) => Number(new URL(s.service.url).port);

/** Sends one request exactly as written (`head` is the request line and headers, without the blank line). */
async function raw(port: number, head: string): Promise<RawResponse> {
  const exchange = await rawExchange(port, `${head}\r\n\r\n`, { expectResponses: 1, timeoutMs: 5_000 });
  expect({ ended: exchange.ended, error: exchange.error }).toEqual({ ended: "answered", error: undefined });
  return exchange.responses[0]!;
}

/** The request-line forms a client may send for `path`, each named. */
function forms(path: string, port: number): Array<[string, string]> {
  return [
    ["HTTP/1.0 without Host", `GET ${path} HTTP/1.0`],
    ["HTTP/1.1 with an empty Host", `GET ${path} HTTP/1.1\r\nHost:\r\nConnection: close`],
    ["HTTP/1.1 with a short Host", `GET ${path} HTTP/1.1\r\nHost: api\r\nConnection: close`],
    ["absolute-form, matching Host", `GET http://127.0.0.1:${port}${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close`],
    ["absolute-form, another Host", `GET http://gists.example.com${path} HTTP/1.1\r\nHost: api\r\nConnection: close`],
    ["absolute-form over HTTP/1.0 without Host", `GET http://gists.example.com${path} HTTP/1.0`],
  ];
}

describeTargets("every request form is routed by its path", (target) => {
  const s = useStack(target);

  test("a user's gists, a miss and then hits, whatever the form", async () => {
    for (const [form, head] of forms("/LOGIN?per_page=2", portOf(s))) {
      const login = freshLogin("form");
      s.fake.setUser(login, 3);
      const answers = [];
      for (let i = 0; i < 2; i++) {
        const res = await raw(portOf(s), head.replace("LOGIN", login));
        answers.push({ status: res.status, cache: res.headers["x-cache"], gists: JSON.parse(res.body).data?.length });
      }
      expect({ form, answers }).toEqual({
        form,
        answers: [
          { status: 200, cache: "MISS", gists: 2 },
          { status: 200, cache: "HIT", gists: 2 },
        ],
      });
      expect({ form, upstream: s.fake.requestCount(login) }).toEqual({ form, upstream: 1 });
    }
  });

  test("/cache/stats, /healthz and /readyz answer themselves and never reach GitHub", async () => {
    for (const [form, head] of forms("/cache/stats", portOf(s))) {
      const res = await raw(portOf(s), head);
      expect({ form, status: res.status, hasSize: "size" in JSON.parse(res.body) }).toEqual({ form, status: 200, hasSize: true });
    }
    for (const [path, status] of [
      ["/healthz", "alive"],
      ["/readyz", "ready"],
    ]) {
      for (const [form, head] of forms(path!, portOf(s))) {
        const res = await raw(portOf(s), head);
        expect({ form, path, status: res.status, body: JSON.parse(res.body) }).toEqual({ form, path, status: 200, body: { status } });
      }
    }
    expect(s.fake.requestCount("stats")).toBe(0);
    expect(s.fake.requestCount("readyz")).toBe(0);
  });

  test("a Host that is not one host is still refused, and an unknown path is 404", async () => {
    expect((await raw(portOf(s), "GET /healthz HTTP/1.1\r\nHost: a/b\r\nConnection: close")).status).toBe(400);
    expect((await raw(portOf(s), "GET /cache/nope HTTP/1.0")).status).toBe(404);
  });
});

describeTargets("readiness of a request without Host during shutdown", (target) => {
  let fake: FakeGithub;
  let service: RunningService;
  beforeAll(async () => {
    fake = await startFakeGithub({ users: { slowpoke: 1 } });
    service = await startService({ target, env: { GITHUB_API_URL: fake.url, UPSTREAM_TIMEOUT_MS: "10000" } });
  });
  afterAll(async () => {
    await service.stop();
    await fake.close();
  });

  test(
    "an HTTP/1.0 probe without Host sees 503 on /readyz once SIGTERM arrived",
    async () => {
      const port = Number(new URL(service.url).port);
      expect((await raw(port, "GET /readyz HTTP/1.0")).status).toBe(200);
      // A slow request in flight keeps the listener open while the service drains.
      fake.setFault("slowpoke", { kind: "latency", ms: 4_000 });
      const inFlight = fetch(`${service.url}/slowpoke`).then((res) => res.status);
      await until(() => fake.inFlight === 1, 5_000, "the request to reach GitHub");
      service.signal("SIGTERM");
      await service.waitForLog((line) => line.msg === "shutting down", 5_000);
      const probe = await raw(port, "GET /readyz HTTP/1.0");
      expect({ status: probe.status, body: JSON.parse(probe.body) }).toEqual({ status: 503, body: { status: "shutting down" } });
      expect(await inFlight).toBe(200);
    },
    timedTestMs,
  );
});
