/** Where every alert's runbook lives in the repository: `<dir><alert>.md`. */
export const runbookDir = "ops/runbooks/";

/**
 * An alert's runbook annotations: `runbook_path` (the page in the repository, always) and `runbook_url` (a link
 * an operator can follow, only when the export was given the absolute URL its runbooks are published under).
 */
export function runbookAnnotations(alert: string, base: string | undefined): Record<string, string> {
  const path = `${runbookDir}${alert}.md`;
  if (base === undefined) return { runbook_path: path };
  return { runbook_path: path, runbook_url: new URL(`${alert}.md`, _withSlash(checkRunbookBase(base))).href };
}

/** Returns `base` when it is an absolute http(s) URL; throws a message naming the flag otherwise. */
export function checkRunbookBase(base: string): string {
  let url: URL | undefined;
  try {
    url = new URL(base);
  } catch {
    url = undefined;
  }
  // A relative path is a dead link in Alertmanager's and Grafana's UIs, which open runbook_url as it is.
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new Error(
      `--runbook-base must be an absolute http(s) URL where the runbooks are published (e.g. https://git.example/gists-api/-/blob/main/ops/runbooks/), got ${JSON.stringify(base)}`,
    );
  }
  return base;
}

function _withSlash(base: string): string {
  return base.endsWith("/") ? base : `${base}/`;
}
