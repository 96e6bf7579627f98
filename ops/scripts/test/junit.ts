/** Per-file results read from the JUnit XML that `bun test --reporter=junit` writes. */

/** How one test file did. */
export interface FileResult {
  file: string;
  tests: number;
  failures: number;
  skipped: number;
  seconds: number;
}

/** The per-file results of a JUnit report: its top-level `<testsuite>` elements, one per file. */
export function fileResults(xml: string): FileResult[] {
  const results = new Map<string, FileResult>();
  for (const [tag] of xml.matchAll(/<testsuite\s[^>]*>/g)) {
    const attrs = _attributes(tag);
    const file = attrs.get("file");
    // Nested describe blocks repeat the file; the first element of a file is its top-level suite.
    if (file === undefined || results.has(file)) continue;
    results.set(file, {
      file,
      tests: Number(attrs.get("tests") ?? 0),
      failures: Number(attrs.get("failures") ?? 0),
      skipped: Number(attrs.get("skipped") ?? 0),
      seconds: Number(attrs.get("time") ?? 0),
    });
  }
  return [...results.values()];
}

function _attributes(tag: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const [, name, value] of tag.matchAll(/([\w:-]+)="([^"]*)"/g)) attrs.set(name!, _unescape(value!));
  return attrs;
}

function _unescape(text: string): string {
  const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
  return text.replace(/&(#\d+|\w+);/g, (whole, code: string) => (code.startsWith("#") ? String.fromCharCode(Number(code.slice(1))) : (named[code] ?? whole)));
}
