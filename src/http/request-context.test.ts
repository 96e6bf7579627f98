import { describe, expect, test } from "bun:test";
import { targetStart } from "./request-context.ts";

const target = (url: string, host: string | null) => {
  const start = targetStart(url, host);
  return start === -1 ? null : url.slice(start) || "/";
};

describe("targetStart", () => {
  test("reads the path and query after the Host the URL was built from", () => {
    expect(target("http://127.0.0.1:8080/octocat?page=2", "127.0.0.1:8080")).toBe("/octocat?page=2");
    expect(target("http://api/healthz", "api")).toBe("/healthz");
    expect(target("http://[::1]:8080/x", "[::1]:8080")).toBe("/x");
    expect(target("https://gists.example.com/", "gists.example.com")).toBe("/");
  });

  test("a Host that could move the boundary is refused", () => {
    expect(target("http://x/y/healthz", "x/y")).toBeNull();
    expect(target("http://a, b/", "a, b")).toBeNull();
    expect(target("http://x?/octocat", "x?")).toBeNull();
    expect(target("http:///octocat", "")).toBeNull();
    expect(target("http://other/octocat", "api")).toBeNull();
  });

  test("without a Host header the runtime's own authority is trusted", () => {
    expect(target("http://localhost:8080/octocat", null)).toBe("/octocat");
  });
});
