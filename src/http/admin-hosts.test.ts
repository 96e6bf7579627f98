import { describe, expect, test } from "bun:test";
import { settings } from "../config.ts";
import { adminHostRefusal, parseAdminHosts } from "./admin-hosts.ts";

const documented = parseAdminHosts(settings.find((setting) => setting.env === "ADMIN_HOSTS")!.default);

describe("adminHostRefusal with the documented ADMIN_HOSTS", () => {
  test.each([
    // What operators use: curl and kubectl port-forward on loopback, the pod IP, the Service's cluster names.
    "localhost",
    "localhost:8080",
    "LOCALHOST:8080",
    "localhost.",
    "app.localhost:3000",
    "127.0.0.1",
    "127.0.0.1:8080",
    "[::1]:8080",
    "[::1]",
    "10.244.1.17:8080",
    "[fd00:10:244::5]:8080",
    "gists-api",
    "gists-api:80",
    "gists-api.gists-api.svc",
    "gists-api.prod.svc:80",
    "gists-api.prod.svc.cluster.local",
    "gists-api.prod.svc.cluster.local.:8080",
  ])("%s is accepted", (host) => {
    expect(adminHostRefusal(documented, host)).toBeUndefined();
  });

  test("no Host header (not a browser) is accepted", () => {
    expect(adminHostRefusal(documented, null)).toBeUndefined();
    expect(adminHostRefusal(documented, "")).toBeUndefined();
  });

  test.each([
    // Names a page's author can make resolve to the service.
    "evil.example",
    "evil.example:8080",
    "127.0.0.1.nip.io",
    "localhost.evil.example",
    "gists-api.evil.example",
    "svc.evil.example",
    "gists-api.dev",
    "evilsvc",
    "notlocalhost",
  ])("%s is refused, naming the header and the setting", (host) => {
    const refusal = adminHostRefusal(documented, host);
    expect(refusal).toContain(JSON.stringify(host));
    expect(refusal).toContain("ADMIN_HOSTS");
  });
});

describe("parseAdminHosts", () => {
  test("names and .suffixes, trimmed and lower-cased", () => {
    const hosts = parseAdminHosts(" Admin.Example , .Corp.Internal,");
    expect(hosts).toEqual({ names: ["admin.example"], suffixes: [".corp.internal"] });
    expect(adminHostRefusal(hosts, "admin.example:8443")).toBeUndefined();
    expect(adminHostRefusal(hosts, "gists.corp.internal")).toBeUndefined();
    expect(adminHostRefusal(hosts, "corp.internal")).toBeDefined();
    expect(adminHostRefusal(hosts, "localhost")).toBeDefined();
    expect(adminHostRefusal(hosts, "192.168.1.5")).toBeUndefined();
  });

  test.each(["*", ".", "evil..example", "http://admin.example", "admin.example:8080", "a b", ","])("%p is refused", (text) => {
    expect(() => parseAdminHosts(text)).toThrow();
  });
});
