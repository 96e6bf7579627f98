import { expect, test } from "bun:test";
import { request as httpRequest } from "node:http";
import { cacheStats, describeTargets, freshLogin, useStack, type Stack } from "./stack.ts";

/** DELETE /cache over a connection to the service's loopback address, with the Host (and Origin) a client chose. */
function deleteCacheAs(s: Stack, host: string, origin?: string): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(s.service.url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host, ...(origin ? { origin } : {}) };
    const req = httpRequest({ host: hostname, port, method: "DELETE", path: "/cache", headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Caches one user's page, so whether a DELETE cleared the cache shows in its size. */
async function cacheOne(s: Stack): Promise<void> {
  const login = freshLogin("kept");
  s.fake.setUser(login, 1);
  expect((await s.request(`/${login}`)).status).toBe(200);
  expect((await cacheStats(s)).size).toBeGreaterThan(0);
}

describeTargets("DELETE /cache under DNS rebinding, with no ADMIN_TOKEN", (target) => {
  const s = useStack(target);

  test("a page's own name in Host and Origin is refused with 403 naming ADMIN_HOSTS, and clears nothing", async () => {
    const { port } = new URL(s.service.url);
    await cacheOne(s);
    for (const name of ["evil.example", "gists-api.evil.example", "127.0.0.1.nip.io", "localhost.evil.example"]) {
      const answer = await deleteCacheAs(s, `${name}:${port}`, `http://${name}:${port}`);
      expect({ name, status: answer.status }).toEqual({ name, status: 403 });
      expect(answer.body.detail).toContain(JSON.stringify(`${name}:${port}`));
      expect(answer.body.detail).toContain("ADMIN_HOSTS");
      expect((await cacheStats(s)).size).toBeGreaterThan(0);
    }
  });

  test("the names operators use clear it: loopback names and addresses, a pod IP, the Service's cluster names", async () => {
    const { port } = new URL(s.service.url);
    const hosts = [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      "10.244.1.17:8080",
      "gists-api",
      "gists-api.gists-api.svc",
      "gists-api.gists-api.svc.cluster.local:80",
    ];
    for (const host of hosts) {
      await cacheOne(s);
      const answer = await deleteCacheAs(s, host);
      expect({ host, status: answer.status, size: (await cacheStats(s)).size }).toEqual({ host, status: 200, size: 0 });
    }
  });
});

describeTargets("DELETE /cache with ADMIN_HOSTS set", (target) => {
  const s = useStack(target, { ADMIN_HOSTS: "admin.example,.corp.internal" });

  test("the names listed (and IP addresses) clear it; any other name, localhost included, is 403", async () => {
    const { port } = new URL(s.service.url);
    for (const host of ["admin.example", `cache.corp.internal:${port}`, `127.0.0.1:${port}`]) {
      await cacheOne(s);
      expect({ host, status: (await deleteCacheAs(s, host)).status, size: (await cacheStats(s)).size }).toEqual({ host, status: 200, size: 0 });
    }
    await cacheOne(s);
    for (const host of [`localhost:${port}`, "gists-api", "corp.internal"]) {
      expect({ host, status: (await deleteCacheAs(s, host)).status }).toEqual({ host, status: 403 });
    }
    expect((await cacheStats(s)).size).toBeGreaterThan(0);
  });
});
