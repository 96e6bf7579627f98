/**
 * `npm run scenario -- NAME [--url URL] [--duration 10s] [--connections N] [--json]`: runs one scenario of
 * loadtest/ and exits 0 when it passed, 1 when a check failed, 2 on bad flags or an unknown name.
 */
import { readdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { scenarioFlags, type Scenario } from "./scenario.ts";

const _SHARED = new Set(["run.ts", "scenario.ts"]);
const names = readdirSync(new URL(".", import.meta.url))
  .filter((file) => file.endsWith(".ts") && !_SHARED.has(file) && !file.endsWith(".test.ts"))
  .map((file) => file.slice(0, -3))
  .sort();

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: "string" },
      duration: { type: "string" },
      connections: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
} catch (error) {
  _usage((error as Error).message);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(await _list());
  process.exit(0);
}
const name = positionals[0];
if (positionals.length !== 1 || name === undefined || !names.includes(name)) {
  _usage(name === undefined ? "name a scenario" : positionals.length > 1 ? "name one scenario" : `no scenario named '${name}'`);
}
const scenario = (await import(`./${name}.ts`)).default as Scenario;
let flags;
try {
  flags = scenarioFlags(values, scenario);
} catch (error) {
  _usage((error as Error).message);
}
await scenario.run(flags);

async function _list(): Promise<string> {
  const lines = ["Usage: npm run scenario -- NAME [--url URL] [--duration 10s] [--connections 32] [--json]", "", "Scenarios:"];
  for (const each of names) {
    const { summary, defaultDuration } = (await import(`./${each}.ts`)).default as Scenario;
    lines.push(`  ${each.padEnd(16)} ${summary} (default --duration ${defaultDuration})`);
  }
  lines.push("", "--url is the service's base URL (default http://127.0.0.1:8080); see loadtest/README.md.");
  return lines.join("\n");
}

function _usage(message: string): never {
  console.error(`scenario: ${message}\nScenarios: ${names.join(", ")}. Run 'npm run scenario -- --help' for the options.`);
  process.exit(2);
}
