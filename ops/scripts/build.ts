/** Builds dist/gists-api: one self-contained executable with the version, commit and SBOM baked in. */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { runtimeSbom } from "../../src/sbom.ts";

const commit = await _gitCommit();
const outfile = process.env.GISTS_API_OUTFILE ?? "dist/gists-api";
// The bill of materials ships beside the binary (and in the image), and inside it for `version --sbom`.
const sbom = `${JSON.stringify(runtimeSbom(pkg, JSON.parse(readFileSync("package-lock.json", "utf8"))), null, 2)}\n`;
const sbomFile = join(dirname(outfile), "sbom.cdx.json");
mkdirSync(dirname(outfile), { recursive: true });
writeFileSync(sbomFile, sbom);
const result = await Bun.build({
  entrypoints: ["src/main.ts"],
  compile: {
    outfile,
    // The binary must not pick up a .env or bunfig.toml from whatever directory it is started in.
    autoloadDotenv: false,
    autoloadBunfig: false,
  },
  // Whitespace and syntax only: renaming identifiers silently disables Elysia's query validation.
  minify: { whitespace: true, syntax: true, identifiers: false },
  bytecode: true,
  define: {
    __GISTS_API_VERSION__: JSON.stringify(pkg.version),
    __GISTS_API_COMMIT__: JSON.stringify(commit),
    __GISTS_API_SBOM__: JSON.stringify(sbom),
  },
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${outfile} (gists-api ${pkg.version}, commit ${commit}) and ${sbomFile}`);

async function _gitCommit(): Promise<string> {
  // Image builds have no .git: they pass the commit in.
  if (process.env.GISTS_API_COMMIT) return process.env.GISTS_API_COMMIT;
  try {
    const proc = Bun.spawn(["git", "rev-parse", "--short=12", "HEAD"], { stdout: "pipe", stderr: "ignore" });
    const text = (await new Response(proc.stdout).text()).trim();
    return (await proc.exited) === 0 && text ? text : "unknown";
  } catch {
    return "unknown";
  }
}
