import { defineCommand } from "../command.ts";
import { runtimeName, writeStdout } from "../runtime.ts";
import { sbomText } from "../sbom.ts";
import { commit, version } from "../version.ts";

/** `gists-api version`: the version, commit and runtime, or the bill of materials of the runtime dependencies. */
export default defineCommand({
  name: "version",
  usage: "gists-api version [--json | --sbom]",
  options: {
    json: { type: "boolean", description: "Print as JSON" },
    sbom: { type: "boolean", description: "Print the runtime dependencies as a CycloneDX 1.6 SBOM (JSON)" },
  },
  examples: ["gists-api version", "gists-api version --json", "gists-api version --sbom > sbom.cdx.json"],
  async run(values) {
    if (values.sbom) writeStdout(sbomText());
    else if (values.json) writeStdout(`${JSON.stringify({ version, commit, runtime: runtimeName })}\n`);
    else writeStdout(`gists-api ${version} (commit ${commit}, ${runtimeName})\n`);
    return 0;
  },
});
