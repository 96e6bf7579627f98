import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { alertNames, alertRules, renderAlerts, type AlertOptions } from "./alerts.ts";
import { buildDashboards, renderDashboards } from "./dashboards.ts";
import { dashboardQueries, knownSeries, lintQuery, ruleQueries } from "./lint.ts";
import { prometheusRule, renderPrometheusRule } from "./prometheus-rule.ts";
import { defaultObjectives, sloPeriod } from "./slo.ts";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
const defaults: AlertOptions = { selector: 'job="gists-api"', container: "gists-api", objectives: defaultObjectives };
const exprs = (options: AlertOptions) =>
  alertRules(options).groups.flatMap((group) => group.rules.map((rule) => ({ rule: rule.alert ?? rule.record, expr: String(rule.expr) })));

describe("committed artifacts are exactly what the generators produce (run `npm run export`)", () => {
  test("grafana/dashboards/", () => {
    const files = renderDashboards();
    expect(readdirSync(new URL("grafana/dashboards/", root)).sort()).toEqual(Object.keys(files).sort());
    for (const [name, text] of Object.entries(files)) expect(read(`grafana/dashboards/${name}`)).toBe(text);
  });

  test("ops/prometheus/alerts.yaml", () => {
    expect(read("ops/prometheus/alerts.yaml")).toBe(renderAlerts(defaults));
  });

  test("k8s/components/prometheus-operator/prometheusrule.yaml", () => {
    expect(read("k8s/components/prometheus-operator/prometheusrule.yaml")).toBe(renderPrometheusRule(defaults));
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

  test("every query selects through the variables: a namespace and the job or its pods, never a fixed job", () => {
    // The variables' own queries are the chain that narrows them (namespace, then job, then pod).
    for (const query of dashboardQueries(boards).filter((q) => !q.where.includes(" / $"))) {
      expect({
        where: query.where,
        namespace: query.expr.includes('namespace=~"$namespace"'),
        chosen: /(job|pod)=~"\$(job|pod)"/.test(query.expr),
        fixed: /\bjob=~?"[^$]/.test(query.expr),
      }).toEqual({
        where: query.where,
        namespace: true,
        chosen: true,
        fixed: false,
      });
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
      expect({ panel: panel.title, period: expr.includes(`[${sloPeriod}]`), range: expr.includes("$__range") }).toEqual({
        panel: panel.title,
        period: true,
        range: false,
      });
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

  test("every alert has a severity, summary, description and a runbook page that exists", () => {
    expect(alerts.length).toBe(alertNames(defaults).length);
    for (const alert of alerts) {
      expect(["critical", "warning"]).toContain(alert.labels.severity);
      expect(alert.annotations.summary.length).toBeGreaterThan(10);
      expect(alert.annotations.description.length).toBeGreaterThan(10);
      expect(alert.annotations.runbook_path).toBe(`ops/runbooks/${alert.alert}.md`);
      expect(existsSync(new URL(alert.annotations.runbook_path, root))).toBe(true);
    }
  });

  test("runbook_url is a link only where the runbooks are published: absent without --runbook-base, never relative", () => {
    for (const alert of alerts) expect(alert.annotations.runbook_url).toBeUndefined();
    const published = alertRules({ ...defaults, runbookBase: "https://git.example/gists-api/-/blob/main/ops/runbooks" });
    const urls = published.groups.flatMap((group) => group.rules).flatMap((rule: any) => (rule.alert ? [rule.annotations.runbook_url] : []));
    expect(urls).toContain("https://git.example/gists-api/-/blob/main/ops/runbooks/GistsApiTargetDown.md");
    expect(urls.length).toBe(alerts.length);
    for (const base of ["ops/runbooks/", "/ops/runbooks/", "file:///srv/runbooks/"]) {
      expect(() => alertRules({ ...defaults, runbookBase: base })).toThrow("--runbook-base");
    }
  });

  test("under another job every rule reads through the selector, absent() and the recording rules included", () => {
    const selector = 'job="gists", namespace="prod"';
    const rules = exprs({ ...defaults, selector, container: "gists" });
    expect(rules.filter((r) => r.expr.includes("gists-api"))).toEqual([]);
    // kube-state-metrics has its own job: the crash-loop alert picks the container instead.
    const own = rules.filter((r) => r.rule !== "GistsApiPodCrashLooping");
    for (const { rule, expr } of own) {
      // The burn-rate alerts read the SLI records through it too: two exports side by side never mix.
      const selectors = [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)];
      expect(selectors.length).toBeGreaterThan(0);
      expect({ rule, unselected: selectors.filter(([, , matchers]) => !matchers!.startsWith(selector)).map(([s]) => s) }).toEqual({ rule, unselected: [] });
    }
    const down = rules.find((r) => r.rule === "GistsApiTargetDown")!;
    expect(down.expr).toBe(`up{${selector}} == 0 or absent(up{${selector}})`);
  });

  test("the SLI records keep every label the selector matches on, so the alerts can select them by it", () => {
    const file = alertRules({ ...defaults, selector: 'job="gists", service="gists-api-canary"' });
    const records = file.groups[0]!.rules as { expr: string }[];
    for (const record of records) expect(record.expr).toContain("sum by (namespace, job, service)");
  });

  test("a selector with braces, or none, is refused before it makes a rule file Prometheus rejects", () => {
    for (const selector of ["", " ", "job", '{job="x"}', 'up{job="x"}', 'job="a" job="b"'])
      expect(() => alertRules({ ...defaults, selector })).toThrow("--selector");
    expect(() => alertRules({ ...defaults, selector: 'job=~"a|b", namespace!="x\\"y",' })).not.toThrow();
  });

  test("the PrometheusRule carries exactly the rule file's groups", () => {
    const object = prometheusRule(defaults);
    expect({ apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name }).toEqual({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      name: "gists-api",
    });
    expect(object.spec).toEqual(alertRules(defaults));
  });

  test("burn-rate alerts use the workbook's windows and factors", () => {
    const fast = alerts.find((alert) => alert.alert === "GistsApiAvailabilityBudgetBurnFast")!;
    expect(fast.expr).toContain(
      `gists_api:availability_errors:ratio_rate1h{job="gists-api"} > 0.0144 and gists_api:availability_errors:ratio_rate5m{job="gists-api"} > 0.0144`,
    );
    expect(fast.expr).toContain(`ratio_rate6h{job="gists-api"} > 0.006 and gists_api:availability_errors:ratio_rate30m{job="gists-api"} > 0.006`);
    const slow = alerts.find((alert) => alert.alert === "GistsApiLatencyBudgetBurnSlow")!;
    expect(slow.expr).toContain(`gists_api:latency_slow:ratio_rate1d{job="gists-api"} > 0.03 and gists_api:latency_slow:ratio_rate2h{job="gists-api"} > 0.03`);
    expect(slow.expr).toContain(`gists_api:latency_slow:ratio_rate3d{job="gists-api"} > 0.01 and gists_api:latency_slow:ratio_rate6h{job="gists-api"} > 0.01`);
  });

  test("objectives from flags change the thresholds, and a threshold must be a bucket", () => {
    const strict = alertRules({ ...defaults, objectives: { ...defaultObjectives, availability: 0.9995 } });
    expect(JSON.stringify(strict)).toContain('ratio_rate1h{job=\\"gists-api\\"} > 0.0072');
    expect(() => alertRules({ ...defaults, objectives: { ...defaultObjectives, latencySeconds: 0.3 } })).toThrow("bucket");
    expect(() => alertRules({ ...defaults, objectives: { ...defaultObjectives, availability: 99.9 } })).toThrow("between 0 and 1");
  });

  test("every rule names only catalog metrics and their labels", () => {
    const { queries, records } = ruleQueries(file);
    const known = knownSeries(records);
    expect(queries.flatMap((query) => lintQuery(query.where, query.expr, known))).toEqual([]);
  });
});
