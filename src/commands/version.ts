import { defineCommand } from "../command.ts";
import { runtimeName, writeStdout } from "../runtime.ts";
import { commit, version } from "../version.ts";

/** `gists-api version`: the version, commit and runtime. */
export default defineCommand({
  name: "version",
  usage: "gists-api version [--json]",
  options: { json: { type: "boolean", description: "Print as JSON" } },
  examples: ["gists-api version", "gists-api version --json"],
  async run(values) {
    if (values.json) writeStdout(`${JSON.stringify({ version, commit, runtime: runtimeName })}\n`);
    else writeStdout(`gists-api ${version} (commit ${commit}, ${runtimeName})\n`);
    return 0;
  },
});
