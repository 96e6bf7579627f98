import { isIP } from "node:net";

/**
 * The names an operator reaches the service by for admin requests (`DELETE /cache`). A DNS rebinding page is
 * served from a name its author controls, which then resolves to the service: the browser sends that name as
 * `Host`, and `Origin` matches it, so only the name tells such a request from an operator's. IP addresses
 * are always accepted: no page can be served from a name that an address is.
 */
export interface AdminHosts {
  /** Names accepted as they are, lower-case. */
  readonly names: readonly string[];
  /** Endings accepted for any name (".svc" accepts "gists-api.prod.svc"), lower-case, with their dot. */
  readonly suffixes: readonly string[];
}

// A DNS name's labels (letters, digits, "-" and "_"), or the same after a leading dot.
const hostEntry = /^\.?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;

/** Reads ADMIN_HOSTS: comma-separated names, each exact or, with a leading dot, every name ending so. */
export function parseAdminHosts(text: string): AdminHosts {
  const entries = text
    .split(",")
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
  if (entries.length === 0) throw new Error("must list at least one host name, like localhost,gists-api,.svc");
  for (const entry of entries) {
    if (!hostEntry.test(entry)) {
      throw new Error(`${JSON.stringify(entry)} is not a host name or a .suffix (like gists-api or .svc.cluster.local); IP addresses need no entry`);
    }
  }
  return { names: entries.filter((entry) => !entry.startsWith(".")), suffixes: entries.filter((entry) => entry.startsWith(".")) };
}

/**
 * Why an admin request with this `Host` header is refused, or undefined when it may proceed: no header (not
 * a browser), an IP address, or a name ADMIN_HOSTS lists.
 */
export function adminHostRefusal(hosts: AdminHosts, host: string | null | undefined): string | undefined {
  if (!host) return undefined;
  const name = _hostName(host.toLowerCase());
  if (isIP(name) !== 0) return undefined;
  if (hosts.names.includes(name) || hosts.suffixes.some((suffix) => name.endsWith(suffix))) return undefined;
  const shown = JSON.stringify(host.length > 100 ? `${host.slice(0, 100)}...` : host);
  return `admin requests are refused for Host ${shown}: it is neither an IP address nor a name in ADMIN_HOSTS; add the name you reach the service by to ADMIN_HOSTS`;
}

// The name without its port, brackets (IPv6) or one trailing dot ("localhost." is localhost).
function _hostName(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]") === -1 ? undefined : host.indexOf("]"));
  const colon = host.lastIndexOf(":");
  const name = colon === -1 ? host : host.slice(0, colon);
  return name.endsWith(".") ? name.slice(0, -1) : name;
}
