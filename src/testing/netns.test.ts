import { describe, expect, test } from "bun:test";
import { createNamespace, namespaceSupport, type CommandRunner } from "./netns.ts";

/** A runner that records every command and fails the first one that contains `failing`, with `output`. */
function recorder(failing?: string, output = "") {
  const commands: string[] = [];
  const run: CommandRunner = (command) => {
    const line = command.join(" ");
    commands.push(line);
    if (line.startsWith("ip -4 -o addr show")) return { ok: true, output: "1: lo    inet 127.0.0.1/8 scope host lo" };
    return failing !== undefined && line.includes(failing) ? { ok: false, output } : { ok: true, output: "" };
  };
  return { run, commands };
}

describe("whether a partition test can run here", () => {
  test("not root: skipped with the reason, and nothing tried", () => {
    const { run, commands } = recorder();
    expect(namespaceSupport(run, 1000)).toEqual({ ok: false, reason: "network namespaces need root; this process runs as uid 1000" });
    expect(commands).toEqual([]);
  });

  test("a kernel or sandbox that refuses `ip netns add`: its message is the reason, and what was made is removed", () => {
    const { run, commands } = recorder("netns add", "mount --make-shared /run/netns failed: Operation not permitted");
    const support = namespaceSupport(run, 0);
    expect(support.ok).toBe(false);
    expect(!support.ok && support.reason).toMatch(/^ip netns add gists-api-[0-9a-f]{6}: mount --make-shared \/run\/netns failed: Operation not permitted$/);
    expect(commands.slice(-2).map((line) => line.replace(/[0-9a-f]{6}/, "ID"))).toEqual(["ip netns del gists-api-ID", "ip link del gahID"]);
  });

  test("no iptables inside the namespace: not supported either, and the probe namespace is gone", () => {
    const { run, commands } = recorder("iptables", "iptables: command not found");
    const support = namespaceSupport(run, 0);
    expect(!support.ok && support.reason).toContain("iptables: command not found");
    expect(commands.filter((line) => line.startsWith("ip netns del")).length).toBe(1);
  });

  test("every step works: supported, after making and removing a namespace with a DROP rule inside", () => {
    const { run, commands } = recorder();
    expect(namespaceSupport(run, 0)).toEqual({ ok: true });
    const made = commands.map((line) => line.replace(/[0-9a-f]{6}/g, "ID").replace(/10\.213\.\d+\.\d+/g, "ADDR"));
    expect(made).toEqual([
      "ip -4 -o addr show",
      "ip netns add gists-api-ID",
      "ip link add gahID type veth peer name ganID",
      "ip link set ganID netns gists-api-ID",
      "ip addr add ADDR/30 dev gahID",
      "ip link set gahID up",
      "ip netns exec gists-api-ID ip addr add ADDR/30 dev ganID",
      "ip netns exec gists-api-ID ip link set ganID up",
      "ip netns exec gists-api-ID ip link set lo up",
      "ip netns exec gists-api-ID iptables -A OUTPUT -d ADDR -p tcp --dport 9 -j DROP",
      "ip netns exec gists-api-ID iptables -A INPUT -s ADDR -p tcp --sport 9 -j DROP",
      "ip netns del gists-api-ID",
      "ip link del gahID",
    ]);
  });

  test("the two ends of the pair are the usable addresses of one /30 that no interface here is on", () => {
    const namespace = createNamespace(recorder().run);
    const [host, inner] = [namespace.hostAddress, namespace.innerAddress].map((address) => address.split(".").map(Number));
    expect(host!.slice(0, 3)).toEqual(inner!.slice(0, 3));
    expect([host![3]! % 4, inner![3]! - host![3]!]).toEqual([1, 1]);
    expect(namespace.exec).toEqual(["ip", "netns", "exec", namespace.name]);
    namespace.remove();
  });
});
