import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { alertNames, alertRules, renderAlerts, type AlertOptions } from "./alerts.ts";
import { buildDashboards, renderDashboards } from "./dashboards.ts";
import { dashboardQueries, knownSeries, lintQuery, ruleQueries } from "./lint.ts";
import { defaultObjectives, sloPeriod } from "./slo.ts";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
const defaults: AlertOptions = { selector: 'job="gists-api"', container: "gists-api", runbookBase: "ops/runbooks/", objectives: defaultObjectives };

describe("committed artifacts are exactly what the generators produce (run `npm run export`)", () => {
  test("grafana/dashboards/", () => {
    const files = renderDashboards();
    expect(readdirSync(new URL("grafana/dashboards/", root)).sort()).toEqual(Object.keys(files).sort());
    for (const [name, text] of Object.entries(files)) expect(read(`grafana/dashboards/${name}`)).toBe(text);
  });

  test("ops/prometheus/alerts.yaml", () => {
    expect(read("ops/prometheus/alerts.yaml")).toBe(renderAlerts(defaults));
  });

  test("grafana/kustomization.yaml ships every dashboard", () => {
    const kustomization = read("grafana/kustomization.yaml");
    for (const name of Object.keys(renderDashboards())) expect(kustomization).toContain(`dashboards/${name}`);
  });
});

describe("dashboards", () => {
  const boards = buildDashboards();

  test("four dashboards with fixed uids", () => {
    expect(Object.keys(boards).sort()).toEqual(["gists-api-cache", "gists-api-runtime", "gists-api-service", "gists-api-slo"]);
  });

  test("a data source variable and namespace, job and pod variables on each", () => {
    for (const board of Object.values(boards)) {
      const variables = (board.templating?.list ?? []).map((variable) => `${variable.type}:${variable.name}`);
      expect(variables).toEqual(["datasource:datasource", "query:namespace", "query:job", "query:pod"]);
    }
  });

  test("every panel has a unit, its data source from the variable, and at least one query", () => {
    for (const board of Object.values(boards)) {
      for (const panel of (board.panels ?? []) as Record<string, any>[]) {
        if (panel.type === "row") continue;
        expect({ panel: panel.title, unit: panel.fieldConfig?.defaults?.unit ?? null }).not.toEqual({ panel: panel.title, unit: null });
        expect(panel.datasource).toEqual({ type: "prometheus", uid: "${datasource}" });
        expect(panel.targets.length).toBeGreaterThan(0);
      }
    }
  });

  test("the SLO dashboard's budget left covers the SLO period, whatever time range is shown", () => {
    const panels = (boards["gists-api-slo"]!.panels ?? []) as Record<string, any>[];
    const budget = panels.filter((panel) => /error budget left/.test(panel.title));
    expect(budget.length).toBe(2);
    for (const panel of budget) {
      const expr: string = panel.targets[0].expr;
      expect({ panel: panel.title, period: expr.includes(`[${sloPeriod}]`), range: expr.includes("$__range") }).toEqual({ panel: panel.title, period: true, range: false });
    }
  });

  test("every query names only catalog metrics and their labels", () => {
    const known = knownSeries(ruleQueries(alertRules(defaults)).records);
    const problems = dashboardQueries(boards).flatMap((query) => lintQuery(query.where, query.expr, known));
    expect(problems).toEqual([]);
  });
});

describe("alerts", () => {
  const file = alertRules(defaults);
  const alerts = file.groups.flatMap((group) => group.rules).filter((rule) => "alert" in rule) as Record<string, any>[];

  test("every alert has a severity, summary, description and a runbook that exists", () => {
    expect(alerts.length).toBe(alertNames(defaults).length);
    for (const alert of alerts) {
      expect(["critical", "warning"]).toContain(alert.labels.severity);
      expect(alert.annotations.summary.length).toBeGreaterThan(10);
      expect(alert.annotations.description.length).toBeGreaterThan(10);
      expect(alert.annotations.runbook_url).toBe(`ops/runbooks/${alert.alert}.md`);
      expect(existsSync(new URL(alert.annotations.runbook_url, root))).toBe(true);
    }
  });

  test("burn-rate alerts use the workbook's windows and factors", () => {
    const fast = alerts.find((alert) => alert.alert === "GistsApiAvailabilityBudgetBurnFast")!;
    expect(fast.expr).toContain("gists_api:availability_errors:ratio_rate1h > 0.0144 and gists_api:availability_errors:ratio_rate5m > 0.0144");
    expect(fast.expr).toContain("ratio_rate6h > 0.006 and gists_api:availability_errors:ratio_rate30m > 0.006");
    const slow = alerts.find((alert) => alert.alert === "GistsApiLatencyBudgetBurnSlow")!;
    expect(slow.expr).toContain("gists_api:latency_slow:ratio_rate1d > 0.03 and gists_api:latency_slow:ratio_rate2h > 0.03");
    expect(slow.expr).toContain("gists_api:latency_slow:ratio_rate3d > 0.01 and gists_api:latency_slow:ratio_rate6h > 0.01");
  });

  test("objectives from flags change the thresholds, and a threshold must be a bucket", () => {
    const strict = alertRules({ ...defaults, objectives: { ...defaultObjectives, availability: 0.9995 } });
    expect(JSON.stringify(strict)).toContain("ratio_rate1h > 0.0072");
    expect(() => alertRules({ ...defaults, objectives: { ...defaultObjectives, latencySeconds: 0.3 } })).toThrow("bucket");
    expect(() => alertRules({ ...defaults, objectives: { ...defaultObjectives, availability: 99.9 } })).toThrow("between 0 and 1");
  });

  test("every rule names only catalog metrics and their labels", () => {
    const { queries, records } = ruleQueries(file);
    const known = knownSeries(records);
    expect(queries.flatMap((query) => lintQuery(query.where, query.expr, known))).toEqual([]);
  });
});
