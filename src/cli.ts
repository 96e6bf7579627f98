import { parseArgs, type ParseArgsConfig } from "node:util";
import { writeStderr, writeStdout } from "./runtime.ts";

/** The flags a command accepts, in node:util parseArgs form, each with a line of help. */
export type CommandOptions = Record<string, NonNullable<ParseArgsConfig["options"]>[string] & { description: string; value?: string }>;

/** One subcommand: its help text and what it does. `run` returns the exit code. */
export interface Command<O extends CommandOptions = CommandOptions> {
  name: string;
  summary: string;
  usage: string;
  options: O;
  /** The words a command takes after its name (e.g. `export dashboards`), when it takes any. */
  subjects?: readonly string[];
  examples: string[];
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

/** Declares a command (typed identity, as citty's defineCommand). */
export function defineCommand<O extends CommandOptions>(command: Command<O>): Command<O> {
  return command;
}

// Each command is its own module, loaded only when asked for.
const commands: Record<string, () => Promise<{ default: Command }>> = {
  serve: () => import("./commands/serve.ts"),
  version: () => import("./commands/version.ts"),
  healthcheck: () => import("./commands/healthcheck.ts"),
  export: () => import("./commands/export.ts"),
  loadtest: () => import("./commands/loadtest.ts"),
};

const summaries: Record<string, string> = {
  serve: "Serve the gists API over HTTP (the default command)",
  version: "Print the version and the commit it was built from",
  healthcheck: "Exit 0 when a running service answers its liveness probe (for container HEALTHCHECK)",
  export: "Write the Grafana dashboards or the Prometheus rules for this version",
  loadtest: "Load-test a running service: closed or open model, HDR percentiles, thresholds",
};

/** Exit code for a command line that cannot be understood. */
export const usageError = 2;

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
  const lines = Object.entries(summaries).map(([name, summary]) => `  ${name.padEnd(12)} ${summary}`);
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

/** The help text of one command. */
export function commandHelp(command: Command): string {
  const flags = Object.entries(command.options).map(([name, option]) => {
    const short = option.short ? `-${option.short}, ` : "    ";
    const value = option.type === "string" ? ` <${option.value ?? "value"}>` : "";
    return `  ${short}--${name}${value}`.padEnd(30) + ` ${option.description}`;
  });
  return [
    `gists-api ${command.name}: ${command.summary}`,
    "",
    `Usage: ${command.usage}`,
    "",
    "Options:",
    ...flags,
    `  -h, --help`.padEnd(30) + " Show this help",
    "",
    "Examples:",
    ...command.examples.map((example) => `  ${example}`),
    "",
  ].join("\n");
}

async function _run(name: string, args: string[]): Promise<number> {
  const load = commands[name];
  if (!load) return usageError;
  const command = (await load()).default;
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
    writeStdout(commandHelp(command));
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
