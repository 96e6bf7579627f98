import { boundedLabels, catalog, externalMetrics, targetLabels, type MetricSpec } from "../metrics/catalog.ts";

/** A selector problem in a query: which query, and what is wrong. */
export interface LintProblem {
  where: string;
  problem: string;
}

// Words that are PromQL syntax, not metric names (aggregations may be followed by `by (...)` instead of `(`).
const keywords = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "atan2",
  "sum",
  "avg",
  "min",
  "max",
  "count",
  "group",
  "stddev",
  "stdvar",
  "topk",
  "bottomk",
  "quantile",
  "count_values",
]);
const grouping = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);

/** The metrics a query may name, with the labels each may be selected or grouped by. */
export function knownSeries(recordingRules: Record<string, readonly string[]> = {}): Map<string, Set<string>> {
  const known = new Map<string, Set<string>>();
  const add = (name: string, labels: readonly string[]) => known.set(name, new Set([...labels, ...targetLabels]));
  for (const spec of Object.values(catalog) as MetricSpec[]) {
    if (spec.type === "histogram") {
      add(`${spec.name}_bucket`, [...spec.labels, "le"]);
      add(`${spec.name}_sum`, spec.labels);
      add(`${spec.name}_count`, spec.labels);
    } else add(spec.name, spec.labels);
  }
  for (const [name, external] of Object.entries(externalMetrics)) add(name, external.labels);
  // A recording rule keeps only the labels it aggregates by: a matcher on any other label can never match.
  for (const [name, labels] of Object.entries(recordingRules)) known.set(name, new Set(labels));
  return known;
}

/** The catalog's own labels must be bounded: no metric may carry a username, path or other open-ended value. */
export function lintCatalog(): LintProblem[] {
  return (Object.values(catalog) as MetricSpec[]).flatMap((spec) =>
    spec.labels
      .filter((label) => !boundedLabels.has(label))
      .map((label) => ({ where: spec.name, problem: `label "${label}" is not one of the bounded labels (${[...boundedLabels].join(", ")})` })),
  );
}

/**
 * Checks every metric a PromQL expression names against `known`: the metric exists, each matcher's label
 * exists on it, and each grouping label exists on some metric of the expression.
 */
export function lintQuery(where: string, expr: string, known: Map<string, Set<string>>): LintProblem[] {
  const problems: LintProblem[] = [];
  const tokens = _tokens(expr);
  const named: string[] = [];
  const groupedBy: string[] = [];
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    if (token.kind !== "word") continue;
    const next = tokens[index + 1];
    if (grouping.has(token.text) && next?.kind === "paren") {
      groupedBy.push(
        ...next.inner
          .split(",")
          .map((label) => label.trim())
          .filter(Boolean),
      );
      index++;
      continue;
    }
    if (keywords.has(token.text) || next?.kind === "call") continue;
    named.push(token.text);
    const labels = known.get(token.text);
    if (!labels) {
      problems.push({ where, problem: `metric "${token.text}" is in neither the catalog nor the known external metrics` });
      continue;
    }
    if (next?.kind === "matchers") {
      for (const label of _matcherLabels(next.inner)) {
        if (!labels.has(label)) problems.push({ where, problem: `metric "${token.text}" has no label "${label}"` });
      }
    }
  }
  for (const label of groupedBy) {
    if (!named.some((name) => known.get(name)?.has(label))) {
      problems.push({ where, problem: `grouping label "${label}" is on none of ${named.join(", ") || "the metrics"}` });
    }
  }
  return problems;
}

type Token = { kind: "word"; text: string } | { kind: "call" } | { kind: "paren"; inner: string } | { kind: "matchers"; inner: string };

function _tokens(expr: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < expr.length) {
    const char = expr[index]!;
    if (char === '"' || char === "'") {
      index = _skipString(expr, index);
    } else if (char === "{") {
      const end = _closing(expr, index, "{", "}");
      tokens.push({ kind: "matchers", inner: expr.slice(index + 1, end) });
      index = end + 1;
    } else if (char === "[") {
      index = expr.indexOf("]", index) + 1;
    } else if (char === "(") {
      const previous = tokens.at(-1);
      if (previous?.kind === "word" && grouping.has(previous.text)) {
        const end = _closing(expr, index, "(", ")");
        tokens.push({ kind: "paren", inner: expr.slice(index + 1, end) });
        index = end + 1;
      } else {
        if (previous?.kind === "word") tokens.splice(tokens.length - 1, 1, { kind: "word", text: previous.text }, { kind: "call" });
        index++;
      }
    } else if (/[A-Za-z_:]/.test(char)) {
      const match = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(expr.slice(index))!;
      tokens.push({ kind: "word", text: match[0] });
      index += match[0].length;
    } else if (/[0-9.]/.test(char)) {
      index += /^[0-9.eE+-]+[smhdwy]?/.exec(expr.slice(index))![0].length;
    } else index++;
  }
  return tokens;
}

function _matcherLabels(inner: string): string[] {
  const labels: string[] = [];
  for (const match of inner.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')/g)) labels.push(match[1]!);
  return labels;
}

function _skipString(expr: string, start: number): number {
  const quote = expr[start];
  let index = start + 1;
  while (index < expr.length && expr[index] !== quote) index += expr[index] === "\\" ? 2 : 1;
  return index + 1;
}

function _closing(expr: string, start: number, open: string, close: string): number {
  let depth = 0;
  for (let index = start; index < expr.length; index++) {
    const char = expr[index];
    if (char === '"' || char === "'") {
      index = _skipString(expr, index) - 1;
      continue;
    }
    if (char === open) depth++;
    if (char === close && --depth === 0) return index;
  }
  return expr.length;
}

/** Every query of every panel (and template variable) of the dashboards, with where it is. */
export function dashboardQueries(boards: Record<string, { panels?: unknown[]; templating?: { list?: unknown[] } }>): { where: string; expr: string }[] {
  const queries: { where: string; expr: string }[] = [];
  for (const [uid, board] of Object.entries(boards)) {
    for (const panel of (board.panels ?? []) as { title?: string; targets?: { expr?: string }[] }[]) {
      for (const target of panel.targets ?? []) {
        if (target.expr) queries.push({ where: `${uid} / ${panel.title}`, expr: target.expr });
      }
    }
    for (const variable of (board.templating?.list ?? []) as { name?: string; type?: string; query?: unknown }[]) {
      const match = variable.type === "query" && typeof variable.query === "string" ? /^label_values\((.*),\s*\w+\)$/.exec(variable.query) : null;
      if (match) queries.push({ where: `${uid} / $${variable.name}`, expr: match[1]! });
    }
  }
  return queries;
}

/** Every expression of a rule file, with the rule it belongs to, and the labels each recording rule keeps. */
export function ruleQueries(file: { groups: { rules: Record<string, unknown>[] }[] }): {
  queries: { where: string; expr: string }[];
  records: Record<string, string[]>;
} {
  const queries: { where: string; expr: string }[] = [];
  const records: Record<string, string[]> = {};
  for (const group of file.groups) {
    for (const rule of group.rules) {
      const name = String(rule.alert ?? rule.record);
      queries.push({ where: name, expr: String(rule.expr) });
      if (rule.record)
        records[name] =
          /sum by \(([^)]*)\)/
            .exec(String(rule.expr))?.[1]
            ?.split(",")
            .map((label) => label.trim()) ?? [];
    }
  }
  return { queries, records };
}
