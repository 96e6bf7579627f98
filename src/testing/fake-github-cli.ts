import { parseArgs } from "node:util";
import type { startFakeGithub } from "./fake-github.ts";

const _USAGE = `Usage: bun src/testing/fake-github.ts [--port N] [--host ADDR] [--user LOGIN=COUNT]...

Runs the fake GitHub REST API until SIGINT/SIGTERM; drive it over HTTP under /_fake/.

Examples:
  bun src/testing/fake-github.ts --port 9100 --user octocat=8 --user empty=0
  curl -X POST localhost:9100/_fake/fault -d '{"login":"*","fault":{"kind":"latency","ms":200}}'`;

/** Run the fake GitHub as a standalone process (load-test scenarios, manual poking). */
export async function runFakeGithubCli(argv: string[], start: typeof startFakeGithub): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string", default: "0" },
        host: { type: "string", default: "127.0.0.1" },
        user: { type: "string", multiple: true, default: [] },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${_USAGE}`);
    process.exit(2);
  }
  if (values.help) return void console.log(_USAGE);
  const users: Record<string, number> = {};
  for (const spec of values.user) {
    const [login, count] = spec.split("=");
    if (!login || !/^\d+$/.test(count ?? "")) {
      console.error(`--user takes LOGIN=COUNT, got "${spec}"`);
      process.exit(2);
    }
    users[login] = Number(count);
  }
  const fake = await start({ port: Number(values.port), host: values.host, users });
  console.log(JSON.stringify({ msg: "listening", url: fake.url, users }));
  const stop = async () => {
    await fake.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
