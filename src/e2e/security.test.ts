import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { rawExchange } from "../testing/raw-http.ts";
import { freshLogin, until, useStack, type Stack } from "./stack.ts";

// Security properties of the compiled binary: headers on every kind of answer, a CSP that fits the Swagger page,
// request size and header limits, secrets that never reach logs or answers, and the guarded admin endpoint.

const githubToken = "ghp_securitySuiteGithubToken0123456789ABCD";
const adminToken = "adm_securitySuiteAdminToken_9f8e7d6c5b4a";
const login = "secure-cat";
const env = {
  GITHUB_TOKEN: githubToken,
  ADMIN_TOKEN: adminToken,
  LOG_LEVEL: "debug",
  UPSTREAM_TIMEOUT_MS: "300",
  CACHE_NEGATIVE_TTL: "0",
  BREAKER_THRESHOLD: "1000",
};

interface HeaderCheck {
  what: string;
  status: number;
  nosniff: string | null;
  referrer: string | null;
  csp: string | null;
}

async function headersOf(s: Stack, what: string, path: string, init?: RequestInit): Promise<HeaderCheck> {
  const res = await s.request(path, init);
  await res.arrayBuffer();
  return {
    what,
    status: res.status,
    nosniff: res.headers.get("x-content-type-options"),
    referrer: res.headers.get("referrer-policy"),
    csp: res.headers.get("content-security-policy"),
  };
}

function rssMb(pid: number): number {
  return Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024);
}

/** Sends up to `mib` MiB as a chunked body on one connection; resolves with the status line and the MiB the server took. */
function chunkedUpload(port: number, method: string, path: string, mib: number): Promise<{ status: string; tookMib: number }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    const timer = setTimeout(() => socket.destroy(), 15_000);
    socket.on("data", (data: Buffer) => (answer += data.toString("latin1")));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ status: answer.split("\r\n")[0] ?? "", tookMib: Math.round(socket.bytesWritten / 2 ** 20) });
    });
    socket.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`);
    const chunk = Buffer.alloc(1024 * 1024, 0x78);
    let sent = 0;
    const pump = () => {
      while (sent < mib) {
        sent++;
        const more = socket.write(`${chunk.length.toString(16)}\r\n`) && socket.write(chunk) && socket.write("\r\n");
        if (!more) return void socket.once("drain", pump);
      }
      socket.write("0\r\n\r\n");
    };
    pump();
  });
}

describe("security [binary]", () => {
  const s = useStack("binary", env, { users: { [login]: 3 } });

  test("every answer the service builds carries nosniff and no-referrer; only the Swagger page carries a CSP", async () => {
    const etag = (await s.request(`/${login}`)).headers.get("etag") ?? "";
    const broken = freshLogin("broken");
    const hanging = freshLogin("hanging");
    for (const name of [broken, hanging]) s.fake.setUser(name, 1);
    s.fake.setFault(broken, { kind: "status", status: 500 });
    s.fake.setFault(hanging, { kind: "hang" });
    const preflight = { method: "OPTIONS", headers: { origin: "http://app.example", "access-control-request-method": "GET" } };
    const checks = [
      await headersOf(s, "gists 200 (hit path)", `/${login}`),
      await headersOf(s, "gists 200 (miss)", `/${login}?page=1&per_page=2`),
      await headersOf(s, "gists 200 (HEAD)", `/${login}`, { method: "HEAD" }),
      await headersOf(s, "gists 304", `/${login}`, { headers: { "if-none-match": etag } }),
      await headersOf(s, "validation 422", "/a_b"),
      await headersOf(s, "unknown user 404", `/${freshLogin("ghost")}`),
      await headersOf(s, "GitHub 5xx 502", `/${broken}`),
      await headersOf(s, "GitHub timeout 504", `/${hanging}`),
      await headersOf(s, "unknown route 404", "/no/such/route"),
      await headersOf(s, "unknown method 404", `/${login}`, { method: "PUT", body: "x" }),
      await headersOf(s, "preflight 204", `/${login}`, preflight),
      await headersOf(s, "admin 401", "/cache", { method: "DELETE" }),
      await headersOf(s, "cache stats", "/cache/stats"),
      await headersOf(s, "metrics", "/metrics"),
      await headersOf(s, "health", "/health"),
      await headersOf(s, "liveness", "/healthz"),
      await headersOf(s, "readiness", "/readyz"),
      await headersOf(s, "OpenAPI document", "/swagger/json"),
      await headersOf(s, "Swagger script", "/swagger/assets/init.js"),
      await headersOf(s, "Swagger asset 404", "/swagger/assets/nope.js"),
      await headersOf(s, "Swagger page", "/swagger"),
    ];
    s.fake.setFault(broken, null);
    s.fake.setFault(hanging, null);
    const policy = checks.find((c) => c.what === "Swagger page")?.csp ?? "";
    expect(checks.filter((c) => c.nosniff !== "nosniff" || c.referrer !== "no-referrer")).toEqual([]);
    expect(checks.filter((c) => c.csp !== null).map((c) => c.what)).toEqual(["Swagger page"]);
    expect(checks.filter((c) => c.status >= 500).map((c) => [c.what, c.status])).toEqual([
      ["GitHub 5xx 502", 502],
      ["GitHub timeout 504", 504],
    ]);
    // Strict where it matters: no inline or foreign script, no framing, no base or form hijack.
    const directives = Object.fromEntries(
      policy
        .split(";")
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    expect(directives).toMatchObject({
      "default-src": ["'self'"],
      "script-src": ["'self'"],
      "frame-ancestors": ["'none'"],
      "base-uri": ["'none'"],
      "form-action": ["'none'"],
    });
  });

  test("the Swagger page loads only same-origin files, all of which exist, and has nothing inline its CSP would block", async () => {
    const html = await (await s.request("/swagger")).text();
    const refs = [...html.matchAll(/\b(?:src|href)\s*=\s*"([^"]*)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(3);
    expect(refs.filter((ref) => !ref.startsWith("/") || ref.startsWith("//"))).toEqual([]);
    const loaded = [];
    for (const ref of refs) {
      const res = await s.request(ref);
      loaded.push({ ref, status: res.status, bytes: (await res.arrayBuffer()).byteLength > 0 });
    }
    expect(loaded).toEqual(refs.map((ref) => ({ ref, status: 200, bytes: true })));
    // script-src 'self': every script is a file; no inline handlers.
    expect([...html.matchAll(/<script\b([^>]*)>/g)].filter((m) => !/\bsrc=/.test(m[1]!))).toEqual([]);
    expect(/\son[a-z]+\s*=/i.test(html)).toBe(false);
    const init = await (await s.request("/swagger/assets/init.js")).text();
    expect([...init.matchAll(/https?:\/\/[^\s"'`]+/g)].map((m) => m[0])).toEqual([]);
  });

  test("a declared body over 64 KiB is 413 before it is read; 64 KiB is not; an undeclared (chunked) body is never buffered", async () => {
    const at = (bytes: number) => s.request(`/${login}`, { method: "POST", body: "x".repeat(bytes) }).then((r) => r.status);
    expect([await at(64 * 1024), await at(64 * 1024 + 1), await at(1024 * 1024)]).toEqual([404, 413, 413]);
    const port = Number(new URL(s.service.url).port);
    const before = rssMb(s.service.pid);
    const uploads = [];
    for (const [method, path] of [
      ["POST", `/${login}`],
      ["DELETE", "/cache"],
      ["PUT", "/healthz"],
    ] as const)
      uploads.push(await chunkedUpload(port, method, path, 32));
    const after = rssMb(s.service.pid);
    // No route reads a body: the answer comes at once and the connection closes, whatever is still being sent.
    // Closing with unread input resets the connection, which may destroy the answer before the client reads it.
    const expected = ["HTTP/1.1 404", "HTTP/1.1 401", "HTTP/1.1 404"];
    expect(uploads.map((u, i) => (u.status === "" ? expected[i] : u.status.slice(0, 12)))).toEqual(expected);
    console.log(
      `security: chunked uploads of 32 MiB each, MiB taken before the close: ${uploads.map((u) => u.tookMib).join(", ")}; RSS ${before} -> ${after} MB`,
    );
    expect(after - before).toBeLessThan(16);
    expect((await s.request("/healthz")).status).toBe(200);
  }, 30_000);

  test("headers over the limit (one of 64 KiB, or 1000 small ones) are refused with 431 or 400, and the server goes on", async () => {
    const one = await s.request(`/${login}`, { headers: { "x-large": "a".repeat(64 * 1024) } });
    const many = await s.request(`/${login}`, { headers: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`x-h${i}`, "v".repeat(60)])) });
    const port = Number(new URL(s.service.url).port);
    const line = await rawExchange(port, `GET /${"a".repeat(100 * 1024)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, {
      expectResponses: 1,
      timeoutMs: 3_000,
    });
    expect([one.status, many.status, line.responses[0]?.status].map((status) => status === 431 || status === 400)).toEqual([true, true, true]);
    expect((await s.request("/healthz")).status).toBe(200);
    expect(s.service.exitCode).toBeUndefined();
  });

  test("DELETE /cache needs the admin token: 401 without it or with anything else, 200 with it; the cache then starts over", async () => {
    const cases: Array<[string, string | undefined]> = [
      ["none", undefined],
      ["empty bearer", "Bearer "],
      ["wrong", "Bearer not-the-token"],
      ["prefix", `Bearer ${adminToken.slice(0, -1)}`],
      ["suffix", `Bearer ${adminToken}x`],
      ["GitHub token", `Bearer ${githubToken}`],
      ["basic", `Basic ${btoa(`admin:${adminToken}`)}`],
      ["bare token", adminToken],
    ];
    const refused = [];
    for (const [name, authorization] of cases) {
      const res = await s.request("/cache", { method: "DELETE", headers: authorization ? { authorization } : {} });
      const body = await res.text();
      refused.push({ name, status: res.status, challenge: res.headers.get("www-authenticate"), echoes: body.includes(adminToken.slice(0, 12)) });
    }
    expect(refused).toEqual(cases.map(([name]) => ({ name, status: 401, challenge: "Bearer", echoes: false })));
    expect((await s.request(`/${login}`)).headers.get("x-cache")).toBe("HIT");
    const held = (await (await s.request("/cache/stats")).json()) as { size: number };
    expect(held.size).toBeGreaterThan(0);
    const cleared = await s.request("/cache", { method: "DELETE", headers: { authorization: `Bearer ${adminToken}` } });
    expect(cleared.status).toBe(200);
    expect(((await (await s.request("/cache/stats")).json()) as { size: number }).size).toBe(0);
    expect((await s.request(`/${login}`)).headers.get("x-cache")).toBe("MISS");
    // The scheme is case-insensitive (RFC 9110 11.1).
    expect((await s.request("/cache", { method: "DELETE", headers: { authorization: `bearer ${adminToken}` } })).status).toBe(200);
  });

  test("at LOG_LEVEL=debug, across every error, neither token reaches stdout, stderr, an answer or (the admin token) GitHub", async () => {
    const failing = freshLogin("leaky");
    s.fake.setUser(failing, 1);
    const faults = [
      { kind: "status", status: 500 },
      { kind: "reset" },
      { kind: "hang" },
      { kind: "malformed" },
      { kind: "status", status: 401, body: '{"message":"Bad credentials"}' },
    ] as const;
    for (const fault of faults) {
      s.fake.setFault(failing, fault);
      await s.request(`/${failing}?use_cache=false`, { headers: { authorization: `Bearer ${adminToken}` } });
    }
    s.fake.setFault(failing, null);
    await s.request(`/${freshLogin("nobody")}`);
    await s.request("/a_b");
    await s.request("/cache", { method: "DELETE", headers: { authorization: `Bearer ${adminToken}` } });
    await s.request("/cache", { method: "DELETE", headers: { authorization: `Bearer ${adminToken}-wrong` } });
    s.fake.setFault(failing, { kind: "secondary-rate-limit", retryAfter: 1, times: 1 });
    await s.request(`/${failing}?use_cache=false`);
    for (const path of ["/metrics", "/cache/stats", "/swagger/json", "/health", "/readyz"]) await s.request(path);
    await Bun.sleep(150);
    await until(() => s.service.stdout().includes('"path":"/readyz"'), 2_000, "the access log to be flushed");

    const places = { stdout: s.service.stdout(), stderr: s.service.stderr(), answers: s.bodies.join("\n") };
    const leaks = Object.entries(places).flatMap(([where, text]) =>
      [githubToken, adminToken, githubToken.slice(4, 24), adminToken.slice(4, 24)]
        .filter((secret) => text.includes(secret))
        .map((secret) => `${where}: ${secret.slice(0, 8)}...`),
    );
    expect(leaks).toEqual([]);
    // The failures were logged (a warning each): the check above looked at real output, not silence.
    expect(places.stdout.split("\n").filter((line) => line.includes('"msg":"github request failed"')).length).toBeGreaterThanOrEqual(faults.length);
    const upstreamHeaders = s.fake.requests.map((r) => JSON.stringify(r.headers)).join("\n");
    expect(upstreamHeaders.includes(adminToken)).toBe(false);
    expect(s.fake.requests.every((r) => r.headers.authorization === `Bearer ${githubToken}`)).toBe(true);
    // No error answer reveals internals either: no stack traces, no file paths.
    const errorBodies = s.bodies.filter((body) => body.startsWith('{"detail"'));
    expect(errorBodies.length).toBeGreaterThanOrEqual(faults.length);
    expect(errorBodies.filter((body) => /\bat .+:\d+:\d+|node_modules|\/work\/|\/tmp\/|Error:/.test(body))).toEqual([]);
  }, 20_000);
});

describe("security without ADMIN_TOKEN [binary]", () => {
  const s = useStack("binary");

  test("DELETE /cache is open, as documented, when no admin token is configured", async () => {
    expect((await s.request("/cache", { method: "DELETE" })).status).toBe(200);
  });
});
