/** `npm run docs`: rewrites the README's generated parts (the configuration table) from the code. */
import { readFileSync, writeFileSync } from "node:fs";
import { settings } from "../../src/config.ts";

/** The configuration table, from the settings the service reads. */
export function configTable(): string {
  const rows = settings.map(
    (setting) => `| \`${setting.env}\` | ${setting.flag ? `\`${setting.flag}\`` : ""} | \`${setting.default}\` | ${setting.description} |`,
  );
  return ["| variable | flag | default | meaning |", "|---|---|---|---|", ...rows].join("\n");
}

/** `readme` with the text between `<!-- name:start -->` and `<!-- name:end -->` replaced. */
export function replaceSection(readme: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from === -1 || to === -1) throw new Error(`README.md has no ${start} ... ${end} section`);
  return `${readme.slice(0, from + start.length)}\n${body}\n${readme.slice(to)}`;
}

if (import.meta.main) {
  const path = new URL("../../README.md", import.meta.url);
  writeFileSync(path, replaceSection(readFileSync(path, "utf8"), "config", configTable()));
  console.log("README.md: configuration table regenerated");
}
