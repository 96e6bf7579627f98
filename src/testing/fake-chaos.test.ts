import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { request } from "node:http";
import { parseFault } from "./fake-faults.ts";
import { startFakeGithub, type FakeGithub } from "./fake-github.ts";

// The fault kinds the chaos suite adds to the fake GitHub, and its auto-made user population.

let fake: FakeGithub;
const get = (path: string) => fetch(`${fake.url}${path}`);

/** GET with node:http: the declared length, the bytes that arrived and how the body ended. */
function rawGet(path: string): Promise<{ status: number; declared: number; received: number; ended: "complete" | "aborted"; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(`${fake.url}${path}`, { agent: false }, (res) => {
      let received = 0;
      res.on("data", (chunk: Buffer) => (received += chunk.length));
      const done = (ended: "complete" | "aborted") => () =>
        resolve({ status: res.statusCode ?? 0, declared: Number(res.headers["content-length"]), received, ended, ms: Date.now() - started });
      res.once("end", done("complete"));
      res.once("aborted", done("aborted"));
      res.once("error", done("aborted"));
    });
    req.once("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  fake = await startFakeGithub({ users: { octocat: 30 }, autoUsers: { prefix: "load-", gists: (login) => login.length % 5 } });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe("chaos faults", () => {
  test("truncated declares the whole body, sends part of it, then closes the connection", async () => {
    fake.setFault("octocat", { kind: "truncated", times: 1 });
    const cut = await rawGet("/users/octocat/gists");
    expect(cut.status).toBe(200);
    expect(cut.ended).toBe("aborted");
    expect(cut.received).toBeGreaterThan(0);
    expect(cut.received).toBeLessThan(cut.declared);
    const whole = await rawGet("/users/octocat/gists");
    expect([whole.ended, whole.received]).toEqual(["complete", whole.declared]);
  });

  test("wrong-content-type answers 200 with an HTML page", async () => {
    fake.setFault("octocat", { kind: "wrong-content-type", times: 1 });
    const res = await get("/users/octocat/gists");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await res.text()).toStartWith("<!DOCTYPE html>");
  });

  test("trickle sends the whole normal answer, slowly", async () => {
    fake.setFault("octocat", { kind: "trickle", bytes: 4096, intervalMs: 40, times: 1 });
    const started = Date.now();
    const res = await get("/users/octocat/gists");
    const body = (await res.json()) as unknown[];
    expect(body).toEqual(fake.gists("octocat").slice(0, 30));
    // About 50 KB in 4 KiB pieces: a dozen pauses of 40 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  test("a trickle in progress is cut off by reset()", async () => {
    fake.setFault("octocat", { kind: "trickle", bytes: 16, intervalMs: 50 });
    const pending = rawGet("/users/octocat/gists");
    await Bun.sleep(150);
    expect(fake.inFlight).toBe(1);
    fake.reset();
    const cut = await pending;
    expect(cut.ended).toBe("aborted");
    expect(fake.inFlight).toBe(0);
  });

  test("answer sends exactly the status, headers and body it is given, with GitHub's rate-limit headers", async () => {
    fake.setFault("octocat", { kind: "answer", status: 301, headers: { location: "https://elsewhere.example/x" }, times: 1 });
    const moved = await fetch(`${fake.url}/users/octocat/gists`, { redirect: "manual" });
    expect([moved.status, moved.headers.get("location"), moved.headers.get("x-ratelimit-limit")]).toEqual([301, "https://elsewhere.example/x", "5000"]);
    fake.setFault("octocat", { kind: "answer", status: 200, body: '[{"id":1}]', times: 1 });
    const odd = await get("/users/octocat/gists");
    expect([odd.status, await odd.text()]).toEqual([200, '[{"id":1}]']);
    expect((await get("/users/octocat/gists")).status).toBe(200);
  });

  test("the control API accepts the new kinds and checks their numbers", () => {
    expect(parseFault({ kind: "trickle", bytes: 8, intervalMs: 10 })).toEqual({ kind: "trickle", bytes: 8, intervalMs: 10 });
    expect(parseFault({ kind: "truncated" })).toEqual({ kind: "truncated" });
    expect(parseFault({ kind: "wrong-content-type" })).toEqual({ kind: "wrong-content-type" });
    expect(() => parseFault({ kind: "trickle", bytes: 0 })).toThrow("fault.bytes");
    expect(() => parseFault({ kind: "trickle", intervalMs: "x" })).toThrow("fault.intervalMs");
    expect(parseFault({ kind: "answer", status: 304 })).toEqual({ kind: "answer", status: 304 });
    expect(() => parseFault({ kind: "answer", status: 200, body: 5 })).toThrow("fault.body");
    expect(() => parseFault({ kind: "answer", status: 200, headers: { a: 1 } })).toThrow("fault.headers");
  });
});

describe("auto users", () => {
  test("logins with the prefix exist on first request, any case, with the given gist count", async () => {
    const res = await get("/users/Load-12345/gists");
    expect(res.status).toBe(200);
    expect(((await res.json()) as unknown[]).length).toBe("load-12345".length % 5);
    expect(fake.users()).toHaveProperty("load-12345");
    expect((await get("/users/other-1/gists")).status).toBe(404);
  });

  test("reset() forgets them, and they come back when asked for", async () => {
    await get("/users/load-7/gists");
    fake.reset();
    expect(fake.users()).toEqual({ octocat: 30 });
    expect((await get("/users/load-7/gists")).status).toBe(200);
  });
});
