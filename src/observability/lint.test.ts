import { describe, expect, test } from "bun:test";
import { knownSeries, lintCatalog, lintQuery } from "./lint.ts";

const known = knownSeries({ "gists_api:availability_errors:ratio_rate5m": ["namespace", "job"] });

describe("lintQuery", () => {
  test("accepts catalog metrics with their labels, target labels and functions", () => {
    const expr = 'histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{job=~"$job", route="/:username"}[$__rate_interval])))';
    expect(lintQuery("p95", expr, known)).toEqual([]);
    expect(lintQuery("t", 'max (github_rate_limit_reset_timestamp_seconds{pod=~"$pod"}) - time()', known)).toEqual([]);
    expect(lintQuery("up", 'up{job="gists-api"} == 0 or absent(up{job="gists-api"})', known)).toEqual([]);
    expect(lintQuery("rec", "gists_api:availability_errors:ratio_rate5m > 0.0144", known)).toEqual([]);
  });

  test("reports an unknown metric, a label the metric lacks, and a grouping label nothing has", () => {
    expect(lintQuery("a", 'rate(http_request_total{job="x"}[5m])', known)).toEqual([
      { where: "a", problem: 'metric "http_request_total" is in neither the catalog nor the known external metrics' },
    ]);
    expect(lintQuery("b", 'sum(rate(cache_hits_total{route="/x"}[5m]))', known)).toEqual([
      { where: "b", problem: 'metric "cache_hits_total" has no label "route"' },
    ]);
    expect(lintQuery("c", "sum by (username) (rate(http_requests_total[5m]))", known)).toEqual([
      { where: "c", problem: 'grouping label "username" is on none of http_requests_total' },
    ]);
  });

  test("does not mistake quoted values, durations or keywords for metrics", () => {
    const expr = 'sum without (instance) (rate(http_requests_total{status=~"5..|up", route!="cache_hits"}[1h] offset 5m)) and on (job) up{job="a"}';
    expect(lintQuery("d", expr, known)).toEqual([]);
  });
});

describe("lintCatalog", () => {
  test("every label of the catalog is bounded", () => {
    expect(lintCatalog()).toEqual([]);
  });
});
