/** The relations GitHub puts in a `Link` header, each with the page number its URL points at. */
export interface PageLinks {
  next?: number;
  prev?: number;
  first?: number;
  last?: number;
}

const linkPattern = /<([^>]*)>\s*((?:;\s*[^;,]+)*)/g;
const relPattern = /;\s*rel\s*=\s*"?([^";]+)"?/i;

/** Parses GitHub's `Link` header into the page numbers of next/prev/first/last; unknown or broken parts are ignored. */
export function parseLinkHeader(header: string | null | undefined): PageLinks {
  const links: PageLinks = {};
  if (!header) return links;
  for (const match of header.matchAll(linkPattern)) {
    const rels = relPattern.exec(match[2] ?? "")?.[1];
    const page = _pageOf(match[1] ?? "");
    if (!rels || page === undefined) continue;
    for (const rel of rels.trim().split(/\s+/)) {
      if (rel === "next" || rel === "prev" || rel === "first" || rel === "last") links[rel] = page;
    }
  }
  return links;
}

function _pageOf(url: string): number | undefined {
  try {
    const page = new URL(url, "http://link.invalid").searchParams.get("page");
    if (page === null) return 1;
    const number = Number(page);
    return Number.isInteger(number) && number > 0 ? number : undefined;
  } catch {
    return undefined;
  }
}
