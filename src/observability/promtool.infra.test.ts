import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { alertRules, renderAlerts } from "./alerts.ts";
import { renderPrometheusRule } from "./prometheus-rule.ts";
import { defaultObjectives } from "./slo.ts";

// The committed rule file and its promtool unit tests (ops/prometheus/tests/*.yaml), run as CI runs them.
const prometheusDir = new URL("../../ops/prometheus/", import.meta.url).pathname;
const testFiles = readdirSync(`${prometheusDir}tests`)
  .filter((name) => name.endsWith(".yaml"))
  .sort()
  .map((name) => `tests/${name}`);

// Days of series at a 1m interval take promtool a while on a small machine.
const promtoolMs = 180_000;

describe("promtool", () => {
  test("checks ops/prometheus/alerts.yaml", async () => {
    const run = await _promtool(["check", "rules", "alerts.yaml"]);
    expect({ code: run.code, output: run.code === 0 ? "" : run.output }).toEqual({ code: 0, output: "" });
  });

  test(
    "passes every unit test in ops/prometheus/tests/",
    async () => {
      expect(testFiles.length).toBeGreaterThan(0);
      const run = await _promtool(["test", "rules", ...testFiles]);
      expect({ code: run.code, output: run.code === 0 ? "" : run.output }).toEqual({ code: 0, output: "" });
    },
    promtoolMs,
  );
});

describe("promtool, rules exported for another job", () => {
  const selector = 'job="gists", namespace="prod"';
  const options = { selector, container: "gists-api", objectives: defaultObjectives };

  test("the target-down alert watches that job: quiet while it is up, firing once it is gone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gists-promtool-"));
    try {
      writeFileSync(join(dir, "alerts.yaml"), renderAlerts(options));
      const rule = alertRules(options)
        .groups.flatMap((group) => group.rules)
        .find((r) => r.alert === "GistsApiTargetDown")!;
      const labels = { alertname: "GistsApiTargetDown", severity: "critical" };
      const unitTests = {
        rule_files: ["alerts.yaml"],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            // Up under the exported job for 5 minutes, then gone: the default job="gists-api" is never scraped.
            input_series: [{ series: 'up{job="gists",namespace="prod",pod="gists-api-0"}', values: "1x5 _x10" }],
            alert_rule_test: [
              { eval_time: "5m", alertname: "GistsApiTargetDown", exp_alerts: [] },
              // Absent once the last sample leaves the 5-minute lookback (10m), then 2 minutes pending.
              {
                eval_time: "15m",
                alertname: "GistsApiTargetDown",
                exp_alerts: [{ exp_labels: { ...labels, job: "gists", namespace: "prod" }, exp_annotations: rule.annotations }],
              },
            ],
          },
        ],
      };
      writeFileSync(join(dir, "tests.yaml"), stringifyYaml(unitTests));
      const run = await _promtool(["test", "rules", "tests.yaml"], dir);
      expect({ code: run.code, output: run.code === 0 ? "" : run.output }).toEqual({ code: 0, output: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("two exports loaded side by side: each burn-rate alert reads its own job's records only", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gists-promtool-"));
    try {
      const exported = (job: string) => ({ ...options, selector: `job="${job}"` });
      writeFileSync(join(dir, "prod.yaml"), renderAlerts(exported("prod")));
      writeFileSync(join(dir, "canary.yaml"), renderAlerts(exported("canary")));
      const canaryRule = alertRules(exported("canary"))
        .groups.flatMap((group) => group.rules)
        .find((r) => r.alert === "GistsApiAvailabilityBudgetBurnFast")!;
      const requests = (job: string, status: string) => `http_requests_total{job="${job}",namespace="gists",route="/:username",status="${status}"}`;
      const unitTests = {
        rule_files: ["prod.yaml", "canary.yaml"],
        evaluation_interval: "1m",
        group_eval_order: ["gists-api-slo-recording", "gists-api-slo-alerts"],
        tests: [
          {
            interval: "1m",
            // Prod answers every request; half of the canary's fail.
            input_series: [
              { series: requests("prod", "200"), values: "0+60x80" },
              { series: requests("canary", "200"), values: "0+60x80" },
              { series: requests("canary", "500"), values: "0+60x80" },
            ],
            alert_rule_test: [
              {
                eval_time: "75m",
                alertname: "GistsApiAvailabilityBudgetBurnFast",
                exp_alerts: [
                  {
                    exp_labels: { alertname: "GistsApiAvailabilityBudgetBurnFast", severity: "critical", job: "canary", namespace: "gists" },
                    exp_annotations: canaryRule.annotations,
                  },
                ],
              },
            ],
          },
        ],
      };
      writeFileSync(join(dir, "tests.yaml"), stringifyYaml(unitTests));
      const run = await _promtool(["test", "rules", "tests.yaml"], dir);
      expect({ code: run.code, output: run.code === 0 ? "" : run.output }).toEqual({ code: 0, output: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the PrometheusRule's groups pass `promtool check rules`", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gists-promtool-"));
    try {
      writeFileSync(join(dir, "rules.yaml"), stringifyYaml(parseYaml(renderPrometheusRule(options)).spec));
      const run = await _promtool(["check", "rules", "rules.yaml"], dir);
      expect({ code: run.code, output: run.code === 0 ? "" : run.output }).toEqual({ code: 0, output: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the unit tests cover every alert", () => {
  const alerts = _alertNames(readFileSync(`${prometheusDir}alerts.yaml`, "utf8"));
  const cases = testFiles.flatMap((file) => _alertCases(readFileSync(`${prometheusDir}${file}`, "utf8")));

  test("the rule file has alerts", () => {
    expect(alerts.length).toBeGreaterThan(0);
  });

  test("every test file loads the committed rule file", () => {
    for (const file of testFiles) {
      expect({ file, rules: parseYaml(readFileSync(`${prometheusDir}${file}`, "utf8")).rule_files }).toEqual({
        file,
        rules: ["../alerts.yaml"],
      });
    }
  });

  test("each alert has a case where it fires", () => {
    const firing = new Set(cases.filter((c) => c.fires).map((c) => c.alertname));
    expect(alerts.filter((name) => !firing.has(name))).toEqual([]);
  });

  test("each alert has a case where it does not fire", () => {
    const quiet = new Set(cases.filter((c) => !c.fires).map((c) => c.alertname));
    expect(alerts.filter((name) => !quiet.has(name))).toEqual([]);
  });

  test("tests name only alerts that exist", () => {
    expect(cases.map((c) => c.alertname).filter((name) => !alerts.includes(name))).toEqual([]);
  });
});

/** One `alert_rule_test` entry: the alert it checks, and whether it expects the alert to fire. */
interface AlertCase {
  alertname: string;
  fires: boolean;
}

// Runs promtool from ops/prometheus/, where the test files' `../alerts.yaml` resolves; output is kept for failures.
async function _promtool(args: string[], cwd = prometheusDir): Promise<{ code: number; output: string }> {
  const promtool = Bun.which("promtool");
  if (!promtool) {
    throw new Error("promtool is not on PATH: install it with `apt-get install prometheus` (CI installs it)");
  }
  const proc = Bun.spawn([promtool, ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, output: `promtool ${args.join(" ")}\n${stdout}${stderr}` };
}

function _alertNames(ruleFile: string): string[] {
  const groups = (parseYaml(ruleFile)?.groups ?? []) as { rules?: { alert?: string }[] }[];
  return groups.flatMap((group) => group.rules ?? []).flatMap((rule) => (rule.alert ? [rule.alert] : []));
}

function _alertCases(testFile: string): AlertCase[] {
  const tests = (parseYaml(testFile)?.tests ?? []) as { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
  return tests.flatMap((group) => (group.alert_rule_test ?? []).map((entry) => ({ alertname: entry.alertname, fires: (entry.exp_alerts ?? []).length > 0 })));
}
