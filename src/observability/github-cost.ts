import { catalog } from "../metrics/catalog.ts";
import type { AlertSpec } from "./alerts.ts";
import { q as dashboardQueries, stat, timeseries } from "./panels.ts";
import { createQueries, type Queries } from "./promql.ts";

// What answers cost GitHub: calls per answer by reason, and the forecast of GitHub's budget at the current spend,
// as dashboard panels and as the alert on the forecast. Both read the one forecast below.

/** The spend the forecast extrapolates: 15 minutes smooths a burst of cold misses and is short beside GitHub's hour. */
export const spendWindow = "15m";

/** One deployment's budget (a token, or an egress address, shared by its pods): the forecast is kept per one. */
const perDeployment = "namespace, job";

/**
 * The budget forecast: seconds until GitHub's budget runs out at the current spend of charged calls, and seconds
 * until GitHub's window resets. A pod's reading whose reset has passed describes a window since refilled: left out.
 */
export function budgetForecast(q: Queries, by = perDeployment) {
  const left = `${q.series(catalog.githubRateLimitRemaining)} and ${q.series(catalog.githubRateLimitReset)} > time()`;
  return {
    exhaustion: `min by (${by}) (${left}) / ${q.sumRate(catalog.githubCalls, by, 'cost="charged"', spendWindow)}`,
    reset: `max by (${by}) (${q.series(catalog.githubRateLimitReset)}) - time()`,
  };
}

/** The alert: for 10 minutes, the spend of the last 15 would use up the budget before GitHub resets it. */
export function budgetForecastAlert(selector: string): AlertSpec {
  const { exhaustion, reset } = budgetForecast(createQueries(selector, spendWindow));
  return {
    alert: "GistsApiGithubBudgetRunsOutBeforeReset",
    expr: `(${exhaustion}) < (${reset})`,
    // Over a 15-minute average, 10 more minutes: a cold start's burst of misses passes, and most of the hour is left to act.
    for: "10m",
    // Running out costs uncached users 429s until the reset (an hour at most), and the SLO alerts page if it hurts.
    severity: "warning",
    summary: "At the current spend GitHub's rate limit runs out before its window resets",
    description:
      "Charged GitHub calls of the last 15 minutes would spend what is left of the window in {{ $value | humanizeDuration }}, " +
      "before GitHub resets it; from then until the reset, pages not in the cache are 429.",
  };
}

/** The dashboard panels of a row on the cost of answers. */
export function costPanels() {
  const q = dashboardQueries;
  const answers = q.sumRate(catalog.gistsAnswers);
  const { exhaustion, reset } = budgetForecast(q);
  return [
    timeseries(
      "GitHub calls per 1,000 answers, by reason",
      "short",
      [
        { expr: `1000 * ${q.sumRate(catalog.githubCalls, "reason")} / on () group_left ${answers}`, legend: "{{reason}}" },
        { expr: `1000 * ${q.sumRate(catalog.githubCalls, undefined, 'cost="charged"')} / ${answers}`, legend: "charged, all reasons" },
      ],
      {
        span: 10,
        description:
          "cold_miss: nothing held; refresh_changed / refresh_not_modified: an expired copy, GitHub sent it whole / said 304; " +
          "complete_list: pages of all=true; bypass: use_cache=false. A 304 to a GITHUB_TOKEN is free.",
      },
    ),
    stat(
      "Answers without a charged GitHub call",
      "percentunit",
      { expr: `${q.sumRate(catalog.gistsAnswers, undefined, 'cost="free"')} / ${answers}` },
      { span: 4, description: "Hits, stale copies, waits for another request's call and 304s to a token." },
    ),
    timeseries(
      "GitHub budget: runs out at the current spend vs resets",
      "s",
      [
        { expr: exhaustion, legend: "{{namespace}}/{{job}} runs out in" },
        { expr: reset, legend: "{{namespace}}/{{job}} resets in" },
      ],
      {
        span: 10,
        description: `What is left of GitHub's window over the charged calls per second of the last ${spendWindow}, beside the time to GitHub's reset. Running out first: uncached pages are 429 until the reset.`,
      },
    ),
  ];
}
