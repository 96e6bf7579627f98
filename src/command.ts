import type { ParseArgsConfig } from "node:util";

/** The flags a command accepts, in node:util parseArgs form, each with a line of help. */
export type CommandOptions = Record<string, NonNullable<ParseArgsConfig["options"]>[string] & { description: string; value?: string }>;

/** One subcommand: its help text and what it does. `run` returns the exit code; its summary is in the CLI's table. */
export interface Command<O extends CommandOptions = CommandOptions> {
  name: string;
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

/** Exit code for a command line that cannot be understood. */
export const usageError = 2;

/** The help text of one command. */
export function commandHelp(command: Command, summary: string): string {
  const names = Object.entries(command.options).map(([name, option]) => {
    const short = option.short ? `-${option.short}, ` : "    ";
    const value = option.type === "string" ? ` <${option.value ?? "value"}>` : "";
    return { flag: `  ${short}--${name}${value}`, description: option.description };
  });
  const help = { flag: "  -h, --help", description: "Show this help" };
  // One column for every description, however long the longest flag is.
  const width = Math.max(30, ...names.map(({ flag }) => flag.length + 2));
  const flags = [...names, help].map(({ flag, description }) => `${flag.padEnd(width)}${description}`);
  return [
    `gists-api ${command.name}: ${summary}`,
    "",
    `Usage: ${command.usage}`,
    "",
    "Options:",
    ...flags,
    "",
    "Examples:",
    ...command.examples.map((example) => `  ${example}`),
    "",
  ].join("\n");
}
