/**
 * The Kind deploy scripts (ops/scripts/k8s/), run for real against stand-ins for the tools that need a cluster or
 * a container engine (kind, kubectl, docker, podman, istioctl): each stand-in records its arguments, so the tests
 * check what the scripts would ask of the real ones. What the real tools then do needs a live cluster (smoke.sh).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "../../../src/testing/service.ts";

const scriptsDir = `${repoRoot}ops/scripts/k8s/`;
const version = JSON.parse(readFileSync(`${repoRoot}package.json`, "utf8")).version as string;
const versions = JSON.parse(readFileSync(`${scriptsDir}versions.json`, "utf8")) as Record<string, string>;
const realKubectl = Bun.which("kubectl");
/** The name the manifests give the image, fully qualified as Kind's containerd resolves it. */
const imageRef = `docker.io/library/gists-api:${version}`;

describe("deploy scripts with stand-in tools", () => {
  let work: string;
  let bin: string;

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "gists-k8s-scripts-"));
    bin = join(work, "bin");
    mkdirSync(bin);
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  /** A stand-in command: appends its name, KIND_EXPERIMENTAL_PROVIDER and argv as one tab-separated line, then runs `body`. */
  const fake = (name: string, body = "") => {
    const record = `{ printf '%s\\t%s' ${name} "\${KIND_EXPERIMENTAL_PROVIDER:-}"; printf '\\t%s' "$@"; printf '\\n'; } >>"${work}/calls.tsv"`;
    writeFileSync(join(bin, name), `#!/bin/bash\n${record}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  const calls = () =>
    existsSync(`${work}/calls.tsv`)
      ? readFileSync(`${work}/calls.tsv`, "utf8")
          .trimEnd()
          .split("\n")
          .map((line) => {
            const [tool, provider, ...args] = line.split("\t");
            return { tool: tool!, provider: provider || null, args };
          })
      : [];
  // Only the stand-ins and the system's own tools: no docker, kind or kubectl of the machine's.
  const run = (script: string, env: Record<string, string> = {}) => {
    const proc = Bun.spawnSync(["bash", `${scriptsDir}${script}`], {
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: work, GISTS_K8S_STATE_DIR: join(work, "state"), ...env },
      stdout: "pipe",
      stderr: "pipe",
    });
    return { code: proc.exitCode, stderr: proc.stderr.toString() };
  };

  test("image.sh with podman: a Docker-format image named as the manifests name it, with its commit, loaded as an archive", () => {
    fake("podman", 'if [[ "$1" == save ]]; then for a; do [[ "$prev" == -o ]] && : >"$a"; prev=$a; done; fi');
    fake("kind");
    const result = run("image.sh", { CONTAINER_ENGINE: "podman" });
    expect(result).toEqual({ code: 0, stderr: expect.any(String) });
    const commit = Bun.spawnSync(["git", "-C", repoRoot, "rev-parse", "--short=12", "HEAD"]).stdout.toString().trim();
    const [build, save, load] = calls();
    expect(build!.args.slice(0, 1)).toEqual(["build"]);
    expect(build!.args).toEqual(expect.arrayContaining(["--format", "docker", "-t", imageRef, "--build-arg", `GISTS_API_COMMIT=${commit}`]));
    expect(build!.args.at(-1)).toBe(repoRoot.replace(/\/$/, ""));
    // Saved under the full name: the archive's tag is what Kind's containerd imports.
    expect([save!.tool, save!.args[0], save!.args.at(-1)]).toEqual(["podman", "save", imageRef]);
    expect([load!.tool, ...load!.args.slice(0, 2), ...load!.args.slice(-2)]).toEqual(["kind", "load", "image-archive", "--name", "gists-api"]);
  }, 30_000);

  test("image.sh with docker: the same name and commit, loaded with kind load docker-image", () => {
    fake("docker");
    fake("kind");
    expect(run("image.sh").code).toBe(0);
    const [build, load] = calls();
    expect(build!.args).toEqual(expect.arrayContaining(["-t", imageRef, "--build-arg", expect.stringMatching(/^GISTS_API_COMMIT=[0-9a-f]{12}$/)]));
    expect(build!.args).not.toContain("--format");
    expect(load!.args).toEqual(["load", "docker-image", imageRef, "--name", "gists-api"]);
  }, 30_000);

  test("cluster.sh with podman needs no docker, tells kind to use podman, and pins the node image", () => {
    fake("podman");
    fake("kind", '[[ "$1" == version ]] && echo "kind v0.0.0 go1 linux/amd64"; exit 0');
    fake("kubectl");
    const result = run("cluster.sh", { CONTAINER_ENGINE: "podman" });
    expect(result.code).toBe(0);
    const create = calls().find((c) => c.tool === "kind" && c.args[0] === "create")!;
    expect(create.provider).toBe("podman");
    expect(create.args).toEqual(expect.arrayContaining(["--image", `kindest/node:${versions.kubernetes}`]));
    // A kind other than the pinned release is named, not silently used.
    expect(result.stderr).toContain(`kind ${versions.kind}`);
  }, 30_000);

  test.skipIf(!realKubectl)(
    "deploy.sh with podman: the pool from podman's network, a generated Redis password kept between runs",
    () => {
      fake("podman", 'echo "10.89.0.0/24 "');
      fake("kubectl", `if [[ "$1" == apply && "$2" == -k ]]; then "${realKubectl}" kustomize "$3" >"${work}/applied-$(date +%s%N).yaml" || exit 1; fi; exit 0`);
      for (const round of [1, 2])
        expect({ round, ...run("deploy.sh", { CONTAINER_ENGINE: "podman", GITHUB_TOKEN: "ghp_x" }) }).toMatchObject({ round, code: 0 });
      const renders = readdirSync(work)
        .filter((f) => f.startsWith("applied-"))
        .sort()
        .map((f) => parseAllDocuments(readFileSync(join(work, f), "utf8")).map((d) => d.toJS()));
      expect(renders.length).toBe(2);
      const secrets = renders.map((objects) => objects.find((o: any) => o.kind === "Secret" && o.metadata.namespace === "gists-api"));
      const password = Buffer.from(secrets[0].data.REDIS_PASSWORD, "base64").toString();
      expect(password).toMatch(/^[0-9a-f]{48}$/);
      // The same password on the second run, so Redis does not roll for nothing; never printed.
      expect(secrets[1].data.REDIS_PASSWORD).toBe(secrets[0].data.REDIS_PASSWORD);
      expect(Buffer.from(secrets[0].data.GITHUB_TOKEN, "base64").toString()).toBe("ghp_x");
      const pool = renders[0]!.find((o: any) => o.kind === "IPAddressPool");
      expect(pool.spec.addresses).toEqual(["10.89.0.200-10.89.0.250"]);
      expect(calls().some((c) => c.tool === "docker")).toBe(false);
      const tls = calls().find((c) => c.tool === "kubectl" && c.args.includes("tls"))!;
      expect(tls.args.slice(0, 2)).toEqual(["-n", "istio-ingress"]);
      // It waits for every Deployment it applied, Tempo's included, and for nothing else.
      const waited = new Set(
        calls()
          .filter((c) => c.tool === "kubectl" && c.args[2] === "rollout")
          .map((c) => `${c.args[1]}/${c.args[4]}`),
      );
      const deployments = renders[0]!.filter((o: any) => o.kind === "Deployment").map((o: any) => `${o.metadata.namespace}/deployment/${o.metadata.name}`);
      expect([...waited].sort()).toEqual(deployments.sort());
    },
    30_000,
  );

  test("the scripts speak to the user: no internal references, and every missing tool is named with where to look", () => {
    for (const script of readdirSync(scriptsDir).filter((f) => f.endsWith(".sh"))) {
      const text = readFileSync(`${scriptsDir}${script}`, "utf8");
      expect({ script, references: text.match(/\bissue\s*#?\d+/gi) ?? [] }).toEqual({ script, references: [] });
    }
    fake("kubectl");
    const missing = run("cluster.sh");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('kind is not installed (see k8s/README.md, "Prerequisites")');
  }, 30_000);

  test("one source of versions: no script spells a release number; metrics-server comes with Kind's kubelet flag", () => {
    for (const script of readdirSync(scriptsDir).filter((f) => f.endsWith(".sh"))) {
      const text = readFileSync(`${scriptsDir}${script}`, "utf8");
      // A release number, not an IPv4 address (four parts).
      expect({ script, literals: text.match(/(?<![\d.])v?\d+\.\d+\.\d+(?![\d.])/g) ?? [] }).toEqual({ script, literals: [] });
    }
    const platform = readFileSync(`${scriptsDir}platform.sh`, "utf8");
    expect(platform).toContain("metrics-server/releases/download/v$METRICS_SERVER_VERSION/components.yaml");
    expect(platform).toContain("--kubelet-insecure-tls");
    expect(platform).toContain('istioctl install -y -f "$ROOT/ops/scripts/k8s/istio-operator.yaml"');
    const terraform = readFileSync(`${repoRoot}terraform/metrics.tf`, "utf8");
    expect(terraform).toContain('args = ["--kubelet-insecure-tls"]');
  }, 30_000);

  test("every documented image build passes the commit the image reports", () => {
    const documents = ["README.md", "Dockerfile", "k8s/README.md", "terraform/README.md", "ops/scripts/k8s/image.sh"];
    const builds = documents.flatMap((file) =>
      readFileSync(`${repoRoot}${file}`, "utf8")
        // One command per entry, continuation lines (a trailing backslash) joined.
        .replace(/\\\n#?\s*/g, " ")
        .split("\n")
        .filter((line) => /\b(docker|podman|"\$ENGINE") build\b/.test(line))
        .map((line) => ({ file, line: line.trim() })),
    );
    expect(builds.length).toBeGreaterThanOrEqual(5);
    for (const build of builds) expect({ ...build, commit: build.line.includes("GISTS_API_COMMIT=") }).toEqual({ ...build, commit: true });
  });

  test("platform.sh refuses an istioctl of another release than the one pinned", () => {
    fake("istioctl", 'if [[ "$1" == version ]]; then echo "1.0.0"; fi');
    fake("kubectl");
    const result = run("platform.sh");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`this deploy pins Istio ${versions.istio}`);
    expect(calls().some((c) => c.tool === "istioctl" && c.args[0] === "install")).toBe(false);
  }, 30_000);
});
