import { runCli } from "./cli.ts";
import { commandLine, exit } from "./runtime.ts";

// Entry for `bun build --compile` and `deno run`: hand the command line to the CLI.
exit(await runCli(commandLine()));
