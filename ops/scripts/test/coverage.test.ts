import { describe, expect, test } from "bun:test";
import { coverageGates, coverageShortfalls, coverageTable } from "./coverage.ts";

const root = new URL("../../../", import.meta.url).pathname;

const table = `--------------------|---------|---------|-------------------
File                | % Funcs | % Lines | Uncovered Line #s
--------------------|---------|---------|-------------------
All files           |   90.00 |   95.50 |
 src/cache/store.ts |  100.00 |  100.00 | 
 src/app.ts         |   50.00 |   97.06 | 61,90
--------------------|---------|---------|-------------------`;

describe("unit coverage gates", () => {
  test("bunfig.toml holds a per-file floor below the total's", () => {
    const gates = coverageGates(`${root}bunfig.toml`);
    expect(gates.perFile.lines).toBeGreaterThan(0);
    expect(gates.perFile.lines).toBeLessThan(gates.total.lines);
    expect(gates.perFile.functions).toBeLessThan(gates.total.functions);
  });

  test("reads Bun's text table and names what is below its floor", () => {
    const rows = coverageTable(`(pass) a test\n${table}\n 3 pass`);
    expect([...rows.keys()]).toEqual(["All files", "src/cache/store.ts", "src/app.ts"]);
    expect(rows.get("src/app.ts")).toEqual({ functions: 0.5, lines: 0.9706 });
    const gates = { perFile: { functions: 0.6, lines: 0.6 }, total: { functions: 0.91, lines: 0.95 } };
    expect(coverageShortfalls(rows, gates)).toEqual(["total: 90% of functions, below 91%", "src/app.ts: 50% of functions, below 60%"]);
    expect(coverageShortfalls(rows, { perFile: { functions: 0.5, lines: 0.6 }, total: { functions: 0.9, lines: 0.955 } })).toEqual([]);
  });
});
