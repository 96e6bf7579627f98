import { TypeCompiler } from "@sinclair/typebox/compiler";
import { gist as gistSchema, gistFile as gistFileSchema, type Gist, type GistFile } from "../modules/gists/model.ts";

/** GitHub's answer cannot be published as a page of gists; the client turns it into a 502. */
export class UnpublishableGists extends Error {}

// The published schemas (/swagger/json), compiled once: a gist that passes here is what the document describes.
const publishable = TypeCompiler.Compile(gistSchema);
const fieldRules = {
  description: TypeCompiler.Compile(gistSchema.properties.description),
  updatedAt: TypeCompiler.Compile(gistSchema.properties.updated_at),
  filename: TypeCompiler.Compile(gistFileSchema.properties.filename),
  language: TypeCompiler.Compile(gistFileSchema.properties.language),
  encoding: TypeCompiler.Compile(gistFileSchema.properties.encoding),
  truncated: TypeCompiler.Compile(gistFileSchema.properties.truncated),
};

// GitHub sends sizes as JSON numbers; a string of digits means the same number of bytes.
const wholeNumberText = /^\d{1,15}$/;

/**
 * GitHub's list of gists (parsed JSON) in the API's shape, each gist checked against the published schema.
 * Throws UnpublishableGists for anything that is not a list, for more gists than the page holds (GitHub did not
 * read the request as sent, so no slice of it is known to be the page asked for), and for a gist that fails the
 * schema after the field rules of `shapeGist`.
 */
export function shapeGists(parsed: unknown, perPage: number): Gist[] {
  if (!Array.isArray(parsed)) throw new UnpublishableGists("GitHub answered with JSON that is not a list of gists");
  if (parsed.length > perPage) throw new UnpublishableGists(`GitHub answered with ${parsed.length} gists for a page of ${perPage}`);
  return parsed.map((item, index) => {
    const shaped = shapeGist(item, index);
    if (publishable.Check(shaped)) return shaped;
    const problem = publishable.Errors(shaped).First();
    throw new UnpublishableGists(
      `GitHub answered with a gist that does not match the API's schema (item ${index}, ${_where(problem?.path ?? "")}: ${problem?.message})`,
    );
  });
}

/**
 * One gist in the API's shape. The field rules (README, "What GitHub may send"): `id`, `html_url`, `created_at`,
 * and each file's `type` and `raw_url` pass as sent, so a wrong one fails the schema (502); `description` and a
 * file's `language` that are not text become null; `updated_at`, `encoding` and `truncated` of the wrong type are
 * left out; a missing `filename` is the file's key; a `size` given as a string of digits is that number; a
 * file's `content` and fields GitHub adds are never passed on.
 */
export function shapeGist(item: unknown, index = 0): Gist {
  if (!_isObject(item)) throw new UnpublishableGists(`GitHub answered with an item that is not a gist (item ${index})`);
  if (!_isObject(item.files)) throw new UnpublishableGists(`GitHub answered with a gist whose files are not an object (item ${index})`);
  return {
    id: item.id as string,
    description: fieldRules.description.Check(item.description) ? item.description : null,
    url: item.html_url as string,
    created_at: item.created_at as string,
    updated_at: fieldRules.updatedAt.Check(item.updated_at) ? item.updated_at : undefined,
    files: _shapeFiles(item.files, index),
  };
}

// A null-prototype object: a file named "__proto__" is a key like any other, on every runtime.
function _shapeFiles(files: Record<string, unknown>, index: number): Record<string, GistFile> {
  const shaped: Record<string, GistFile> = Object.create(null);
  for (const [name, file] of Object.entries(files)) {
    if (!_isObject(file)) throw new UnpublishableGists(`GitHub answered with a file that is not an object (item ${index}, file ${_shown(name)})`);
    shaped[name] = _shapeFile(name, file);
  }
  return shaped;
}

// GitHub's documented fields in GitHub's order.
function _shapeFile(name: string, file: Record<string, unknown>): GistFile {
  const size = typeof file.size === "string" && wholeNumberText.test(file.size) ? Number(file.size) : file.size;
  const shaped: GistFile = {
    filename: fieldRules.filename.Check(file.filename) ? file.filename : name,
    type: file.type as string,
    language: fieldRules.language.Check(file.language) ? file.language : null,
    raw_url: file.raw_url as string,
    size: size as number,
  };
  if (fieldRules.encoding.Check(file.encoding)) shaped.encoding = file.encoding;
  if (fieldRules.truncated.Check(file.truncated)) shaped.truncated = file.truncated;
  return shaped;
}

function _isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// A schema path names file names GitHub chose: quoted and cut short in a message.
function _where(path: string): string {
  return path.length > 120 ? `${JSON.stringify(path.slice(0, 120))}...` : JSON.stringify(path);
}

function _shown(name: string): string {
  return JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}...` : name);
}
