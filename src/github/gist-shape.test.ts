import { describe, expect, test } from "bun:test";
import Ajv from "ajv";
import { gist as gistSchema } from "../modules/gists/model.ts";
import { shapeGist, shapeGists, UnpublishableGists } from "./gist-shape.ts";

/** A file as GitHub lists it. */
const githubFile = (name: string, extra: Record<string, unknown> = {}) => ({
  filename: name,
  type: "text/markdown",
  language: "Markdown",
  raw_url: `https://gist.githubusercontent.com/octo/abc/raw/0123/${name}`,
  size: 167,
  ...extra,
});

/** A gist as GitHub lists it, with the fields the API does not pass on. */
const githubGist = (extra: Record<string, unknown> = {}) => ({
  url: "https://api.github.com/gists/abc",
  id: "abc",
  html_url: "https://gist.github.com/abc",
  files: { "a.md": githubFile("a.md") },
  public: true,
  created_at: "2020-01-01T00:00:00Z",
  updated_at: "2020-02-01T00:00:00Z",
  description: "notes",
  comments: 0,
  owner: { login: "octo", id: 1 },
  ...extra,
});

// The schema as /swagger/json publishes it (JSON, symbols dropped), read by a validator of its own.
const published = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(JSON.stringify(gistSchema)));

/** The shaped gist, or the message it was refused with. */
function outcome(item: unknown): unknown {
  try {
    const [shaped] = shapeGists([item], 1);
    return JSON.parse(JSON.stringify(shaped));
  } catch (error) {
    if (error instanceof UnpublishableGists) return { refused: error.message };
    throw error;
  }
}

const withFile = (extra: Record<string, unknown>) => githubGist({ files: { "a.md": githubFile("a.md", extra) } });
const withoutFileField = (field: string) => {
  const file: Record<string, unknown> = githubFile("a.md");
  delete file[field];
  return githubGist({ files: { "a.md": file } });
};
const withoutField = (field: string) => {
  const item: Record<string, unknown> = githubGist();
  delete item[field];
  return item;
};

describe("shapeGists", () => {
  test("a gist as GitHub lists it: html_url as url, files keyed by name, no content and nothing GitHub adds", () => {
    const files = {
      "a.md": githubFile("a.md", { content: "x".repeat(2048), encoding: "utf-8", truncated: false, added_later: 1 }),
      "b.txt": githubFile("b.txt", { language: null, type: "text/plain" }),
    };
    const shaped = outcome(githubGist({ files }));
    expect(shaped).toEqual({
      id: "abc",
      description: "notes",
      url: "https://gist.github.com/abc",
      created_at: "2020-01-01T00:00:00Z",
      updated_at: "2020-02-01T00:00:00Z",
      files: {
        "a.md": { ...githubFile("a.md"), encoding: "utf-8", truncated: false },
        "b.txt": githubFile("b.txt", { language: null, type: "text/plain" }),
      },
    });
    expect(Object.keys((shaped as { files: Record<string, object> }).files["a.md"]!)).toEqual([
      "filename",
      "type",
      "language",
      "raw_url",
      "size",
      "encoding",
      "truncated",
    ]);
    expect(published(shaped)).toBe(true);
  });

  const refused = expect.objectContaining({ refused: expect.any(String) });
  test.each<[string, unknown, unknown]>([
    ["size as a string of digits is that number", withFile({ size: "12345" }), { size: 12345 }],
    ["size too big for a number (1e400 parses as Infinity)", withFile({ size: JSON.parse("1e400") }), refused],
    ["size negative", withFile({ size: -1 }), refused],
    ["size with a fraction", withFile({ size: 1.5 }), refused],
    ["size as other text", withFile({ size: "12 bytes" }), refused],
    ["size null", withFile({ size: null }), refused],
    ["size missing", withoutFileField("size"), refused],
    ["filename missing is the file's key", withoutFileField("filename"), { filename: "a.md" }],
    ["filename not text is the file's key", withFile({ filename: 42 }), { filename: "a.md" }],
    ["type missing", withoutFileField("type"), refused],
    ["type not text", withFile({ type: 5 }), refused],
    ["raw_url missing", withoutFileField("raw_url"), refused],
    ["language not text is null", withFile({ language: 5 }), { language: null }],
    ["language missing is null", withoutFileField("language"), { language: null }],
    ["encoding not text is left out", withFile({ encoding: 8 }), { encoding: undefined }],
    ["truncated not a boolean is left out", withFile({ truncated: "yes" }), { truncated: undefined }],
  ])("a file's %s", (_case, item, expected) => {
    const shaped = outcome(item) as { files?: Record<string, unknown>; refused?: string };
    if (expected === refused) {
      expect(shaped).toEqual(refused);
      expect(shaped.refused).toContain("item 0");
      return;
    }
    const file = shaped.files?.["a.md"] as Record<string, unknown>;
    for (const [field, value] of Object.entries(expected as Record<string, unknown>)) expect(file[field]).toEqual(value);
    expect(published(shaped)).toBe(true);
  });

  test.each<[string, unknown, unknown]>([
    ["description not text is null", githubGist({ description: { text: "x" } }), { description: null }],
    ["description missing is null", withoutField("description"), { description: null }],
    ["updated_at not text is left out", githubGist({ updated_at: 12345 }), { updated_at: undefined }],
    ["updated_at null is left out", githubGist({ updated_at: null }), { updated_at: undefined }],
    ["id missing", withoutField("id"), refused],
    ["id a number", githubGist({ id: 12 }), refused],
    ["html_url missing", withoutField("html_url"), refused],
    ["created_at a number", githubGist({ created_at: 12345 }), refused],
    ["files a list", githubGist({ files: ["a.md"] }), refused],
    ["files null", githubGist({ files: null }), refused],
    ["a file that is text", githubGist({ files: { "a.md": "hello" } }), refused],
    ["an item that is null", null, refused],
    ["an item that is a list", [githubGist()], refused],
  ])("a gist's %s", (_case, item, expected) => {
    const shaped = outcome(item) as Record<string, unknown>;
    if (expected === refused) return expect(shaped).toEqual(refused);
    for (const [field, value] of Object.entries(expected as Record<string, unknown>)) expect(shaped[field]).toEqual(value);
    expect(published(shaped)).toBe(true);
  });

  test("a list, at most a page of it: more gists than asked for, or no list, is refused", () => {
    const three = [githubGist({ id: "1" }), githubGist({ id: "2" }), githubGist({ id: "3" })];
    expect(shapeGists(three, 3).map((shaped) => shaped.id)).toEqual(["1", "2", "3"]);
    expect(shapeGists([], 30)).toEqual([]);
    expect(() => shapeGists(three, 2)).toThrow(new UnpublishableGists("GitHub answered with 3 gists for a page of 2"));
    expect(() => shapeGists({ message: "x" }, 30)).toThrow(UnpublishableGists);
  });

  test("file names __proto__, constructor and toString are keys like any other, in GitHub's order", () => {
    // Written as JSON text: an object literal with a "__proto__" key would set its prototype instead.
    const names = ["__proto__", "constructor", "a.md", "toString"];
    const files = `{${names.map((name) => `${JSON.stringify(name)}:${JSON.stringify(githubFile(name))}`).join(",")}}`;
    const body = `[${JSON.stringify(githubGist({ files: {} })).replace('"files":{}', `"files":${files}`)}]`;
    const [shaped] = shapeGists(JSON.parse(body), 30);
    expect(Object.keys(shaped!.files)).toEqual(names);
    expect(JSON.stringify(shaped!.files)).toBe(JSON.stringify(JSON.parse(body)[0].files));
    expect(Object.getPrototypeOf(shaped!.files)).toBeNull();
    expect(published(JSON.parse(JSON.stringify(shaped)))).toBe(true);
  });

  test("whatever GitHub sends in a gist's fields, the result passes the published schema or is refused", () => {
    // Seeded, so a failure replays: every field of a gist and of its file set to values of every JSON type.
    let seed = 20_261_207;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const values = [null, true, 0, -1, 1.5, 2 ** 60, JSON.parse("1e400"), "", "12", "x", [], ["a"], {}, { a: 1 }, undefined];
    const pick = () => values[Math.floor(random() * values.length)];
    const outcomes = { passed: 0, refused: 0 };
    for (let round = 0; round < 2000; round++) {
      const file: Record<string, unknown> = githubFile("a.md", { encoding: "utf-8", truncated: true });
      const item: Record<string, unknown> = githubGist({ files: { "a.md": file } });
      for (const target of [item, file]) {
        for (const field of Object.keys(target)) if (field !== "files" && random() < 0.2) target[field] = pick();
      }
      const shaped = outcome(item) as Record<string, unknown>;
      if ("refused" in shaped) outcomes.refused++;
      else {
        expect({ round, valid: published(shaped), errors: published.errors }).toEqual({ round, valid: true, errors: null });
        outcomes.passed++;
      }
    }
    expect(outcomes.passed).toBeGreaterThan(100);
    expect(outcomes.refused).toBeGreaterThan(100);
  });
});

describe("shapeGist", () => {
  test("keeps the API's field order, so bodies and ETags stay as they were", () => {
    expect(Object.keys(JSON.parse(JSON.stringify(shapeGist(githubGist()))))).toEqual(["id", "description", "url", "created_at", "updated_at", "files"]);
  });
});
