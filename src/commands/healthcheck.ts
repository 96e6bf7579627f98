import { defineCommand } from "../command.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { environment, writeStderr } from "../runtime.ts";

/** `gists-api healthcheck`: a probe for images that have no curl. */
export default defineCommand({
  name: "healthcheck",
  usage: "gists-api healthcheck [--url URL] [--timeout-ms N]",
  options: {
    url: { type: "string", value: "url", description: "Probe URL (default http://127.0.0.1:$PORT/healthz)" },
    "timeout-ms": { type: "string", value: "ms", description: "Give up after this long (default 2000)" },
  },
  examples: ["gists-api healthcheck", "gists-api healthcheck --url http://127.0.0.1:9000/readyz"],
  async run(values) {
    let url = typeof values.url === "string" ? values.url : undefined;
    if (url === undefined) {
      try {
        url = `http://127.0.0.1:${loadConfig(environment()).port}/healthz`;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        writeStderr(`gists-api healthcheck: ${error.message}\n`);
        return 2;
      }
    }
    const timeoutMs = Number(values["timeout-ms"] ?? 2000);
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      writeStderr("gists-api healthcheck: --timeout-ms must be a positive whole number\n");
      return 2;
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (response.ok) return 0;
      writeStderr(`gists-api healthcheck: ${url} answered ${response.status}\n`);
    } catch (error) {
      writeStderr(`gists-api healthcheck: ${url} did not answer (${error instanceof Error ? error.message : error})\n`);
    }
    return 1;
  },
});
