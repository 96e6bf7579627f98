import { expect, test } from "bun:test";
import { describeTargets, expectError, useStack } from "./stack.ts";

const badUsernames = ["a_b", "a.b", "a%2Fb", "a%20b", "a".repeat(40), "a--b", "-ab", "ab-", "-", "%C3%A9t%C3%A9"];
const badNumbers = ["0", "101", "1.5", "abc", "", "-1"];
const badFlags = ["yes", "1", "maybe", ""];

interface Answer {
  path: string;
  status: number;
  loc?: unknown;
}

describeTargets("request validation", (target) => {
  const s = useStack(target);

  async function answer(path: string): Promise<Answer> {
    const res = await s.request(path);
    if (res.status !== 422) return { path, status: res.status };
    const body = (await expectError(res, 422)) as { detail: Array<{ loc: unknown; msg: unknown; type: unknown }> };
    expect(Array.isArray(body.detail)).toBe(true);
    for (const problem of body.detail) {
      expect(typeof problem.msg).toBe("string");
      expect(typeof problem.type).toBe("string");
    }
    return { path, status: 422, loc: body.detail[0]?.loc };
  }

  test("a username that is not a GitHub login is 422 at path.username, with no upstream call", async () => {
    s.fake.clearRequests();
    const answers = [];
    for (const name of badUsernames) answers.push(await answer(`/${name}`));
    expect(answers).toEqual(badUsernames.map((name) => ({ path: `/${name}`, status: 422, loc: ["path", "username"] })));
    expect(s.fake.requestCount()).toBe(0);
  });

  test("page and per_page outside integers 1-100 are 422 at query.<name>, with no upstream call", async () => {
    s.fake.setUser("octocat", 5);
    s.fake.clearRequests();
    const expected: Answer[] = [];
    const answers: Answer[] = [];
    for (const name of ["page", "per_page"]) {
      for (const value of badNumbers) {
        const path = `/octocat?${name}=${value}`;
        expected.push({ path, status: 422, loc: ["query", name] });
        answers.push(await answer(path));
      }
    }
    expect(answers).toEqual(expected);
    expect(s.fake.requestCount()).toBe(0);
  });

  test("use_cache other than true/false is 422 at query.use_cache, with no upstream call", async () => {
    s.fake.setUser("octocat", 5);
    s.fake.clearRequests();
    const answers = [];
    for (const value of badFlags) answers.push(await answer(`/octocat?use_cache=${value}`));
    expect(answers).toEqual(badFlags.map((value) => ({ path: `/octocat?use_cache=${value}`, status: 422, loc: ["query", "use_cache"] })));
    expect(s.fake.requestCount()).toBe(0);
  });

  test("edge values that are valid are accepted", async () => {
    const logins = ["a", "a-b", "A1-b2-C3", "a".repeat(39), "0"];
    for (const login of logins) s.fake.setUser(login, 2);
    const paths = [...logins.map((login) => `/${login}`), "/a?page=100&per_page=100", "/a?page=1&per_page=1", "/a?use_cache=false", "/a?use_cache=true"];
    const answers = [];
    for (const path of paths) answers.push({ path, status: (await s.request(path)).status });
    expect(answers).toEqual(paths.map((path) => ({ path, status: 200 })));
  });

  test("nothing a client sends gets a 5xx", async () => {
    s.fake.setUser("octocat", 5);
    const odd: Array<[string, RequestInit?]> = [
      ["/%E0%A4%A"],
      ["/%00"],
      [`/${"a".repeat(5000)}`],
      ["/octocat?page=1&page=2"],
      ["/octocat?per_page=99999999999999999999"],
      ["/octocat?page=1e1"],
      ["/octocat?%zz=1"],
      ["/..%2F..%2Fetc%2Fpasswd"],
      ["/octocat", { method: "POST", body: "{not json" }],
      ["/octocat", { method: "PUT", body: "x" }],
      ["/octocat", { method: "DELETE" }],
      ["/health", { method: "POST" }],
      ["/cache", { method: "POST" }],
      ["/octocat", { headers: { "x-request-id": "x".repeat(8000) } }],
      ["/octocat", { headers: { accept: "text/html" } }],
      ["/octocat", { method: "HEAD" }],
      ["/octocat", { method: "OPTIONS" }],
      [`/octocat?${"a=1&".repeat(2000)}page=2`],
    ];
    const answers = [];
    for (const [path, init] of odd) {
      const res = await s.request(path, init);
      answers.push({ path: path.slice(0, 40), method: init?.method ?? "GET", serverError: res.status >= 500, status: res.status });
    }
    expect(answers.filter((a) => a.serverError)).toEqual([]);
  });
});
