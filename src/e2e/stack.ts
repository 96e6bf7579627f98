import { afterAll, beforeAll, describe, expect } from "bun:test";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { startFakeGithub, type FakeGithub, type FakeGithubOptions, type RecordedRequest } from "../testing/fake-github.ts";
import { parsePrometheusText, type PrometheusScrape } from "../testing/prometheus-text.ts";
import { startService, targetsFromEnv, type RunningService, type Target } from "../testing/service.ts";

/** A fake GitHub and one service wired to it, for the tests of one describe block. */
export interface Stack {
  readonly fake: FakeGithub;
  readonly service: RunningService;
  /** Fetch a path of the service; every answer's body is kept for leak checks. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** Every response body the service has sent through `request`. */
  readonly bodies: string[];
}

/** Run `body` once per target (E2E_TARGETS, default binary and deno), each in its own describe block. */
export function describeTargets(title: string, body: (target: Target) => void): void {
  for (const target of targetsFromEnv()) describe(`${title} [${target}]`, () => body(target));
}

/** Start a fake GitHub and the service before the block's tests, and stop both after them. */
export function useStack(target: Target, env: Record<string, string> = {}, fakeOptions: FakeGithubOptions = {}): Stack {
  let fake: FakeGithub | undefined;
  let service: RunningService | undefined;
  const bodies: string[] = [];
  beforeAll(async () => {
    fake = await startFakeGithub(fakeOptions);
    service = await startService({ target, env: { GITHUB_API_URL: fake.url, CACHE_TTL: "300", ...env } });
  });
  afterAll(async () => {
    await service?.stop();
    await fake?.close();
  });
  return {
    get fake() {
      return fake!;
    },
    get service() {
      return service!;
    },
    bodies,
    async request(path, init) {
      const res = await fetch(`${service!.url}${path}`, init).catch((error: Error) => {
        const state = service!.exitCode === undefined ? "still running" : `exited with code ${service!.exitCode}`;
        throw new Error(`${error.message} (service ${state}; stderr: ${service!.stderr().slice(-2000)})`);
      });
      bodies.push(await res.clone().text());
      return res;
    },
  };
}

/** Assert an error answer: the status, a JSON body with `detail`, and `request_id` equal to X-Request-Id. */
export async function expectError(res: Response, status: number): Promise<{ detail: unknown; request_id: string }> {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status });
  expect(res.headers.get("content-type") ?? "").toContain("application/json");
  const body = JSON.parse(text);
  expect(body.detail).toBeDefined();
  expect(typeof body.request_id).toBe("string");
  expect(body.request_id).toBe(res.headers.get("x-request-id"));
  return body;
}

/** Poll until `check` returns true, or fail after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** Timeout for the tests that wait on purpose (TTLs, resets, cooldowns), with room for a busy 2-core machine. */
export const timedTestMs = 20_000;

/**
 * A CACHE_TTL short enough that tests waiting for pages to expire wait little (durations take milliseconds),
 * long enough that a page is still fresh for the requests a test sends right after storing it, on a busy machine.
 */
export const shortTtl = "600ms";

/** Waits until a page stored now is past `shortTtl`, with a margin. */
export const pastShortTtl = () => Bun.sleep(700);

/** A login no other test uses, so cache entries and request counts stay per test. */
export function freshLogin(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

/** GET /metrics of the stack's service, parsed. */
export async function scrapeMetrics(s: Stack): Promise<PrometheusScrape> {
  const res = await s.request("/metrics");
  expect(res.status).toBe(200);
  return parsePrometheusText(await res.text());
}

/** GET /cache/stats of the stack's service. */
export async function cacheStats(s: Stack): Promise<Record<string, number>> {
  const res = await s.request("/cache/stats");
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, number>;
}

/** The requests the fake GitHub received for one login, oldest first. */
export function upstreamRequests(s: Stack, login: string): RecordedRequest[] {
  return s.fake.requests.filter((r) => r.login === login.toLowerCase());
}

/** What a gists answer said: status, X-Cache, Age and the parsed body. */
export interface GistsReply {
  status: number;
  xCache: string | null;
  age: string | null;
  body: any;
}

/** GET a path of the service and read the parts of the answer the cache tests look at. */
export async function getGists(s: Stack, path: string, init?: RequestInit): Promise<GistsReply> {
  const res = await s.request(path, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Left as text: the assertion on it will show what came back.
  }
  return { status: res.status, xCache: res.headers.get("x-cache"), age: res.headers.get("age"), body };
}

/** A response read byte for byte, without any decoding of its content-encoding. */
export interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** GET a URL with node:http, which (unlike Bun's fetch) sends only the given headers and never decompresses. */
export function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "GET", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}
