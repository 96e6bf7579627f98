import { runCli } from "./cli.ts";
import { commandLine, exit } from "./runtime.ts";

// Entry for `bun build --compile` and `deno run`: hand the command line to the CLI.
// No top-level await, so the build can ship precompiled bytecode.
void runCli(commandLine()).then(exit);
