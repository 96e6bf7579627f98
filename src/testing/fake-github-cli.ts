import { parseArgs } from "node:util";
import { parseSecondaryLimit, type SecondaryLimit } from "./fake-faults.ts";
import type { startFakeGithub } from "./fake-github.ts";

const _USAGE = `Usage: npm run fake-github -- [--port N] [--host ADDR] [--user LOGIN=COUNT]... [--auto-users PREFIX=COUNT]
                             [--rate-limit LIMIT[/SECONDS]] [--secondary STATUS[,retry-after=V][,remaining=N][,times=N]]

Runs a fake GitHub REST API (users, gists, ETags, rate-limit headers) until SIGINT/SIGTERM, so the service
can be tried and load-tested offline; drive it over HTTP under /_fake/.

  --port N                   port to listen on (default: a free one, printed at start)
  --host ADDR                address to listen on (default 127.0.0.1)
  --user LOGIN=COUNT         a user with COUNT public gists (repeatable)
  --auto-users PREFIX=COUNT  every login starting with PREFIX exists, with COUNT gists (e.g. user-=10)
  --rate-limit LIMIT[/SECONDS]
                             the primary window: LIMIT requests (default 5000), refilled every SECONDS once
                             its reset passes (default: an hour, never refilled); spent: 403 "API rate limit exceeded"
  --secondary STATUS[,retry-after=V][,remaining=N][,times=N]
                             answer every request with GitHub's secondary limit: STATUS 403 or 429; retry-after V
                             (seconds or an HTTP date; none by default); x-ratelimit-remaining N instead of the
                             window's (0: the spent-window form); only the next N requests with times=N

Examples:
  npm run fake-github -- --port 9100 --user octocat=8 --user empty=0
  npm run fake-github -- --port 9100 --user octocat=30 --auto-users user-=10
  npm run fake-github -- --port 9100 --auto-users user-=10 --rate-limit 100/60 --secondary 429,retry-after=30,times=5
  curl -X POST localhost:9100/_fake/secondary-limit -d '{"status":403,"remaining":0,"times":3}'
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
        "rate-limit": { type: "string" },
        secondary: { type: "string" },
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
  let rateLimit: { limit: number; windowSeconds?: number } | undefined;
  if (values["rate-limit"] !== undefined) {
    const match = /^(\d+)(?:\/(\d+))?$/.exec(values["rate-limit"]);
    if (!match || Number(match[2] ?? 1) < 1) _exit(`--rate-limit takes LIMIT or LIMIT/SECONDS (e.g. 100/60), got "${values["rate-limit"]}"`);
    rateLimit = { limit: Number(match[1]), ...(match[2] === undefined ? {} : { windowSeconds: Number(match[2]) }) };
  }
  let secondaryLimit: (SecondaryLimit & { times?: number }) | undefined;
  if (values.secondary !== undefined) {
    try {
      secondaryLimit = _secondaryLimit(values.secondary);
    } catch (error) {
      _exit(`--secondary takes STATUS[,retry-after=V][,remaining=N][,times=N] (e.g. 429,retry-after=30): ${(error as Error).message}`);
    }
  }
  const fake = await start({ port: Number(values.port), host: values.host, users, autoUsers, rateLimit, secondaryLimit });
  console.log(JSON.stringify({ msg: "listening", url: fake.url, users, ...(autoUsers ? { autoUsers } : {}) }));
  const stop = async () => {
    await fake.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

function _exit(message: string): never {
  console.error(message);
  process.exit(2);
}

// "429,retry-after=30,remaining=0,times=5": a status, then named parts in any order.
function _secondaryLimit(spec: string): SecondaryLimit & { times?: number } {
  const [status, ...parts] = spec.split(",");
  const limit: SecondaryLimit & { times?: number } = { status: Number(status) as 403 | 429 };
  for (const part of parts) {
    const at = part.indexOf("=");
    const [name, value] = [part.slice(0, at), part.slice(at + 1)];
    if (at < 1) throw new Error(`"${part}" is not NAME=VALUE`);
    else if (name === "retry-after") limit.retryAfter = /^\d+$/.test(value) ? Number(value) : value;
    else if (name === "remaining") limit.remaining = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    else if (name === "times") limit.times = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    else throw new Error(`unknown part "${name}"`);
  }
  return parseSecondaryLimit(limit);
}
