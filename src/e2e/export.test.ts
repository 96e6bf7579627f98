import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot, runCli, targetsFromEnv } from "../testing/service.ts";

// The binary users run exports exactly the committed artifacts.
describe.if(targetsFromEnv().includes("binary"))("gists-api export [binary]", () => {
  const dir = mkdtempSync(join(tmpdir(), "gists-export-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("export alerts --out writes ops/prometheus/alerts.yaml byte for byte", async () => {
    const out = join(dir, "alerts.yaml");
    const result = await runCli(["export", "alerts", "--out", out]);
    expect(result.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(join(repoRoot, "ops/prometheus/alerts.yaml"), "utf8"));
  });

  test("export alerts --format prometheusrule --out writes the component's PrometheusRule byte for byte", async () => {
    const out = join(dir, "prometheusrule.yaml");
    const result = await runCli(["export", "alerts", "--format", "prometheusrule", "--out", out]);
    expect(result.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(join(repoRoot, "k8s/components/prometheus-operator/prometheusrule.yaml"), "utf8"));
  });

  test("a relative --runbook-base, a selector in braces or an unknown --format exits 2 naming the flag", async () => {
    for (const [args, flag] of [
      [["--runbook-base", "ops/runbooks/"], "--runbook-base"],
      [["--selector", '{job="gists"}'], "--selector"],
      [["--format", "yaml"], "--format"],
    ] as const) {
      const result = await runCli(["export", "alerts", ...args]);
      expect({ args, code: result.code, named: result.stderr.includes(flag) }).toEqual({ args, code: 2, named: true });
    }
    const published = await runCli(["export", "alerts", "--runbook-base", "https://git.example/gists-api/-/blob/main/ops/runbooks/"]);
    expect(published.code).toBe(0);
    expect(published.stdout).toContain("runbook_url: https://git.example/gists-api/-/blob/main/ops/runbooks/GistsApiTargetDown.md");
  });

  test("export dashboards --out writes grafana/dashboards/ file for file", async () => {
    const out = join(dir, "dashboards");
    const result = await runCli(["export", "dashboards", "--out", out]);
    expect(result.code).toBe(0);
    const committed = join(repoRoot, "grafana/dashboards");
    expect(readdirSync(out).sort()).toEqual(readdirSync(committed).sort());
    for (const name of readdirSync(out)) {
      expect(readFileSync(join(out, name), "utf8")).toBe(readFileSync(join(committed, name), "utf8"));
    }
  });

  test("without --out, dashboards are one JSON document and alerts YAML on stdout", async () => {
    const dashboards = await runCli(["export", "dashboards"]);
    expect(Object.keys(JSON.parse(dashboards.stdout)).sort()).toEqual(["gists-api-cache", "gists-api-runtime", "gists-api-service", "gists-api-slo"]);
    const alerts = await runCli(["export", "alerts", "--availability-objective", "0.99"]);
    expect(alerts.code).toBe(0);
    expect(alerts.stdout).toContain('gists_api:availability_errors:ratio_rate1h{job="gists-api"} > 0.144');
  });

  test("--check lints every query against the catalog", async () => {
    for (const subject of ["dashboards", "alerts"]) {
      const result = await runCli(["export", subject, "--check"]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^ok: \d+ /);
    }
  });

  test("a bad subject or objective exits 2 and says what is expected", async () => {
    const missing = await runCli(["export"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("dashboards, alerts");
    const objective = await runCli(["export", "alerts", "--latency-threshold", "0.3"]);
    expect(objective.code).toBe(2);
    expect(objective.stderr).toContain("buckets");
  });
});
