import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { configTable, replaceSection } from "../ops/scripts/readme.ts";
import { settings } from "./config.ts";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("README", () => {
  test("the configuration table is what `npm run docs` generates", () => {
    expect(replaceSection(readme, "config", configTable())).toBe(readme);
  });

  test("every variable config.ts reads is documented, and nothing else", () => {
    const source = readFileSync(new URL("./config.ts", import.meta.url), "utf8");
    const read = new Set([...source.matchAll(/env\.([A-Z_]+)/g)].map((match) => match[1]));
    expect([...read].sort()).toEqual(settings.map((setting) => setting.env).sort());
  });

  test("shows the quick start and the test command", () => {
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toContain("npm ci && npm test");
  });
});
