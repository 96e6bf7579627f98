import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Spec, Validation } from "@cyclonedx/cyclonedx-library";
import pkg from "../../package.json" with { type: "json" };
import { repoRoot, runCli, targetsFromEnv } from "../testing/service.ts";

// `version --sbom` on the compiled binary prints the bill of materials the build embedded; from source (Deno) the
// same document is derived from the checkout's package-lock.json.
const lock = JSON.parse(readFileSync(`${repoRoot}package-lock.json`, "utf8")) as { packages: Record<string, { version?: string }> };
const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);

for (const target of targetsFromEnv()) {
  describe(`version --sbom [${target}]`, () => {
    test("prints a valid CycloneDX 1.6 document of the runtime dependencies at their locked versions, and no dev dependency", async () => {
      const result = await runCli(["version", "--sbom"], {}, { target, timeoutMs: 30_000 });
      expect(result.code).toBe(0);
      expect(await validator.validate(result.stdout)).toBeNull();
      const sbom = JSON.parse(result.stdout);
      expect(sbom.metadata.component).toMatchObject({ type: "application", name: pkg.name, version: pkg.version });
      const versions = new Map<string, string>(sbom.components.map((c: { group?: string; name: string; version: string }) => [_fullName(c), c.version]));
      for (const name of ["elysia", "ioredis", "prom-client", "@elysiajs/swagger", "@sinclair/typebox"]) {
        expect([name, versions.get(name)]).toEqual([name, lock.packages[`node_modules/${name}`]!.version]);
      }
      for (const name of Object.keys(pkg.dependencies)) expect(versions.has(name)).toBe(true);
      for (const name of ["typescript", "testcontainers", "bun", "deno", "@biomejs/biome", "secretlint"]) expect(versions.has(name)).toBe(false);
    });
  });
}

if (targetsFromEnv().includes("binary")) {
  test("the build writes the embedded bill of materials beside the binary", async () => {
    const result = await runCli(["version", "--sbom"]);
    expect(result.stdout).toBe(readFileSync(`${repoRoot}dist/sbom.cdx.json`, "utf8"));
  });
}

function _fullName(component: { group?: string; name: string }): string {
  return component.group ? `${component.group}/${component.name}` : component.name;
}
