import { describe, expect, test } from "bun:test";
import { parseLinkHeader } from "./links.ts";

describe("parseLinkHeader", () => {
  test("reads GitHub's next and last", () => {
    const header =
      '<https://api.github.com/user/9919/gists?per_page=30&page=2>; rel="next", <https://api.github.com/user/9919/gists?per_page=30&page=5>; rel="last"';
    expect(parseLinkHeader(header)).toEqual({ next: 2, last: 5 });
  });

  test("reads prev and first on a middle page", () => {
    const header =
      '<https://api.github.com/user/1/gists?page=1>; rel="prev", <https://api.github.com/user/1/gists?page=3>; rel="next", <https://api.github.com/user/1/gists?page=1>; rel="first"';
    expect(parseLinkHeader(header)).toEqual({ prev: 1, next: 3, first: 1 });
  });

  test("treats a URL without page as page 1", () => {
    expect(parseLinkHeader('<https://api.github.com/user/1/gists>; rel="first"')).toEqual({ first: 1 });
  });

  test("accepts unquoted and multi-valued rel", () => {
    expect(parseLinkHeader("<http://x/?page=4>; rel=next")).toEqual({ next: 4 });
    expect(parseLinkHeader('<http://x/?page=4>; rel="next last"')).toEqual({ next: 4, last: 4 });
  });

  test("ignores what it cannot read", () => {
    expect(parseLinkHeader(undefined)).toEqual({});
    expect(parseLinkHeader("")).toEqual({});
    expect(parseLinkHeader("garbage")).toEqual({});
    expect(parseLinkHeader('<http://x/?page=abc>; rel="next"')).toEqual({});
    expect(parseLinkHeader('<http://x/?page=0>; rel="next"')).toEqual({});
    expect(parseLinkHeader('<http://x/?page=2>; rel="alternate"')).toEqual({});
  });
});
