import * as common from "@grafana/grafana-foundation-sdk/common";
import { DashboardBuilder, DatasourceVariableBuilder, QueryVariableBuilder, VariableRefresh, VariableSort } from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TimeseriesBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import { catalog } from "../metrics/catalog.ts";
import { createQueries } from "./promql.ts";

/** Every panel's data source: the dashboard's `datasource` variable. */
export const datasource: common.DataSourceRef = { type: "prometheus", uid: "${datasource}" };

/** The matchers every dashboard query starts from: the namespace, job and pod variables. */
export const dashboardSelector = 'namespace=~"$namespace", job=~"$job", pod=~"$pod"';

/** Query helpers for dashboards: the variables' selector and Grafana's rate interval. */
export const q = createQueries(dashboardSelector, "$__rate_interval");

/** One query of a panel: PromQL and its legend. */
export interface Target {
  expr: string;
  legend?: string;
  /** Show the series' exemplars (trace ids on request durations), each a link to its trace. */
  exemplar?: boolean;
}

/** A time-series panel with a unit and its queries; `span` is in grid columns (24 per row). */
export function timeseries(title: string, unit: string, targets: Target[], options: { span?: number; description?: string; stack?: boolean } = {}) {
  const panel = new TimeseriesBuilder()
    .title(title)
    .unit(unit)
    .datasource(datasource)
    .span(options.span ?? 12)
    .height(8)
    .lineWidth(1)
    .fillOpacity(options.stack ? 30 : 8)
    .showPoints(common.VisibilityMode.Never);
  if (options.description) panel.description(options.description);
  if (options.stack) panel.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  for (const [index, target] of targets.entries()) panel.withTarget(query(target, index));
  return panel;
}

/** A single-value panel; `mappings` turn numbers into words (breaker states). */
export function stat(title: string, unit: string, target: Target, options: { span?: number; description?: string; mappings?: Record<string, string> } = {}) {
  const panel = new StatBuilder()
    .title(title)
    .unit(unit)
    .datasource(datasource)
    .span(options.span ?? 6)
    .height(5)
    .withTarget(query(target, 0));
  if (options.description) panel.description(options.description);
  if (options.mappings) {
    const texts = Object.fromEntries(Object.entries(options.mappings).map(([value, text], index) => [value, { text, index }]));
    panel.mappings([{ type: "value" as never, options: texts }]);
  }
  return panel;
}

/** A dashboard with the shared look: fixed uid, tags, refresh, and the data source, namespace, job and pod variables. */
export function dashboard(uid: string, title: string, description: string) {
  const variable = (name: string, label: string, query: string) =>
    new QueryVariableBuilder(name)
      .label(label)
      .datasource(datasource)
      .query(query)
      .definition(query)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .includeAll(true)
      .allValue(".*")
      .multi(true)
      .current({ text: "All", value: "$__all" });
  const anchor = catalog.httpRequests.name;
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(["gists-api"])
    .editable()
    .refresh("30s")
    .time({ from: "now-6h", to: "now" })
    .timezone("browser")
    .withVariable(new DatasourceVariableBuilder("datasource").label("Data source").type("prometheus"))
    .withVariable(variable("namespace", "Namespace", `label_values(${anchor}, namespace)`))
    .withVariable(variable("job", "Job", `label_values(${anchor}{namespace=~"$namespace"}, job)`))
    .withVariable(variable("pod", "Pod", `label_values(${anchor}{namespace=~"$namespace", job=~"$job"}, pod)`));
}

function query(target: Target, index: number) {
  const builder = new DataqueryBuilder().expr(target.expr).refId(String.fromCharCode(65 + index));
  if (target.legend) builder.legendFormat(target.legend);
  if (target.exemplar) builder.exemplar(true);
  return builder;
}
