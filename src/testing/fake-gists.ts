import { createHash } from "node:crypto";

/** One file of a fake gist, shaped like GitHub's gist file object. */
export interface FakeGistFile {
  filename: string;
  type: string;
  language: string | null;
  raw_url: string;
  size: number;
}

/** The owner object GitHub embeds in each gist. */
export interface FakeOwner {
  login: string;
  id: number;
  node_id: string;
  avatar_url: string;
  gravatar_id: string;
  url: string;
  html_url: string;
  gists_url: string;
  type: "User";
  site_admin: false;
}

/** A fake gist, shaped like an item of GitHub's `GET /users/{login}/gists`. */
export interface FakeGist {
  url: string;
  forks_url: string;
  commits_url: string;
  id: string;
  node_id: string;
  git_pull_url: string;
  git_push_url: string;
  html_url: string;
  files: Record<string, FakeGistFile>;
  public: boolean;
  created_at: string;
  updated_at: string;
  description: string | null;
  comments: number;
  user: null;
  comments_url: string;
  owner: FakeOwner;
  truncated: boolean;
}

/** GitHub's numeric user id for a login, stable across runs. */
export function fakeUserId(login: string): number {
  return Number.parseInt(_sha1(`user:${login.toLowerCase()}`).slice(0, 7), 16);
}

/** All gists of a user, newest first; gist k (0 = oldest) is the same whatever the count. */
export function fakeGists(login: string, count: number, apiBase: string): FakeGist[] {
  const owner = _owner(login, apiBase);
  const gists: FakeGist[] = [];
  for (let k = count - 1; k >= 0; k--) gists.push(_gist(owner, k, apiBase));
  return gists;
}

/** The `Last-Modified` value of a list: the newest `updated_at`, as an HTTP date. */
export function lastModified(gists: FakeGist[]): string {
  const newest = gists.reduce((max, g) => Math.max(max, Date.parse(g.updated_at)), _EPOCH);
  return new Date(newest).toUTCString();
}

/** A `Link` header as GitHub writes it (prev, next, last, first), or undefined when there is one page. */
export function linkHeader(pageUrl: URL, page: number, lastPage: number): string | undefined {
  const at = (n: number) => {
    const url = new URL(pageUrl);
    url.searchParams.set("page", String(n));
    return `<${url.toString()}>`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`${at(page - 1)}; rel="prev"`);
  if (page < lastPage) links.push(`${at(page + 1)}; rel="next"`, `${at(lastPage)}; rel="last"`);
  if (page > 1) links.push(`${at(1)}; rel="first"`);
  return links.length > 0 ? links.join(", ") : undefined;
}

/** An entity tag for a response body, weak (`W/"…"`) as GitHub sends for lists, or strong. */
export function entityTag(body: string, style: "weak" | "strong"): string {
  const tag = `"${createHash("sha256").update(body).digest("hex")}"`;
  return style === "weak" ? `W/${tag}` : tag;
}

/** Whether an `If-None-Match` value matches a tag, compared weakly as GitHub does. */
export function matchesEntityTag(ifNoneMatch: string | undefined, tag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = (t: string) => t.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((t) => t.trim() === "*" || opaque(t) === opaque(tag));
}

const _EPOCH = Date.UTC(2015, 0, 1);
const _FILE_KINDS = [
  { name: "hello_world.rb", type: "application/x-ruby", language: "Ruby" },
  { name: "README.md", type: "text/markdown", language: "Markdown" },
  { name: "main.ts", type: "video/MP2T", language: "TypeScript" },
  { name: "script.py", type: "application/x-python", language: "Python" },
  { name: "data.json", type: "application/json", language: "JSON" },
  { name: "café notes.txt", type: "text/plain", language: "Text" },
  { name: "Dockerfile", type: "text/plain", language: "Dockerfile" },
  { name: "install.sh", type: "application/x-sh", language: "Shell" },
  { name: ".env.example", type: "text/plain", language: null },
];

function _sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

function _githubTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function _owner(login: string, apiBase: string): FakeOwner {
  const id = fakeUserId(login);
  return {
    login,
    id,
    node_id: Buffer.from(`04:User${id}`).toString("base64"),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: "",
    url: `${apiBase}/users/${login}`,
    html_url: `https://github.com/${login}`,
    gists_url: `${apiBase}/users/${login}/gists{/gist_id}`,
    type: "User",
    site_admin: false,
  };
}

function _description(login: string, k: number): string | null {
  if (k % 5 === 0) return null;
  if (k % 7 === 3) return "";
  if (k % 11 === 4) return `Ünïcode ✓ "quoted" <b>tags</b> & more from ${login}`;
  return `${login}'s gist number ${k + 1}`;
}

function _gist(owner: FakeOwner, k: number, apiBase: string): FakeGist {
  const id = _sha1(`gist:${owner.login.toLowerCase()}:${k}`).slice(0, 32);
  const created = _EPOCH + k * 86_400_000 + k * 37 * 60_000;
  const files: Record<string, FakeGistFile> = {};
  for (let f = 0; f <= k % 3; f++) {
    const kind = _FILE_KINDS[(k + f * 4) % _FILE_KINDS.length]!;
    files[kind.name] = {
      filename: kind.name,
      type: kind.type,
      language: kind.language,
      raw_url: `https://gist.githubusercontent.com/${owner.login}/${id}/raw/${_sha1(`${id}${f}`)}/${encodeURIComponent(kind.name)}`,
      size: 40 + ((k * 97 + f * 13) % 4000),
    };
  }
  return {
    url: `${apiBase}/gists/${id}`,
    forks_url: `${apiBase}/gists/${id}/forks`,
    commits_url: `${apiBase}/gists/${id}/commits`,
    id,
    node_id: Buffer.from(`08:Gist${id}`).toString("base64"),
    git_pull_url: `https://gist.github.com/${id}.git`,
    git_push_url: `https://gist.github.com/${id}.git`,
    html_url: `https://gist.github.com/${id}`,
    files,
    public: true,
    created_at: _githubTime(created),
    updated_at: _githubTime(created + (k % 4) * 3_600_000),
    description: _description(owner.login, k),
    comments: k % 4,
    user: null,
    comments_url: `${apiBase}/gists/${id}/comments`,
    owner,
    truncated: false,
  };
}
