import { readCappedBody } from "../http/capped-body.ts";

/** Thrown when GitHub sends more than the service accepts. */
export class BodyTooLarge extends Error {}

/** Reads a response body as text, refusing (BodyTooLarge) one over `maxBytes` before or while it arrives. */
export async function readCappedText(response: Response, maxBytes: number): Promise<string> {
  const length = response.headers.get("content-length");
  const declared = length === null ? Number.NaN : Number(length);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new BodyTooLarge();
  }
  // A declared length within the cap is read in one piece; only an undeclared one is counted chunk by chunk.
  if (Number.isFinite(declared) && response.headers.get("content-encoding") === null) return response.text();
  const body = await readCappedBody(response, maxBytes);
  if (body === undefined) throw new BodyTooLarge();
  return new TextDecoder().decode(body);
}

/**
 * How deep GitHub's JSON may nest. A list of gists is four levels deep (list, gist, files, file); 32 leaves room
 * for whatever GitHub adds, and stays far below where a recursive parser runs out of stack.
 */
export const maxJsonDepth = 32;

/** Thrown when a body nests deeper than the service parses. */
export class JsonTooDeep extends Error {}

/**
 * JSON.parse of a body whose nesting was first checked in one linear pass: a body nested past `maxDepth` is
 * refused (JsonTooDeep) before a parser recurses into it. Anything else that is not JSON throws SyntaxError.
 */
export function parseJsonWithin(text: string, maxDepth = maxJsonDepth): unknown {
  if (_nestsDeeperThan(text, maxDepth)) throw new JsonTooDeep(`nested deeper than ${maxDepth} levels`);
  return JSON.parse(text);
}

// Brackets inside strings do not count; an escape skips the character after it. Where the text stops being JSON,
// JSON.parse throws before it recurses any further, so the count only has to be right for valid JSON.
function _nestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (inString) {
      if (code === _BACKSLASH) at++;
      else if (code === _QUOTE) inString = false;
    } else if (code === _QUOTE) inString = true;
    else if (code === _OPEN_BRACKET || code === _OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (code === _CLOSE_BRACKET || code === _CLOSE_BRACE) depth--;
  }
  return false;
}

const _QUOTE = 34;
const _BACKSLASH = 92;
const _OPEN_BRACKET = 91;
const _CLOSE_BRACKET = 93;
const _OPEN_BRACE = 123;
const _CLOSE_BRACE = 125;
