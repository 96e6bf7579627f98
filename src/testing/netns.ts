import { spawnSync } from "node:child_process";

/**
 * A network namespace joined to the root one by a veth pair, on a /30 of 10.213.0.0/16 that nothing else on the
 * host uses: a process run inside reaches the root side at `hostAddress`, and the root side reaches it at
 * `innerAddress`. `cut` drops packets (connections hang, none is refused), as a real partition does.
 */
export interface TestNamespace {
  readonly name: string;
  /** The root side of the veth pair: bind what the namespace must reach here. */
  readonly hostAddress: string;
  /** The namespace side of the veth pair: what runs inside listens here. */
  readonly innerAddress: string;
  /** The command that runs the next ones inside the namespace: `ip netns exec <name>`. */
  readonly exec: string[];
  /** Drops every TCP packet between the namespace and `hostAddress:port`, both ways. */
  cut(port: number): void;
  /** Lets them through again. */
  heal(port: number): void;
  /** Deletes the namespace and the veth pair; safe to call twice. */
  remove(): void;
}

/** Whether this machine lets a test make namespaces, and if not, why. */
export type NamespaceSupport = { ok: true } | { ok: false; reason: string };

/** Runs one command to its end; what it printed comes back with the verdict. */
export type CommandRunner = (command: string[]) => { ok: boolean; output: string };

/** Creates a namespace and its veth pair; throws, having removed what it made, when a step fails. */
export function createNamespace(run: CommandRunner = _run): TestNamespace {
  const id = _hex(3);
  const name = `gists-api-${id}`;
  // Interface names are at most 15 characters.
  const [hostSide, innerSide] = [`gah${id}`, `gan${id}`];
  const { hostAddress, innerAddress } = _freeSubnet(run);
  const remove = () => {
    if (!_live.delete(name)) return;
    // Deleting the namespace deletes its end of the pair and with it the root end; the second is for a half-made pair.
    run(["ip", "netns", "del", name]);
    run(["ip", "link", "del", hostSide]);
  };
  _live.set(name, remove);
  const must = (command: string[]) => {
    const done = run(command);
    if (!done.ok) throw new Error(`${command.join(" ")}: ${done.output.trim() || "failed"}`);
  };
  const step = (command: string[]) => {
    try {
      must(command);
    } catch (error) {
      remove();
      throw error;
    }
  };
  const inside = ["ip", "netns", "exec", name];
  step(["ip", "netns", "add", name]);
  step(["ip", "link", "add", hostSide, "type", "veth", "peer", "name", innerSide]);
  step(["ip", "link", "set", innerSide, "netns", name]);
  step(["ip", "addr", "add", `${hostAddress}/30`, "dev", hostSide]);
  step(["ip", "link", "set", hostSide, "up"]);
  step([...inside, "ip", "addr", "add", `${innerAddress}/30`, "dev", innerSide]);
  step([...inside, "ip", "link", "set", innerSide, "up"]);
  step([...inside, "ip", "link", "set", "lo", "up"]);
  const rules = (port: number) => [
    ["OUTPUT", "-d", hostAddress, "-p", "tcp", "--dport", String(port), "-j", "DROP"],
    ["INPUT", "-s", hostAddress, "-p", "tcp", "--sport", String(port), "-j", "DROP"],
  ];
  return {
    name,
    hostAddress,
    innerAddress,
    exec: inside,
    cut: (port) => {
      for (const rule of rules(port)) must([...inside, "iptables", "-A", ...rule]);
    },
    heal: (port) => {
      for (const rule of rules(port)) must([...inside, "iptables", "-D", ...rule]);
    },
    remove,
  };
}

/**
 * Tries what a partition test does (a namespace, a veth pair, a DROP rule inside) on a throwaway namespace and
 * removes it. Not root, no `ip` or `iptables`, or a kernel that refuses: the reason, for the test to print.
 */
export function namespaceSupport(run: CommandRunner = _run, uid: number | undefined = process.getuid?.()): NamespaceSupport {
  if (uid !== 0) return { ok: false, reason: `network namespaces need root; this process runs as uid ${uid ?? "unknown"}` };
  try {
    const probe = createNamespace(run);
    try {
      probe.cut(9);
    } finally {
      probe.remove();
    }
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

// Namespaces this process made and has not removed: a test that dies before its afterAll still leaves none.
const _live = new Map<string, () => void>();
process.once("exit", () => {
  for (const remove of [..._live.values()]) remove();
});

function _run(command: string[]): { ok: boolean; output: string } {
  const done = spawnSync(command[0]!, command.slice(1), { encoding: "utf8" });
  return { ok: done.status === 0, output: `${done.stderr ?? ""}${done.stdout ?? ""}${done.error ? String(done.error) : ""}` };
}

// A /30 none of the host's interfaces is on (another test run may hold one): its two usable addresses.
function _freeSubnet(run: CommandRunner): { hostAddress: string; innerAddress: string } {
  const taken = run(["ip", "-4", "-o", "addr", "show"]).output;
  for (let attempt = 0; attempt < 50; attempt++) {
    const [third, block] = crypto.getRandomValues(new Uint8Array(2));
    const base = `10.213.${third}.`;
    const first = (block! % 64) * 4;
    if (!new RegExp(`inet ${base.replaceAll(".", "\\.")}(${first}|${first + 1}|${first + 2}|${first + 3})/`).test(taken)) {
      return { hostAddress: `${base}${first + 1}`, innerAddress: `${base}${first + 2}` };
    }
  }
  throw new Error("no free /30 in 10.213.0.0/16");
}

function _hex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
