/**
 * The address a request is accounted to, for the per-client rate limit and GitHub's budget share.
 * X-Forwarded-For is used only when proxies are configured to be trusted (RATE_LIMIT_TRUSTED_HOPS): the entry
 * `trustedHops` from the right is the one the outermost trusted proxy saw.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | null, trustedHops: number): string {
  if (trustedHops > 0 && forwardedFor) {
    const hops = forwardedFor
      .split(",")
      .map((hop) => hop.trim())
      .filter(Boolean);
    const client = hops[hops.length - trustedHops];
    if (client) return client;
  }
  return peer ?? "unknown";
}
