import { describe, expect, test } from "bun:test";
import { pathAndQuery, requestTarget } from "./request-context.ts";

describe("requestTarget", () => {
  test("reads the path and query after the Host the URL was built from", () => {
    expect(requestTarget("http://127.0.0.1:8080/octocat?page=2", "127.0.0.1:8080")).toBe("/octocat?page=2");
    expect(requestTarget("http://api/healthz", "api")).toBe("/healthz");
    expect(requestTarget("http://[::1]:8080/x", "[::1]:8080")).toBe("/x");
    expect(requestTarget("https://gists.example.com/", "gists.example.com")).toBe("/");
    expect(requestTarget("http://api", "api")).toBe("/");
  });

  test("a Host that could move the boundary is refused", () => {
    expect(requestTarget("http://x/y/healthz", "x/y")).toBeUndefined();
    expect(requestTarget("http://a, b/", "a, b")).toBeUndefined();
    expect(requestTarget("http://x?/octocat", "x?")).toBeUndefined();
    expect(requestTarget("http://x#/octocat", "x#")).toBeUndefined();
    expect(requestTarget("http://u@x/octocat", "u@x")).toBeUndefined();
  });

  test("a path-only URL (Bun, no Host or an empty one) is the target, normalized as Bun normalizes URLs it builds", () => {
    expect(requestTarget("/user3", null)).toBe("/user3");
    expect(requestTarget("/cache/stats", null)).toBe("/cache/stats");
    expect(requestTarget("/readyz", "")).toBe("/readyz");
    expect(requestTarget("/octocat?page=2&per_page=5", null)).toBe("/octocat?page=2&per_page=5");
    expect(requestTarget("/a/../healthz", null)).toBe("/healthz");
    expect(requestTarget("//evil.example/x", null)).toBe("//evil.example/x");
  });

  test("without a Host header the runtime's own authority is skipped", () => {
    expect(requestTarget("http://localhost:8080/octocat", null)).toBe("/octocat");
    expect(requestTarget("http:///octocat", "")).toBe("/octocat");
  });

  test("absolute-form keeps its own authority (Deno), whatever the Host says", () => {
    expect(requestTarget("http://other.example/octocat?page=2", "gists.example.com")).toBe("/octocat?page=2");
    expect(requestTarget("http://other.example", "gists.example.com")).toBe("/");
    expect(requestTarget("http://other.example?page=2", "gists.example.com")).toBe("/?page=2");
    expect(requestTarget("http://user:pass@other.example/cache/stats", null)).toBe("/cache/stats");
    expect(requestTarget("HTTP://OTHER.EXAMPLE/x", "h")).toBe("/x");
  });
});

describe("pathAndQuery", () => {
  test("drops scheme and authority, and keeps a path-only URL", () => {
    expect(pathAndQuery("http://127.0.0.1:8080/octocat?page=2")).toBe("/octocat?page=2");
    expect(pathAndQuery("http://api")).toBe("/");
    expect(pathAndQuery("/cache/stats")).toBe("/cache/stats");
  });
});
