/** The unit tier's coverage gates: Bun's per-file threshold and the total, both from bunfig.toml. */
import { readFileSync } from "node:fs";

/** Covered fractions (0..1) of functions and lines. */
export interface Coverage {
  functions: number;
  lines: number;
}

/** The floors: `perFile` is Bun's `[test] coverageThreshold`, `total` is `[tiers.unit] coverageTotal`. */
export interface CoverageGates {
  perFile: Coverage;
  total: Coverage;
}

/** Read the gates from a bunfig.toml. */
export function coverageGates(bunfigPath: string): CoverageGates {
  const config = Bun.TOML.parse(readFileSync(bunfigPath, "utf8")) as { test?: { coverageThreshold?: unknown }; tiers?: { unit?: { coverageTotal?: unknown } } };
  const floor = (value: unknown, name: string): Coverage => {
    const both = typeof value === "number" ? { functions: value, lines: value } : (value as Partial<Coverage> | undefined);
    if (typeof both?.functions !== "number" || typeof both?.lines !== "number") throw new Error(`bunfig.toml: ${name} needs lines and functions`);
    return { functions: both.functions, lines: both.lines };
  };
  return {
    perFile: floor(config.test?.coverageThreshold, "[test] coverageThreshold"),
    total: floor(config.tiers?.unit?.coverageTotal, "[tiers.unit] coverageTotal"),
  };
}

/** The rows of Bun's text coverage table, by file; the total is under "All files". */
export function coverageTable(output: string): Map<string, Coverage> {
  const rows = new Map<string, Coverage>();
  for (const [, file, functions, lines] of output.matchAll(/^\s*([^|\n]+?)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|/gm)) {
    rows.set(file!, { functions: Number(functions) / 100, lines: Number(lines) / 100 });
  }
  return rows;
}

/** What falls short of the gates, one line each (Bun itself fails a file below its threshold without saying which). */
export function coverageShortfalls(table: Map<string, Coverage>, gates: CoverageGates): string[] {
  const short: string[] = [];
  for (const [file, covered] of table) {
    const floor = file === "All files" ? gates.total : gates.perFile;
    for (const kind of ["functions", "lines"] as const) {
      if (covered[kind] < floor[kind])
        short.push(`${file === "All files" ? "total" : file}: ${_percent(covered[kind])} of ${kind}, below ${_percent(floor[kind])}`);
    }
  }
  return short;
}

function _percent(fraction: number): string {
  return `${(fraction * 100).toFixed(2).replace(/\.?0+$/, "")}%`;
}
