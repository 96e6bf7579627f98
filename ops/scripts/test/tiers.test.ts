import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { fileResults } from "./junit.ts";
import { allTestFiles, misplacedFiles, resourcesOf, tierFiles, tierRules, tiersOf } from "./tiers.ts";

const root = new URL("../../../", import.meta.url).pathname;

describe("test tiers", () => {
  test("every test file of the repository runs in exactly one tier", () => {
    const files = allTestFiles(root);
    expect(files.length).toBeGreaterThan(50);
    expect(misplacedFiles(files)).toEqual([]);
  });

  test("a file in no tier, or in two, is reported", () => {
    expect(misplacedFiles(["k8s/render.test.ts", "loadtest/run.test.ts", "src/cache/policy.test.ts"])).toEqual([
      { file: "k8s/render.test.ts", tiers: [] },
      { file: "loadtest/run.test.ts", tiers: [] },
    ]);
    const overlapping = { ...tierRules, e2e: { ...tierRules.e2e, exclude: [] } };
    expect(misplacedFiles(["src/e2e/swagger.infra.test.ts"], overlapping)).toEqual([{ file: "src/e2e/swagger.infra.test.ts", tiers: ["e2e", "infra"] }]);
  });

  test("the rules place files by folder and name", () => {
    expect(tiersOf("src/cache/policy.test.ts")).toEqual(["unit"]);
    expect(tiersOf("ops/scripts/test/tiers.test.ts")).toEqual(["unit"]);
    expect(tiersOf("src/e2e/api.test.ts")).toEqual(["e2e"]);
    expect(tiersOf("src/e2e/swagger.infra.test.ts")).toEqual(["infra"]);
    expect(tiersOf("k8s/manifests.infra.test.ts")).toEqual(["infra"]);
  });

  test("the tests that build and run the image under podman hold podman, so they never run side by side", () => {
    const holders = allTestFiles(root).filter((file) => resourcesOf(root, file).includes("podman"));
    expect(holders).toEqual(["k8s/kube-play.infra.test.ts", "src/e2e/image.infra.test.ts"]);
  });

  test("no unit test starts the service, Deno or a tool from outside npm", () => {
    // What the black-box helpers and the other tiers' tools look like in a test's source.
    const outOfProcess =
      /\b(startService|runCli|ensureBinary|useStack|describeTargets|startPrometheus|startRedis|buildImage)\(|\.bin\/deno|\b(spawn|spawnSync|which)\(\[?["'`](promtool|prometheus|kubectl|podman|terraform|redis-server|chromium)["'`]|from "(playwright-core|testcontainers)"/;
    const offenders = tierFiles(root, "unit").filter((file) => outOfProcess.test(readFileSync(`${root}${file}`, "utf8")));
    expect(offenders).toEqual([]);
  });
});

describe("JUnit results", () => {
  test("one result per file, from its top-level suite, with names unescaped", () => {
    const xml = `<testsuites>
  <testsuite name="a" file="src/a&amp;b.test.ts" tests="3" failures="1" skipped="1" time="0.5">
    <testsuite name="inner" file="src/a&amp;b.test.ts" tests="2" failures="0" skipped="0" time="0"></testsuite>
  </testsuite>
  <testsuite name="c" file="src/c.test.ts" tests="1" failures="0" skipped="0" time="0.01"></testsuite>
</testsuites>`;
    expect(fileResults(xml)).toEqual([
      { file: "src/a&b.test.ts", tests: 3, failures: 1, skipped: 1, seconds: 0.5 },
      { file: "src/c.test.ts", tests: 1, failures: 0, skipped: 0, seconds: 0.01 },
    ]);
  });
});
