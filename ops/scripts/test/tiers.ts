/**
 * The test tiers: which test files each of `npm run test:unit`, `test:e2e` and `test:infra` runs.
 * One rule per tier, by place and name; `tiers.test.ts` fails when a test file matches no tier or two.
 */
import { Glob } from "bun";
import { readFileSync } from "node:fs";

/** A tier of the suite, cheapest first. */
export type Tier = "unit" | "e2e" | "infra";

/** Which files are in a tier (globs relative to the repository root); what each needs is in the README. */
export interface TierRule {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/** The tiers in the order `npm test` reports them. */
export const tierRules: Record<Tier, TierRule> = {
  unit: {
    include: ["src/**/*.test.ts", "ops/**/*.test.ts"],
    exclude: ["src/e2e/**", "**/*.infra.test.ts"],
  },
  e2e: {
    include: ["src/e2e/**/*.test.ts"],
    exclude: ["**/*.infra.test.ts"],
  },
  infra: {
    include: ["**/*.infra.test.ts"],
    exclude: [],
  },
};

/** Every tier name, cheapest first. */
export const tierNames = Object.keys(tierRules) as Tier[];

/** Folders never searched for tests: dependencies, build output, version control. */
const _skipped = ["node_modules/", "dist/", ".git/"];

/** Every `*.test.ts` file of the repository, relative to `root`, sorted. */
export function allTestFiles(root: string): string[] {
  const files: string[] = [];
  for (const file of new Glob("**/*.test.ts").scanSync({ cwd: root, dot: false })) {
    if (!_skipped.some((dir) => file.startsWith(dir) || file.includes(`/${dir}`))) files.push(file);
  }
  return files.sort();
}

/** The tiers whose rule selects `file` (a path relative to the root): exactly one for a well-placed file. */
export function tiersOf(file: string, rules: Record<Tier, TierRule> = tierRules): Tier[] {
  return tierNames.filter((tier) => _matches(rules[tier], file));
}

/** The files that would run in no tier or in more than one, each with the tiers that select it. */
export function misplacedFiles(files: string[], rules: Record<Tier, TierRule> = tierRules): { file: string; tiers: Tier[] }[] {
  return files.map((file) => ({ file, tiers: tiersOf(file, rules) })).filter(({ tiers }) => tiers.length !== 1);
}

/** The test files of one tier, relative to `root`, sorted. */
export function tierFiles(root: string, tier: Tier): string[] {
  return allTestFiles(root).filter((file) => _matches(tierRules[tier], file));
}

function _matches(rule: TierRule, file: string): boolean {
  const any = (globs: readonly string[]) => globs.some((glob) => new Glob(glob).match(file));
  return any(rule.include) && !any(rule.exclude);
}

/**
 * Machine-wide things some test files take over, so no two of them run side by side: podman's storage and its API
 * socket (the image and kube play tests build and run the same image). A file holds one when its source matches.
 */
export const sharedResources: Record<string, RegExp> = {
  podman: /\bpreparePodman\(/,
};

/** The shared resources a test file (relative to `root`) holds while it runs. */
export function resourcesOf(root: string, file: string): string[] {
  const source = readFileSync(`${root}${file}`, "utf8");
  return Object.entries(sharedResources)
    .filter(([, uses]) => uses.test(source))
    .map(([name]) => name);
}
