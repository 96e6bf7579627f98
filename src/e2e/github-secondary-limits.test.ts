import { expect, test } from "bun:test";
import type { FakeGithub } from "../testing/fake-github.ts";
import { sampleSum } from "../testing/prometheus-text.ts";
import {
  describeTargets,
  expectError,
  freshLogin,
  getGists,
  pastShortTtl,
  scrapeMetrics,
  shortTtl,
  timedTestMs,
  until,
  useStack,
  type Stack,
} from "./stack.ts";

const nowSeconds = () => Math.floor(Date.now() / 1000);
const secondaryMessage = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";

/** One of GitHub's rate-limit answers, the pause the service must take for it, and whether the test waits it out. */
interface LimitCase {
  name: string;
  /** Makes the fake answer the next request with the limit. */
  limit(fake: FakeGithub): void;
  kind: "primary" | "secondary";
  /** The Retry-After the first 429 must carry: exactly, or within [min, max]. */
  retryAfter: number | [number, number];
  /** The pause is short enough to wait for: the next cold user is fetched once it has passed. */
  recovers: boolean;
}

const cases: LimitCase[] = [
  {
    name: "403 with retry-after, the window not spent",
    limit: (fake) => fake.setSecondaryLimit({ status: 403, retryAfter: 2, times: 1 }),
    kind: "secondary",
    retryAfter: 2,
    recovers: true,
  },
  {
    name: "429 with retry-after as an HTTP date",
    limit: (fake) => fake.setSecondaryLimit({ status: 429, retryAfter: new Date(Date.now() + 3_000).toUTCString(), times: 1 }),
    kind: "secondary",
    retryAfter: [2, 3],
    recovers: true,
  },
  {
    name: "429 without retry-after, remaining 0: until x-ratelimit-reset",
    limit: (fake) => {
      fake.setRateLimit({ resetAt: nowSeconds() + 2 });
      fake.setSecondaryLimit({ status: 429, remaining: 0, times: 1 });
    },
    kind: "secondary",
    retryAfter: [1, 2],
    recovers: true,
  },
  {
    name: "403 without retry-after, remaining above 0: at least a minute",
    limit: (fake) => fake.setSecondaryLimit({ status: 403, message: secondaryMessage, times: 1 }),
    kind: "secondary",
    retryAfter: 60,
    recovers: false,
  },
  {
    name: "429 with retry-after 1e308: an hour at most",
    limit: (fake) => fake.setSecondaryLimit({ status: 429, retryAfter: "1e308", times: 1 }),
    kind: "secondary",
    retryAfter: 3600,
    recovers: false,
  },
  {
    name: "a spent primary window whose reset has passed: the reset is unknown, a minute",
    limit: (fake) => fake.setRateLimit({ remaining: 0, exceededStatus: 429, resetAt: nowSeconds() - 30 }),
    kind: "primary",
    retryAfter: 60,
    recovers: false,
  },
  {
    name: "a spent primary window whose reset is years ahead: the reset is unknown, a minute",
    limit: (fake) => fake.setRateLimit({ remaining: 0, resetAt: nowSeconds() + 1e9 }),
    kind: "primary",
    retryAfter: 60,
    recovers: false,
  },
];

/** A user the fake knows and the service has not cached. */
function coldUser(s: Stack, prefix: string): string {
  const login = freshLogin(prefix);
  s.fake.setUser(login, 2);
  return login;
}

/** The Retry-After of a 429, checked against what the case expects. */
function expectRetryAfter(res: Response, expected: LimitCase["retryAfter"]): number {
  const header = res.headers.get("retry-after") ?? "";
  expect(header).toMatch(/^\d+$/);
  const seconds = Number(header);
  if (typeof expected === "number") expect(seconds).toBe(expected);
  else expect(seconds).toBeWithin(expected[0], expected[1] + 1);
  return seconds;
}

// Each case pauses every upstream request of its service, so each gets its own service.
for (const limitCase of cases) {
  describeTargets(`GitHub's rate limit: ${limitCase.name}`, (target) => {
    // Pages expire at once but stay servable as STALE; the breaker stays out of the way.
    const s = useStack(target, { CACHE_TTL: shortTtl, CACHE_STALE_TTL: "120", BREAKER_THRESHOLD: "1000", LOG_LEVEL: "info" });

    test(
      "429 with the clamped pause as Retry-After, nothing sent meanwhile, a stale copy still answers, never a 5xx",
      async () => {
        const statuses: number[] = [];
        const cached = coldUser(s, "held");
        const warm = await getGists(s, `/${cached}`);
        statuses.push(warm.status);
        await pastShortTtl();

        limitCase.limit(s.fake);
        const limited = await s.request(`/${coldUser(s, "limited")}`);
        const limitedAt = Date.now();
        statuses.push(limited.status);
        const pause = expectRetryAfter(limited.clone(), limitCase.retryAfter);
        await expectError(limited, 429);

        const sent = s.fake.requestCount();
        const cold = await s.request(`/${coldUser(s, "cold")}`);
        statuses.push(cold.status);
        expect(Number(cold.headers.get("retry-after"))).toBeWithin(Math.max(1, pause - 1), pause + 1);
        await expectError(cold, 429);
        const stale = await getGists(s, `/${cached}`);
        statuses.push(stale.status);
        expect([stale.status, stale.xCache, stale.body.data]).toEqual([200, "STALE", warm.body.data]);
        expect(s.fake.requestCount()).toBe(sent);

        const metrics = await scrapeMetrics(s);
        expect(sampleSum(metrics, "github_rate_limited_total", { kind: limitCase.kind })).toBe(1);
        expect(sampleSum(metrics, "github_rate_limited_total")).toBe(1);
        // Log lines are written in batches: wait for the first, then count them all.
        await s.service.waitForLog((line) => line.msg === "github rate limit exhausted", 2_000);
        const exhausted = s.service.logs().filter((line) => line.msg === "github rate limit exhausted");
        expect(exhausted.map((line) => [line.kind, line.pause_seconds])).toEqual([[limitCase.kind, pause]]);

        if (limitCase.recovers) {
          s.fake.setRateLimit({ remaining: 5000, resetAt: nowSeconds() + 3600 });
          const resumed = coldUser(s, "resumed");
          let status = 0;
          await until(async () => (status = (await s.request(`/${resumed}`)).status) !== 429, pause * 1000 + 1_500, "upstream requests to resume");
          statuses.push(status);
          expect(status).toBe(200);
          // Nothing reached GitHub before the pause ended (GitHub's seconds are whole: up to one of rounding).
          const early = s.fake.requests.slice(sent).filter((request) => request.at < limitedAt + (pause - 1) * 1000);
          expect(early).toEqual([]);
          await s.service.waitForLog((line) => line.msg === "github rate limit available again", 2_000);
        }
        expect(statuses.filter((status) => status >= 500)).toEqual([]);
      },
      timedTestMs,
    );
  });
}

describeTargets("the local pace of GitHub's per-minute limit (UPSTREAM_MAX_PER_MINUTE)", (target) => {
  const s = useStack(target, { UPSTREAM_MAX_PER_MINUTE: "3", UPSTREAM_MAX_CONCURRENCY: "4", UPSTREAM_TIMEOUT_MS: "1000" });

  test("past the minute's requests a cold user is 429 without a request to GitHub; the gauges show the count and the limit", async () => {
    const replies = [];
    for (let i = 0; i < 4; i++) {
      const res = await s.request(`/${coldUser(s, "paced")}`);
      replies.push([res.status, res.headers.get("retry-after") === null ? null : Number(res.headers.get("retry-after")) > 50]);
    }
    expect(replies).toEqual([
      [200, null],
      [200, null],
      [200, null],
      [429, true],
    ]);
    expect(s.fake.requestCount()).toBe(3);
    const metrics = await scrapeMetrics(s);
    expect([metrics.types.github_api_requests_last_minute, metrics.types.github_api_requests_per_minute_limit]).toEqual(["gauge", "gauge"]);
    expect(sampleSum(metrics, "github_api_requests_last_minute")).toBe(3);
    expect(sampleSum(metrics, "github_api_requests_per_minute_limit")).toBe(3);
    expect(sampleSum(metrics, "github_api_requests_in_flight_limit")).toBe(4);
    // The local pace is not one of GitHub's limits.
    expect(sampleSum(metrics, "github_rate_limited_total")).toBe(0);
  });
});
