import { afterAll, beforeAll, describe, expect } from "bun:test";
import { startFakeGithub, type FakeGithub, type FakeGithubOptions } from "../testing/fake-github.ts";
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

/** A login no other test uses, so cache entries and request counts stay per test. */
export function freshLogin(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}
