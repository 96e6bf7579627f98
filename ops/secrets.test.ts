import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../src/testing/service.ts";

// `npm run secrets` scans the tree with the repository's .secretlintrc.json; this proves that configuration
// catches a real-looking credential, built here at run time so that this file holds none.
const scratch = mkdtempSync(join(tmpdir(), "gists-secrets-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("secret scan", () => {
  test("a GitHub token in a file fails the scan, named by rule and file, with the value masked", async () => {
    const token = `ghp_${"Zq8Lm2Xv".repeat(4)}Ab3d`;
    const file = join(scratch, "deploy.env");
    writeFileSync(file, `GITHUB_TOKEN=${token}\n`);
    const { code, output } = await _secretlint(file);
    expect(code).toBe(1);
    expect(output).toContain("deploy.env");
    expect(output).toContain("secretlint-rule-github");
    expect(output).not.toContain(token);
  });

  test("the fixtures' placeholder tokens are not credentials and pass", async () => {
    const file = join(scratch, "fixture.ts");
    writeFileSync(file, `const githubToken = "ghp_securitySuiteGithubToken0123456789ABCD";\nconst admin = "e2e-admin-token-42";\n`);
    expect(await _secretlint(file)).toMatchObject({ code: 0 });
  });
});

async function _secretlint(file: string): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn([`${repoRoot}node_modules/.bin/secretlint`, "--maskSecrets", "--secretlintrc", `${repoRoot}.secretlintrc.json`, file], {
    cwd: repoRoot,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, output: out + err };
}
