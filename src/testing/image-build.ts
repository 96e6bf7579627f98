/**
 * The repository's Dockerfile, built with Debian's podman on a machine that can pull no image: both base images
 * are stand-ins made locally and passed as the Dockerfile's build arguments; the Dockerfile itself is the one
 * users build.
 *  - build stage: this checkout's Bun (node_modules/bun), glibc and a shell; `bun install` inside it reaches the
 *    npm registry like the host does (the host's CA bundle comes along).
 *  - runtime: what distroless cc:nonroot holds that the binary uses: glibc, CA certificates, passwd and group with
 *    nonroot (65532), /tmp and /home/nonroot; USER 65532.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { repoRoot } from "./service.ts";

/** The user distroless' nonroot images run as. */
export const nonroot = 65532;
/** Where the Dockerfile puts the binary. */
export const imageBinary = "/usr/local/bin/gists-api";

const bunBinary = realpathSync(`${repoRoot}node_modules/.bin/bun`);
const bunVersion = JSON.parse(readFileSync(`${repoRoot}node_modules/bun/package.json`, "utf8")).version as string;
const bases = {
  build: {
    tag: `localhost/gists-api-e2e/bun:${bunVersion}`,
    config: ["ENV=PATH=/usr/local/bin:/usr/bin:/bin", "ENV=HOME=/root", "ENV=NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt"],
  },
  runtime: { tag: "localhost/gists-api-e2e/distroless-cc:nonroot", config: [`USER=${nonroot}:${nonroot}`, "WORKDIR=/home/nonroot"] },
};

/** What a command printed and how it exited. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Make podman usable here (ops/scripts/podman-setup.sh: packages, settings, the API socket); idempotent. */
export async function preparePodman(socket: string): Promise<void> {
  await mustRun(["bash", `${repoRoot}ops/scripts/podman-setup.sh`], { PODMAN_SOCKET: socket });
}

/** Build the Dockerfile as `tag` (Docker format, so HEALTHCHECK survives), labelled so leftovers can be pruned. */
export async function buildImage(tag: string, label: string): Promise<void> {
  await _ensureBase(bases.build.tag, _buildBaseTree, bases.build.config);
  await _ensureBase(bases.runtime.tag, _runtimeBaseTree, bases.runtime.config);
  // --layers=false: no cache layers piling up on vfs.
  const buildArgs = [`BUILD_IMAGE=${bases.build.tag}`, `RUNTIME_IMAGE=${bases.runtime.tag}`].flatMap((arg) => ["--build-arg", arg]);
  await mustRun(["podman", "build", "--layers=false", "--format", "docker", ...buildArgs, "--label", label, "-t", tag, repoRoot]);
  // An earlier run that was cut short leaves its image untagged: drop those, and only those.
  await runCommand(["podman", "image", "prune", "-f", "--filter", `label=${label}`]);
}

/** Run a command; never throws for a non-zero exit. */
export async function runCommand(cmd: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Run a command that must succeed; its output tail is the error otherwise. */
export async function mustRun(cmd: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  const result = await runCommand(cmd, env);
  if (result.code !== 0) {
    throw new Error(`${cmd.join(" ")} exited ${result.code}:\n${(result.stdout + result.stderr).slice(-3000)}`);
  }
  return result;
}

/** Import a base image from a file tree made by `fill`, unless one with this tag exists. */
async function _ensureBase(tag: string, fill: (root: string) => void, changes: string[]): Promise<void> {
  if ((await runCommand(["podman", "image", "exists", tag])).code === 0) return;
  const work = mkdtempSync(join(tmpdir(), "gists-api-base-"));
  try {
    const root = join(work, "root");
    mkdirSync(root);
    fill(root);
    await mustRun(["tar", "--numeric-owner", "-C", root, "-cf", join(work, "rootfs.tar"), "."]);
    await mustRun(["podman", "import", ...changes.flatMap((change) => ["--change", change]), join(work, "rootfs.tar"), tag]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The build stage's stand-in for oven/bun: Bun, the C library and a POSIX shell for RUN. */
function _buildBaseTree(root: string): void {
  const shell = realpathSync("/bin/sh");
  _copyLibraries(root, [bunBinary, shell]);
  _copy(bunBinary, root, "/usr/local/bin/bun");
  _copy(shell, root, "/bin/sh");
  _copy("/etc/ssl/certs/ca-certificates.crt", root);
  mkdirSync(join(root, "root"), { recursive: true });
  mkdirSync(join(root, "tmp"), { mode: 0o1777 });
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
}

/** The runtime's stand-in for gcr.io/distroless/cc-debian12:nonroot. */
function _runtimeBaseTree(root: string): void {
  _copyLibraries(root, [bunBinary]);
  _copy("/etc/ssl/certs/ca-certificates.crt", root);
  const users = [
    "root:x:0:0:root:/root:/sbin/nologin",
    "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin",
    `nonroot:x:${nonroot}:${nonroot}:nonroot:/home/nonroot:/sbin/nologin`,
  ];
  writeFileSync(join(root, "etc/passwd"), `${users.join("\n")}\n`);
  writeFileSync(join(root, "etc/group"), `root:x:0:\nnobody:x:65534:\nnonroot:x:${nonroot}:\n`);
  mkdirSync(join(root, "tmp"), { mode: 0o1777 });
  mkdirSync(join(root, "home/nonroot"), { recursive: true });
  // The import keeps numeric owners: nonroot's home belongs to nonroot, as in distroless.
  Bun.spawnSync(["chown", `${nonroot}:${nonroot}`, join(root, "home/nonroot")]);
}

/** Copy every shared library `ldd` lists for the programs (and the dynamic loader) to the same paths under root. */
function _copyLibraries(root: string, programs: string[]): void {
  const ldd = Bun.spawnSync(["ldd", ...programs], { stdout: "pipe" });
  const libraries = new Set(ldd.stdout.toString().match(/\/[^\s:]+\.so[^\s:]*/g) ?? []);
  if (libraries.size === 0) throw new Error(`ldd found no libraries for ${programs.join(", ")}`);
  for (const library of libraries) _copy(library, root);
}

function _copy(from: string, root: string, to = from): void {
  mkdirSync(join(root, dirname(to)), { recursive: true });
  cpSync(from, join(root, to), { dereference: true });
}
