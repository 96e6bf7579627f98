import { describe, expect, test } from "bun:test";
import { JsonTooDeep, maxJsonDepth, parseJsonWithin } from "./body.ts";

const nested = (depth: number, open = "[", close = "]") => `${open.repeat(depth)}${close.repeat(depth)}`;

describe("parseJsonWithin", () => {
  test("parses JSON up to the depth bound and refuses one level more", () => {
    expect(parseJsonWithin(nested(maxJsonDepth))).toBeArray();
    expect(() => parseJsonWithin(nested(maxJsonDepth + 1))).toThrow(JsonTooDeep);
    expect(parseJsonWithin('{"a":{"b":[1]}}', 3)).toEqual({ a: { b: [1] } });
    expect(() => parseJsonWithin('{"a":{"b":[1]}}', 2)).toThrow(JsonTooDeep);
  });

  test("a list of gists is well within the bound", () => {
    const gists = [{ id: "a", owner: { login: "o" }, files: { "a.md": { filename: "a.md", size: 1 } } }];
    expect(parseJsonWithin(JSON.stringify(gists))).toEqual(gists);
  });

  test("brackets inside strings, escaped quotes included, do not count", () => {
    const text = JSON.stringify([{ filename: `${"[".repeat(500)}"\\${"{".repeat(500)}` }]);
    expect(parseJsonWithin(text, 2)).toEqual(JSON.parse(text));
  });

  test("a nesting bomb of 100,000 levels is refused before parsing, objects or lists, inside a file field too", () => {
    expect(() => parseJsonWithin(nested(100_000))).toThrow(JsonTooDeep);
    expect(() => parseJsonWithin(`[${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}]`)).toThrow(JsonTooDeep);
    const bomb = `[{"id":"a","files":{"a.md":{"filename":${nested(100_000)}}}}]`;
    expect(() => parseJsonWithin(bomb)).toThrow(new JsonTooDeep(`nested deeper than ${maxJsonDepth} levels`));
  });

  test("text that is not JSON throws a SyntaxError, however it nests", () => {
    expect(() => parseJsonWithin("<html>")).toThrow(SyntaxError);
    expect(() => parseJsonWithin('[{"a":')).toThrow(SyntaxError);
    expect(() => parseJsonWithin(']]]]{"a":1}')).toThrow(SyntaxError);
  });
});
