import { describe, expect, test } from "bun:test";
import { type PackageLock, runtimeSbom } from "./sbom.ts";

// A lock in npm's v3 shape: a nested copy, a dev-only package, an optional peer and a required one.
const lock: PackageLock = {
  packages: {
    "": {},
    "node_modules/web": {
      version: "1.0.0",
      license: "MIT",
      integrity: "sha512-AAEC",
      dependencies: { util: "^2.0.0" },
      peerDependencies: { types: "*", log: "*" },
      peerDependenciesMeta: { types: { optional: true } },
    },
    "node_modules/web/node_modules/util": { version: "2.1.0", license: "(MIT OR Apache-2.0)" },
    "node_modules/util": { version: "1.0.0" },
    "node_modules/log": { version: "3.0.0", dependencies: { util: "^1.0.0" } },
    "node_modules/types": { version: "9.0.0" },
    "node_modules/@scope/tool": { version: "0.1.0", resolved: "https://registry.npmjs.org/@scope/tool/-/tool-0.1.0.tgz" },
    "node_modules/devonly": { version: "4.0.0" },
  },
};
const manifest = { name: "app", version: "0.1.0", license: "MIT", dependencies: { web: "^1.0.0", "@scope/tool": "0.1.0" } };

describe("runtimeSbom", () => {
  const sbom = runtimeSbom(manifest, lock);
  const refs = sbom.components.map((c) => c["bom-ref"]);

  test("follows dependencies as Node resolves them: the nested copy for its parent, the top one for the others", () => {
    expect(refs).toEqual(["pkg:npm/%40scope/tool@0.1.0", "pkg:npm/log@3.0.0", "pkg:npm/util@1.0.0", "pkg:npm/util@2.1.0", "pkg:npm/web@1.0.0"]);
    const dependsOn = Object.fromEntries(sbom.dependencies.map((d) => [d.ref, d.dependsOn]));
    expect(dependsOn["pkg:npm/web@1.0.0"]).toEqual(["pkg:npm/log@3.0.0", "pkg:npm/util@2.1.0"]);
    expect(dependsOn["pkg:npm/log@3.0.0"]).toEqual(["pkg:npm/util@1.0.0"]);
    expect(dependsOn["pkg:npm/app@0.1.0"]).toEqual(["pkg:npm/%40scope/tool@0.1.0", "pkg:npm/web@1.0.0"]);
  });

  test("leaves out packages nothing at run time reaches, and optional peers", () => {
    expect(refs.some((ref) => ref.includes("devonly") || ref.includes("types"))).toBe(false);
  });

  test("names scope, licence, hash and download as CycloneDX does", () => {
    const [tool, , , util2, web] = sbom.components;
    expect(tool).toMatchObject({
      group: "@scope",
      name: "tool",
      externalReferences: [{ type: "distribution", url: expect.stringContaining("tool-0.1.0.tgz") }],
    });
    expect(web).toMatchObject({ name: "web", licenses: [{ license: { id: "MIT" } }], hashes: [{ alg: "SHA-512", content: "000102" }] });
    expect(util2!.licenses).toEqual([{ expression: "(MIT OR Apache-2.0)" }]);
    expect(sbom.metadata.component).toMatchObject({ type: "application", name: "app", version: "0.1.0", purl: "pkg:npm/app@0.1.0" });
  });

  test("a dependency missing from the lock is an error that says what to run", () => {
    expect(() => runtimeSbom({ ...manifest, dependencies: { absent: "1" } }, lock)).toThrow("run npm install");
  });
});
