// The alerting selector (`--selector`): the matchers inside the braces every rule reads the service through.

/** Throws when the selector would match nothing useful: every rule reads the service's series through it. */
export function checkSelector(selector: string): void {
  // Anything but matchers (braces, a metric name, nothing) would make `up{}` or `up{{...}}`: Prometheus refuses the file.
  const one = _matcher.source;
  if (!new RegExp(`^\\s*${one}(\\s*,\\s*${one})*\\s*,?\\s*$`).test(selector)) {
    throw new Error(`--selector takes the matchers inside the braces, e.g. job="gists-api", namespace="prod"; got ${JSON.stringify(selector)}`);
  }
}

/** The label names the selector matches on, in order, once each. */
export function selectorLabels(selector: string): string[] {
  return [...new Set([...selector.matchAll(_matcher)].map((match) => match[1]!))];
}

const _matcher = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"/g;
