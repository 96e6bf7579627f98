import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { gistsResponses } from "../modules/gists/openapi.ts";
import { repoRoot } from "../testing/service.ts";

// Where the docs list the service's headers, each is written one way: canonical case (X-Cache, ETag, RateLimit-Limit).
const canonical = /^[A-Z][A-Za-z]*(-[A-Z][A-Za-z]*)*$/;
const ownHeaders = ["X-Cache", "X-Request-Id"];

test("the OpenAPI responses name every header in canonical case", () => {
  const names = Object.values(gistsResponses).flatMap((response) => Object.keys(("headers" in response && response.headers) || {}));
  expect(names).toContain("X-Cache");
  expect(names.filter((name) => !canonical.test(name))).toEqual([]);
});

test("the README writes the service's own X- headers in canonical case", () => {
  // Lower-case `etag`, `retry-after` or `x-ratelimit-*` there are nginx directives and GitHub's headers, not ours.
  const readme = readFileSync(`${repoRoot}README.md`, "utf8");
  const written = [...readme.matchAll(/\b(x-cache|x-request-id)\b/gi)].map((match) => match[1]!);
  expect(written.length).toBeGreaterThan(0);
  expect(written.filter((name) => !ownHeaders.includes(name))).toEqual([]);
});
