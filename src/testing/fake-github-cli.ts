import { parseArgs } from "node:util";
import type { startFakeGithub } from "./fake-github.ts";

const _USAGE = `Usage: npm run fake-github -- [--port N] [--host ADDR] [--user LOGIN=COUNT]... [--auto-users PREFIX=COUNT]

Runs a fake GitHub REST API (users, gists, ETags, rate-limit headers) until SIGINT/SIGTERM, so the service
can be tried and load-tested offline; drive it over HTTP under /_fake/.

  --port N                   port to listen on (default: a free one, printed at start)
  --host ADDR                address to listen on (default 127.0.0.1)
  --user LOGIN=COUNT         a user with COUNT public gists (repeatable)
  --auto-users PREFIX=COUNT  every login starting with PREFIX exists, with COUNT gists (e.g. user-=10)

Examples:
  npm run fake-github -- --port 9100 --user octocat=8 --user empty=0
  npm run fake-github -- --port 9100 --user octocat=30 --auto-users user-=10
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
        "auto-users": { type: "string" },
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
  let autoUsers: { prefix: string; gists: number } | undefined;
  if (values["auto-users"] !== undefined) {
    const [prefix, count] = values["auto-users"].split("=");
    if (!prefix || !/^\d+$/.test(count ?? "")) {
      console.error(`--auto-users takes PREFIX=COUNT (e.g. user-=10), got "${values["auto-users"]}"`);
      process.exit(2);
    }
    autoUsers = { prefix, gists: Number(count) };
  }
  const fake = await start({ port: Number(values.port), host: values.host, users, autoUsers });
  console.log(JSON.stringify({ msg: "listening", url: fake.url, users, ...(autoUsers ? { autoUsers } : {}) }));
  const stop = async () => {
    await fake.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
