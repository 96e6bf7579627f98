/**
 * The budget benchmark: how a deployment spends a small GitHub budget under a realistic mix, with fixed TTLs and
 * with the budget-aware settings (CACHE_ADAPTIVE and CLIENT_GITHUB_SHARE), one after the other in one run.
 *
 * The fake GitHub grants a small primary window that the benchmark renews as GitHub would, and refuses with a
 * secondary limit (403 with `retry-after`) when more than a set number of requests arrive within a few seconds.
 * Well-behaved clients ask for a zipf population in which some users add gists as the run goes (their
 * pages change), while one client scans users nobody asked for before.
 */
import { startFakeGithub, type FakeGithub } from "../../../src/testing/fake-github.ts";
import { startBinary, zipfSampler } from "./lib.ts";

/** What the budget section measures with. */
export interface BudgetOptions {
  /** Seconds each mode runs. */
  seconds: number;
}

// The mix: a population of users, a tenth of whom change every few seconds, well-behaved clients asking for them
// by zipf, and one scanner asking for a new user at a steady pace.
const population = 300;
const changers = 30;
const changeEveryMs = 4_000;
const wellBehaved = 8;
const wellBehavedEveryMs = 25;
const scannerEveryMs = 40;
// GitHub as the fake plays it: a primary window of `limit` calls renewed every `windowSeconds`, and a secondary
// limit of `burst` requests within `burstWindowMs`, answered with `retry-after: 5`.
const primary = { limit: 400, windowSeconds: 20 };
const secondary = { burst: 300, burstWindowMs: 3_000, retryAfter: 5 };

// A client's share of the window: the scanner's spend is held to it; each well-behaved client's first looks at
// the population fit in it.
const clientShare = 0.2;

const modes = [
  { name: "fixed TTLs", env: { CACHE_ADAPTIVE: "false", CLIENT_GITHUB_SHARE: "0" } },
  { name: "budget-aware", env: { CACHE_ADAPTIVE: "true", CLIENT_GITHUB_SHARE: String(clientShare) } },
] as const;

/** One mode's figures. */
interface ModeResult {
  name: string;
  wellBehavedOk: number;
  wellBehavedTotal: number;
  answers: number;
  githubCalls: number;
  chargedCalls: number;
  exhaustedAfterS: number | undefined;
  windowsExhausted: number;
  scannerCharged: number;
  secondaryLimits: number;
  statuses: Map<number, number>;
}

/** The budget rows of the benchmark table. */
export async function budgetComparison(options: BudgetOptions): Promise<string[][]> {
  const results: ModeResult[] = [];
  for (const mode of modes) {
    results.push(await _runMode(mode, options.seconds));
    const last = results.at(-1)!;
    console.error(`budget, ${mode.name}: ${_summary(last)}`);
  }
  const [fixed, aware] = results as [ModeResult, ModeResult];
  const cell = (pick: (result: ModeResult) => string) => `${pick(fixed)} / ${pick(aware)}`;
  const setting = `${population} users (${changers} adding a gist every ${changeEveryMs / 1000} s), ${wellBehaved} clients asking by zipf (s = 1.1) every ${wellBehavedEveryMs} ms each, one client scanning new users every ${scannerEveryMs} ms; GitHub: ${primary.limit} calls per ${primary.windowSeconds} s window, a secondary limit past ${secondary.burst} requests in ${secondary.burstWindowMs / 1000} s; CACHE_TTL=2, ${options.seconds} s per mode`;
  return [
    [`budget, ${setting}: fixed TTLs / budget-aware (CACHE_ADAPTIVE, CLIENT_GITHUB_SHARE=${clientShare})`, "", ""],
    [
      "share of the well-behaved clients' requests answered 200",
      cell((r) => `${_percent(r.wellBehavedOk / r.wellBehavedTotal)} of ${r.wellBehavedTotal}`),
      "budget-aware higher",
    ],
    [
      "GitHub calls charged to the rate limit per 1,000 answers (all calls, free 304s included)",
      cell((r) => `${((r.chargedCalls / r.answers) * 1000).toFixed(1)} (${((r.githubCalls / r.answers) * 1000).toFixed(1)})`),
      "budget-aware lower",
    ],
    [
      "time until a window was exhausted; windows exhausted",
      cell((r) => `${r.exhaustedAfterS === undefined ? "never" : `${r.exhaustedAfterS.toFixed(1)} s`}; ${r.windowsExhausted}`),
      "budget-aware later",
    ],
    [
      "the scanner's share of the charged calls",
      cell((r) => _percent(r.scannerCharged / Math.max(1, r.chargedCalls))),
      `budget-aware ≤ ${_percent(clientShare)}`,
    ],
    ["what the well-behaved clients were answered", cell((r) => _statuses(r.statuses)), ""],
    ["secondary limits GitHub answered", cell((r) => String(r.secondaryLimits)), ""],
  ];
}

async function _runMode(mode: (typeof modes)[number], seconds: number): Promise<ModeResult> {
  const users = Object.fromEntries(Array.from({ length: population }, (_, index) => [`b-${index}`, 3 + (index % 5)]));
  const github = await startFakeGithub({ users, autoUsers: { prefix: "scan-", gists: 3 }, rateLimit: { limit: primary.limit, remaining: primary.limit } });
  const service = await startBinary({
    GITHUB_API_URL: github.url,
    GITHUB_TOKEN: "bench-token",
    CACHE_TTL: "2",
    CACHE_STALE_TTL: "30",
    CACHE_MAX_TTL: "30",
    RATE_LIMIT_TRUSTED_HOPS: "1",
    // The window here stands for GitHub's hour in a few seconds; a pace per real minute would bind before it.
    UPSTREAM_MAX_PER_MINUTE: "0",
    LOG_LEVEL: "warn",
    ...mode.env,
  });
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const result: ModeResult = {
    name: mode.name,
    wellBehavedOk: 0,
    wellBehavedTotal: 0,
    answers: 0,
    githubCalls: 0,
    chargedCalls: 0,
    exhaustedAfterS: undefined,
    windowsExhausted: 0,
    scannerCharged: 0,
    secondaryLimits: 0,
    statuses: new Map(),
  };
  const stops = [_playGithub(github, deadline, started, result), _changeUsers(github, deadline)];
  const pick = zipfSampler(population, 1.1);
  const clients = Array.from({ length: wellBehaved }, (_, index) =>
    _ask(
      service.url,
      `10.0.0.${index + 1}`,
      deadline,
      wellBehavedEveryMs,
      () => `/b-${pick()}`,
      (status) => {
        result.answers++;
        result.wellBehavedTotal++;
        result.statuses.set(status, (result.statuses.get(status) ?? 0) + 1);
        if (status === 200) result.wellBehavedOk++;
      },
    ),
  );
  let scanned = 0;
  const scanner = _ask(
    service.url,
    "203.0.113.66",
    deadline,
    scannerEveryMs,
    () => `/scan-${scanned++}`,
    () => result.answers++,
  );
  await Promise.all([...clients, scanner, ...stops]);
  for (const request of github.requests) {
    result.githubCalls++;
    const charged = request.status === 200 || request.status === 404;
    if (!charged) continue;
    result.chargedCalls++;
    if (request.login?.startsWith("scan-")) result.scannerCharged++;
  }
  await service.stop();
  await github.close();
  return result;
}

// Renews the primary window as GitHub does, notes when it runs out, and answers a burst past the secondary
// limit with 403 and retry-after (through the fake's fault control, for every user) until it has passed.
async function _playGithub(github: FakeGithub, deadline: number, started: number, result: ModeResult): Promise<void> {
  let windowEnds = Date.now() + primary.windowSeconds * 1000;
  github.setRateLimit({ limit: primary.limit, remaining: primary.limit, resetAt: Math.ceil(windowEnds / 1000) });
  let exhaustedThisWindow = false;
  let limitedUntil = 0;
  while (performance.now() < deadline) {
    await Bun.sleep(50);
    const now = Date.now();
    if (now >= windowEnds) {
      windowEnds = now + primary.windowSeconds * 1000;
      github.setRateLimit({ remaining: primary.limit, resetAt: Math.ceil(windowEnds / 1000) });
      exhaustedThisWindow = false;
    }
    if (github.rateLimit.remaining === 0 && !exhaustedThisWindow) {
      exhaustedThisWindow = true;
      result.windowsExhausted++;
      result.exhaustedAfterS ??= (performance.now() - started) / 1000;
    }
    const recent = github.requests.filter((request) => request.at > now - secondary.burstWindowMs).length;
    if (now >= limitedUntil && recent > secondary.burst) {
      limitedUntil = now + secondary.retryAfter * 1000;
      result.secondaryLimits++;
      github.setFault("*", { kind: "secondary-rate-limit", retryAfter: secondary.retryAfter });
    } else if (limitedUntil > 0 && now >= limitedUntil) {
      limitedUntil = 0;
      github.setFault("*", null);
    }
  }
  github.setFault("*", null);
}

// Some users add a gist now and then: their next revalidation is a 200, not a 304.
async function _changeUsers(github: FakeGithub, deadline: number): Promise<void> {
  let round = 0;
  while (performance.now() + changeEveryMs < deadline) {
    await Bun.sleep(changeEveryMs);
    round++;
    for (let index = 0; index < changers; index++) github.setUser(`b-${index * 10}`, 3 + (index % 5) + round);
  }
}

// One client: a request every `everyMs` (or as soon as the last is answered, when slower), until the deadline.
async function _ask(base: string, client: string, deadline: number, everyMs: number, path: () => string, answered: (status: number) => void): Promise<void> {
  while (performance.now() < deadline) {
    const sent = performance.now();
    const response = await fetch(`${base}${path()}`, { headers: { "x-forwarded-for": client } });
    await response.arrayBuffer();
    answered(response.status);
    const wait = everyMs - (performance.now() - sent);
    if (wait > 0) await Bun.sleep(wait);
  }
}

function _statuses(statuses: Map<number, number>): string {
  return [...statuses]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${count}×${status}`)
    .join(", ");
}

function _percent(value: number): string {
  return `${(value * 100).toFixed(1)} %`;
}

function _summary(result: ModeResult): string {
  return `${_percent(result.wellBehavedOk / result.wellBehavedTotal)} of well-behaved requests 200, ${((result.chargedCalls / result.answers) * 1000).toFixed(1)} charged GitHub calls per 1,000 answers, exhausted after ${result.exhaustedAfterS?.toFixed(1) ?? "never"} s (${result.windowsExhausted} windows), scanner ${_percent(result.scannerCharged / Math.max(1, result.chargedCalls))} of charged calls, ${result.secondaryLimits} secondary limits`;
}
