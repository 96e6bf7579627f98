import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { defineCommand, usageError } from "../command.ts";
import { alertRules, renderAlerts, type AlertOptions } from "../observability/alerts.ts";
import { buildDashboards, renderDashboards } from "../observability/dashboards.ts";
import { dashboardQueries, knownSeries, lintCatalog, lintQuery, ruleQueries, type LintProblem } from "../observability/lint.ts";
import { renderPrometheusRule } from "../observability/prometheus-rule.ts";
import { checkRunbookBase } from "../observability/runbooks.ts";
import { checkSelector } from "../observability/selector.ts";
import { checkObjectives, defaultObjectives, type Objectives } from "../observability/slo.ts";
import { writeStderr, writeStdout } from "../runtime.ts";

/** `gists-api export dashboards|alerts`: the operator's artifacts, generated from the metric catalog. */
export default defineCommand({
  name: "export",
  usage: "gists-api export dashboards|alerts [--out PATH] [--check] [--format rules|prometheusrule] [objectives and selectors]",
  subjects: ["dashboards", "alerts"],
  options: {
    out: { type: "string", value: "path", description: "Directory (dashboards) or file (alerts); stdout when absent" },
    check: { type: "boolean", description: "Lint every query against the metric catalog instead of writing" },
    "availability-objective": { type: "string", value: "ratio", description: "Availability SLO (default 0.999)" },
    "latency-objective": { type: "string", value: "ratio", description: "Latency SLO (default 0.99)" },
    "latency-threshold": { type: "string", value: "seconds", description: "Latency SLO threshold, a histogram bucket (default 0.25)" },
    selector: { type: "string", value: "matchers", description: `Alerts: series selector (default job="gists-api")` },
    container: { type: "string", value: "name", description: "Alerts: container name for the crash-loop alert (default gists-api)" },
    format: { type: "string", value: "kind", description: "Alerts: rules (a rule file, default) or prometheusrule (a PrometheusRule object)" },
    "runbook-base": { type: "string", value: "url", description: "Alerts: absolute URL the runbooks are published under; without it, no runbook_url" },
  },
  examples: [
    "gists-api export dashboards --out grafana/dashboards",
    "gists-api export alerts --out ops/prometheus/alerts.yaml",
    'gists-api export alerts --availability-objective 0.995 --selector \'job="gists", namespace="prod"\'',
    "gists-api export alerts --format prometheusrule --selector 'job=\"gists-api\"' --runbook-base https://git.example/gists-api/-/blob/main/ops/runbooks/",
    "gists-api export dashboards --check",
  ],
  async run(values, positionals) {
    const subject = positionals[0] as "dashboards" | "alerts";
    let objectives: Objectives;
    let alertOptions: AlertOptions;
    let format: _Format;
    try {
      objectives = {
        availability: _ratio(values["availability-objective"], defaultObjectives.availability),
        latency: _ratio(values["latency-objective"], defaultObjectives.latency),
        latencySeconds: _ratio(values["latency-threshold"], defaultObjectives.latencySeconds),
      };
      checkObjectives(objectives);
      format = _format(subject, values.format);
      const runbookBase = values["runbook-base"] as string | undefined;
      alertOptions = {
        selector: (values.selector as string | undefined) ?? 'job="gists-api"',
        container: (values.container as string | undefined) ?? "gists-api",
        runbookBase: runbookBase === undefined ? undefined : checkRunbookBase(runbookBase),
        objectives,
      };
      checkSelector(alertOptions.selector);
    } catch (error) {
      writeStderr(`gists-api export: ${(error as Error).message}\n`);
      return usageError;
    }
    if (values.check) return _check(subject, objectives, alertOptions);
    const out = values.out as string | undefined;
    if (subject === "alerts") {
      const text = format === "prometheusrule" ? renderPrometheusRule(alertOptions) : renderAlerts(alertOptions);
      if (!out) writeStdout(text);
      else _write(out, text);
      return 0;
    }
    const files = renderDashboards(objectives);
    if (!out) writeStdout(`${JSON.stringify(buildDashboards(objectives), null, 2)}\n`);
    else for (const [name, text] of Object.entries(files)) _write(join(out, name), text);
    return 0;
  },
});

function _check(subject: "dashboards" | "alerts", objectives: Objectives, alertOptions: AlertOptions): number {
  const rules = ruleQueries(alertRules(alertOptions));
  const known = knownSeries(rules.records);
  const queries = subject === "alerts" ? rules.queries : dashboardQueries(buildDashboards(objectives));
  const problems: LintProblem[] = [...lintCatalog(), ...queries.flatMap((query) => lintQuery(query.where, query.expr, known))];
  for (const problem of problems) writeStderr(`${problem.where}: ${problem.problem}\n`);
  if (problems.length > 0) return 1;
  writeStdout(`ok: ${queries.length} ${subject} queries name only catalog metrics and their labels\n`);
  return 0;
}

type _Format = "rules" | "prometheusrule";

function _format(subject: "dashboards" | "alerts", raw: unknown): _Format {
  if (raw === undefined) return "rules";
  if (subject !== "alerts") throw new Error("--format applies to alerts only");
  if (raw === "rules" || raw === "prometheusrule") return raw;
  throw new Error(`--format must be rules or prometheusrule, got ${JSON.stringify(raw)}`);
}

function _write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

function _ratio(raw: unknown, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`expected a number, got ${JSON.stringify(raw)}`);
  return value;
}
