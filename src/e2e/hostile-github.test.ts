import type { ValidateFunction } from "ajv";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeGithub, type FakeGist, type FakeGithub, type Fault } from "../testing/fake-github.ts";
import { fakeUserId } from "../testing/fake-gists.ts";
import { startService, targetsFromEnv, type RunningService } from "../testing/service.ts";
import { gistsPageValidator, violationsOf } from "./published-schema.ts";
import { describeTargets, freshLogin, useStack, type Stack } from "./stack.ts";

// A GitHub that answers with anything: wrong field types, too many gists, a nesting bomb, a 304 nobody asked
// for, redirects to another host. Whatever it sends, an answer is 200 with a body that passes /swagger/json, or
// the documented 502; nothing wrong is cached, and once GitHub is right again the next answer is right too.

/** The API's shape of a gist as the fake serves it. */
function shaped(gist: FakeGist) {
  const { id, description, html_url: url, created_at, updated_at, files } = gist;
  return { id, description, url, created_at, updated_at, files };
}

/** A user's first page of gists as GitHub sends them, parsed (a copy to change). */
function firstPage(s: Stack, login: string): any[] {
  return JSON.parse(JSON.stringify(s.fake.gists(login).slice(0, 30)));
}

/** A user's first page as GitHub's JSON text, after `change` altered the parsed gists. */
function editedPage(s: Stack, login: string, change: (gists: any[]) => void): string {
  const gists = firstPage(s, login);
  change(gists);
  return JSON.stringify(gists);
}

/** The first file of a page's first gist. */
const firstFile = (gists: any[]): Record<string, unknown> => Object.values(gists[0].files)[0] as Record<string, unknown>;

/** One answer of the service, read whole. */
async function ask(s: Stack, path: string): Promise<{ status: number; xCache: string | null; text: string; body: any }> {
  const res = await s.request(path);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, xCache: res.headers.get("x-cache"), text, body };
}

describeTargets("whatever GitHub answers", (target) => {
  // The breaker is not what is tested here: a failing case must not close GitHub to the cases after it.
  const s = useStack(target, { BREAKER_THRESHOLD: "10000" });
  let validate: ValidateFunction;
  let elsewhere: FakeGithub;
  beforeAll(async () => {
    validate = await gistsPageValidator(s);
    elsewhere = await startFakeGithub();
  });
  afterAll(async () => {
    await elsewhere?.close();
  });

  /**
   * GitHub answers `fault` twice for a new user: both requests reach GitHub (a 502 is never cached) and both
   * are 502 with the given detail; then GitHub is right again and the next answer is its data, fetched now.
   */
  async function expectRefusedTwiceThenRight(prepare: (login: string) => Fault, detail: string | RegExp): Promise<void> {
    const login = freshLogin("hostile");
    s.fake.setUser(login, 3);
    s.fake.setFault(login, { ...prepare(login), times: 2 });
    for (const attempt of [1, 2]) {
      const answer = await ask(s, `/${login}`);
      expect({ attempt, status: answer.status, requestId: typeof answer.body.request_id }).toEqual({ attempt, status: 502, requestId: "string" });
      expect(answer.body.detail).toMatch(detail);
      expect(s.fake.requestCount(login)).toBe(attempt);
    }
    await expectRightAgain(login);
  }

  /** The next answer is GitHub's current data, fetched now, and it passes the published schema. */
  async function expectRightAgain(login: string): Promise<void> {
    const before = s.fake.requestCount(login);
    const answer = await ask(s, `/${login}`);
    expect({ status: answer.status, xCache: answer.xCache, violations: violationsOf(validate, answer.body) }).toEqual({
      status: 200,
      xCache: "MISS",
      violations: "",
    });
    expect(answer.body.data).toEqual(s.fake.gists(login).map(shaped));
    expect(s.fake.requestCount(login)).toBe(before + 1);
  }

  /** GitHub answers `body` once: the service's 200 passes the schema and is what is cached (a HIT repeats it). */
  async function expectServedAs(body: (login: string) => string): Promise<any> {
    const login = freshLogin("odd");
    s.fake.setUser(login, 3);
    s.fake.setFault(login, { kind: "answer", status: 200, body: body(login), times: 1 });
    const miss = await ask(s, `/${login}`);
    expect({ status: miss.status, xCache: miss.xCache, violations: violationsOf(validate, miss.body) }).toEqual({
      status: 200,
      xCache: "MISS",
      violations: "",
    });
    const hit = await ask(s, `/${login}`);
    expect({ status: hit.status, xCache: hit.xCache, data: hit.body.data }).toEqual({ status: 200, xCache: "HIT", data: miss.body.data });
    return miss.body.data;
  }

  const answer = (status: number, body?: string, headers?: Record<string, string>): Fault => ({ kind: "answer", status, body, headers });

  test("a size given as a string of digits is that number; other wrong optional fields are left out or null", async () => {
    const data = await expectServedAs((login) =>
      editedPage(s, login, (gists) => {
        const first = firstFile(gists);
        first.size = "12345";
        delete first.filename;
        first.language = 7;
        gists[0].updated_at = 12345;
        gists[1].description = { text: "not text" };
      }),
    );
    const [first] = Object.entries(data[0].files) as [string, any][];
    expect(first![1]).toMatchObject({ filename: first![0], size: 12345, language: null });
    expect(data[0].updated_at).toBeUndefined();
    expect(data[1].description).toBeNull();
  });

  // Each: what GitHub's 200 body is (for a user with 3 gists), and what the 502's detail says.
  const refusedBodies: Array<[string, (login: string) => string, string | RegExp]> = [
    ["a size of 1e400", (login) => editedPage(s, login, (gists) => void (firstFile(gists).size = 1e300)).replace("1e+300", "1e400"), /size": Expected integer/],
    ["a size of text", (login) => editedPage(s, login, (gists) => void (firstFile(gists).size = "12 KB")), /size": Expected integer/],
    ["a negative size", (login) => editedPage(s, login, (gists) => void (firstFile(gists).size = -1)), /size": Expected integer to be greater or equal to 0/],
    ["a missing size", (login) => editedPage(s, login, (gists) => void delete firstFile(gists).size), /size/],
    ["a file without its type", (login) => editedPage(s, login, (gists) => void delete firstFile(gists).type), /type/],
    ["a file that is not an object", (login) => editedPage(s, login, (gists) => void (gists[0].files["x.txt"] = "x")), /file that is not an object/],
    ["a gist without its id", (login) => editedPage(s, login, (gists) => void delete gists[1].id), /item 1, .*id/],
    ["a numeric created_at", (login) => editedPage(s, login, (gists) => void (gists[0].created_at = 12345)), /created_at/],
    ["an item that is not a gist", (login) => JSON.stringify([...firstPage(s, login), "not a gist"]), /item 3/],
    [
      "500 gists for per_page=30",
      (login) => JSON.stringify(Array.from({ length: 500 }, (_, index) => ({ ...firstPage(s, login)[0], id: `g${index}` }))),
      "GitHub answered with 500 gists for a page of 30; try again later",
    ],
    [
      "JSON nested 100,000 levels inside a file field",
      (login) => editedPage(s, login, (gists) => void (firstFile(gists).filename = "BOMB")).replace('"BOMB"', `${"[".repeat(100_000)}${"]".repeat(100_000)}`),
      "GitHub answered with JSON nested deeper than 32 levels; try again later",
    ],
  ];

  test.each(refusedBodies)("%s is a 502, never cached", async (_case, body, detail) => {
    await expectRefusedTwiceThenRight((login) => answer(200, body(login)), detail);
  });

  test("a 304 to a request that sent no validators is a 502", async () => {
    await expectRefusedTwiceThenRight(() => answer(304), "GitHub answered 304 Not Modified to a request that sent no validators; try again later");
  });

  test("a redirect to another host is a 502 naming it: the other host hears nothing and its answer is never cached", async () => {
    for (const status of [301, 302, 307, 308]) {
      await expectRefusedTwiceThenRight(
        (login) => answer(status, undefined, { location: `${elsewhere.url}/users/${login}/gists?page=1&per_page=30` }),
        `GitHub redirected to ${elsewhere.url}, outside GITHUB_API_URL (${s.fake.url}); not followed; try again later`,
      );
    }
    expect(elsewhere.requestCount()).toBe(0);
  });

  test("a redirect within GitHub's origin is followed; a loop of them is a 502", async () => {
    const login = freshLogin("moved");
    s.fake.setUser(login, 3);
    s.fake.setFault(login, { ...answer(301, undefined, { location: `/user/${fakeUserId(login)}/gists?page=1&per_page=30` }), times: 1 });
    const moved = await ask(s, `/${login}`);
    expect({ status: moved.status, violations: violationsOf(validate, moved.body) }).toEqual({ status: 200, violations: "" });
    expect(moved.body.data).toEqual(s.fake.gists(login).map(shaped));
    const looping = freshLogin("loop");
    s.fake.setUser(looping, 3);
    s.fake.setFault(looping, answer(302, undefined, { location: `/users/${looping}/gists?page=1&per_page=30` }));
    for (const attempt of [1, 2]) {
      const answered = await ask(s, `/${looping}`);
      expect({ attempt, status: answered.status, detail: answered.body.detail }).toEqual({
        attempt,
        status: 502,
        detail: "GitHub redirected more than 3 times; try again later",
      });
      expect(s.fake.requestCount(looping)).toBe(attempt * 4);
    }
    s.fake.setFault(looping, null);
    await expectRightAgain(looping);
  });

  test("a hostile answer to a refresh never replaces the good copy held", async () => {
    const login = freshLogin("held");
    s.fake.setUser(login, 3);
    const good = await ask(s, `/${login}`);
    expect([good.status, good.xCache]).toEqual([200, "MISS"]);
    const hostile = [
      answer(
        200,
        editedPage(s, login, (gists) => ((Object.values(gists[0].files)[0] as any).size = -1)),
      ),
      answer(301, undefined, { location: `${elsewhere.url}/users/${login}/gists` }),
    ];
    for (const fault of hostile) {
      s.fake.setFault(login, { ...fault, times: 1 });
      // use_cache=false always asks GitHub and stores what it got: here, nothing.
      expect((await ask(s, `/${login}?use_cache=false`)).status).toBe(502);
      const held = await ask(s, `/${login}`);
      expect({ status: held.status, xCache: held.xCache, text: held.text }).toEqual({
        status: 200,
        xCache: "HIT",
        text: good.text.replace('"hit":false', '"hit":true'),
      });
    }
  });
});

describe("file names no runtime treats specially", () => {
  const services: RunningService[] = [];
  let fake: FakeGithub;
  const login = "special-names";
  // Written as JSON text: an object literal with a "__proto__" key would set its prototype instead.
  const names = ["__proto__", "a.md", "constructor", "toString", "z.txt"];

  beforeAll(async () => {
    fake = await startFakeGithub({ users: { [login]: 1 } });
    const [gist] = JSON.parse(JSON.stringify(fake.gists(login)));
    const file = gist.files[Object.keys(gist.files)[0]!];
    const files = names.map((name) => `${JSON.stringify(name)}:${JSON.stringify({ ...file, filename: name })}`).join(",");
    const body = `[${JSON.stringify({ ...gist, files: {} }).replace('"files":{}', `"files":{${files}}`)}]`;
    fake.setFault(login, { kind: "answer", status: 200, body, headers: { etag: '"special"' } });
    for (const target of targetsFromEnv()) services.push(await startService({ target, env: { GITHUB_API_URL: fake.url } }));
  });
  afterAll(async () => {
    for (const service of services) await service.stop();
    await fake?.close();
  });

  test("__proto__, constructor and toString are files like any other: one body and ETag on every runtime", async () => {
    const answers = [];
    for (const service of services) {
      const res = await fetch(`${service.url}/${login}`);
      const text = await res.text();
      const validate = await gistsPageValidator({ request: (path) => fetch(`${service.url}${path}`) });
      answers.push({ target: service.target, status: res.status, etag: res.headers.get("etag"), text, violations: violationsOf(validate, JSON.parse(text)) });
    }
    for (const answer of answers) {
      expect({ target: answer.target, status: answer.status, violations: answer.violations }).toEqual({ target: answer.target, status: 200, violations: "" });
      expect(Object.keys(JSON.parse(answer.text).data[0].files)).toEqual(names);
    }
    expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
    expect(new Set(answers.map((answer) => answer.etag)).size).toBe(1);
  });
});
