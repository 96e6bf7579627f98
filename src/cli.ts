import { parseArgs } from "node:util";
import { commandHelp, usageError, type Command } from "./command.ts";
import { writeStderr, writeStdout } from "./runtime.ts";

// Each command is its own module, loaded only when asked for; its one-line summary lives here, so the root help
// lists every command without loading any.
const commands: Record<string, { summary: string; load: () => Promise<{ default: Command }> }> = {
  serve: { summary: "Serve the gists API over HTTP (the default command)", load: () => import("./commands/serve.ts") },
  version: { summary: "Print the version and the commit it was built from", load: () => import("./commands/version.ts") },
  healthcheck: {
    summary: "Exit 0 when a running service answers its liveness probe (for container HEALTHCHECK)",
    load: () => import("./commands/healthcheck.ts"),
  },
  export: { summary: "Write the Grafana dashboards or the Prometheus rules for this version", load: () => import("./commands/export.ts") },
  loadtest: { summary: "Load-test a running service: closed or open model, HDR percentiles, thresholds", load: () => import("./commands/loadtest.ts") },
};

export { usageError };

/** Runs the command line `argv` and returns the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "--help" || first === "-h" || first === "help") {
    writeStdout(rootHelp());
    return 0;
  }
  if (first === "--version" || first === "-v") return _run("version", []);
  if (first === undefined || first.startsWith("-")) return _run("serve", argv);
  if (!(first in commands)) {
    writeStderr(`gists-api: unknown command '${first}'. Run 'gists-api --help' to see the commands.\n`);
    return usageError;
  }
  return _run(first, rest);
}

/** The root help: commands and examples. */
export function rootHelp(): string {
  const lines = Object.entries(commands).map(([name, { summary }]) => `  ${name.padEnd(12)} ${summary}`);
  return [
    "gists-api: a GitHub user's public gists as paginated JSON, cached to spare GitHub's rate limit.",
    "",
    "Usage: gists-api [command] [options]",
    "",
    "Commands:",
    ...lines,
    "",
    "Examples:",
    "  gists-api                      # same as 'gists-api serve', on :8080",
    "  PORT=9000 gists-api serve",
    "  gists-api serve --help",
    "  gists-api version",
    "  gists-api export dashboards --out grafana/dashboards",
    "  gists-api loadtest --url http://127.0.0.1:8080/octocat --duration 10s --threshold 'p99<50ms'",
    "",
    "Run 'gists-api <command> --help' for a command's options.",
    "",
  ].join("\n");
}

async function _run(name: string, args: string[]): Promise<number> {
  const entry = commands[name];
  if (!entry) return usageError;
  const command = (await entry.load()).default;
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: command.subjects !== undefined,
    }) as typeof parsed;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    writeStderr(`gists-api ${name}: ${reason}\nRun 'gists-api ${name} --help' to see its options.\n`);
    return usageError;
  }
  if (parsed.values.help) {
    writeStdout(commandHelp(command, entry.summary));
    return 0;
  }
  if (command.subjects) {
    const [subject, ...extra] = parsed.positionals;
    if (!subject || !command.subjects.includes(subject) || extra.length > 0) {
      const given = parsed.positionals.length ? `'${parsed.positionals.join(" ")}'` : "nothing";
      writeStderr(`gists-api ${name}: expected one of ${command.subjects.join(", ")}, got ${given}.\nRun 'gists-api ${name} --help' for examples.\n`);
      return usageError;
    }
  }
  return command.run(parsed.values, parsed.positionals);
}
