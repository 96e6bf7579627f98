import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { GenericContainer, Wait, type StartedTestContainer } from "testcontainers";
import { startFakeGithub, type FakeGithub } from "../testing/fake-github.ts";
import { repoRoot } from "../testing/service.ts";

// The repository's Dockerfile, built and run with Debian's podman through its Docker-compatible socket
// (ops/scripts/podman-setup.sh). No image can be pulled here, so both base images are stand-ins made
// locally and passed as the Dockerfile's build arguments; the Dockerfile itself is the one users build.
//  - build stage: this checkout's Bun (node_modules/bun), glibc and a shell; `bun install` inside it reaches
//    the npm registry like the host does (the host's CA bundle comes along).
//  - runtime: what distroless cc:nonroot holds that the binary uses: glibc, CA certificates, passwd and group
//    with nonroot (65532), /tmp and /home/nonroot; USER 65532.

const socket = process.env.PODMAN_SOCKET ?? "/tmp/podman.sock";
const image = "localhost/gists-api:e2e";
const label = "gists-api-e2e";
const bunBinary = realpathSync(`${repoRoot}node_modules/.bin/bun`);
const bunVersion = JSON.parse(readFileSync(`${repoRoot}node_modules/bun/package.json`, "utf8")).version as string;
const nonroot = 65532;
const bases = {
  build: {
    tag: `localhost/gists-api-e2e/bun:${bunVersion}`,
    config: ["ENV=PATH=/usr/local/bin:/usr/bin:/bin", "ENV=HOME=/root", "ENV=NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt"],
  },
  runtime: { tag: "localhost/gists-api-e2e/distroless-cc:nonroot", config: [`USER=${nonroot}:${nonroot}`, "WORKDIR=/home/nonroot"] },
};
const binary = "/usr/local/bin/gists-api";
// Testcontainers over podman's socket (shared/notes/machine.md): no Ryuk reaper, ports published on loopback.
const runtimeEnv = {
  DOCKER_HOST: `unix://${socket}`,
  TESTCONTAINERS_RYUK_DISABLED: "true",
  TESTCONTAINERS_HOST_OVERRIDE: "127.0.0.1",
};

describe("container image [podman]", () => {
  let fake: FakeGithub | undefined;
  let container: StartedTestContainer | undefined;
  const savedEnv: Record<string, string | undefined> = {};
  const url = (path: string) => `http://${container!.getHost()}:${container!.getMappedPort(8080)}${path}`;

  beforeAll(async () => {
    await _must(["bash", `${repoRoot}ops/scripts/podman-setup.sh`], { PODMAN_SOCKET: socket });
    for (const [name, value] of Object.entries(runtimeEnv)) {
      savedEnv[name] = process.env[name];
      process.env[name] = value;
    }
    await _ensureBase(bases.build.tag, _buildBaseTree, bases.build.config);
    await _ensureBase(bases.runtime.tag, _runtimeBaseTree, bases.runtime.config);
    // --format docker keeps HEALTHCHECK (OCI images have none); --layers=false: no cache layers piling up on vfs.
    const buildArgs = [`BUILD_IMAGE=${bases.build.tag}`, `RUNTIME_IMAGE=${bases.runtime.tag}`].flatMap((arg) => ["--build-arg", arg]);
    await _must(["podman", "build", "--layers=false", "--format", "docker", ...buildArgs, "--label", label, "-t", image, repoRoot]);
    // An earlier run that was cut short leaves its image untagged: drop those, and only those.
    await _run(["podman", "image", "prune", "-f", "--filter", `label=${label}`]);

    fake = await startFakeGithub({ host: "0.0.0.0", users: { octocat: 8 } });
    container = await new _HardenedContainer(image)
      .withReadOnlyRootFilesystem()
      // Podman mounts writable tmpfs on these in read-only containers; Docker and Kubernetes do not.
      .withTmpFs({ "/tmp": "ro", "/run": "ro", "/var/tmp": "ro" })
      // host.containers.internal is the host as podman's bridge network sees it.
      .withEnvironment({ GITHUB_API_URL: `http://host.containers.internal:${new URL(fake.url).port}` })
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forHttp("/readyz", 8080).forStatusCode(200))
      .withStartupTimeout(30_000)
      .start();
  }, 150_000);

  afterAll(async () => {
    await container?.stop({ timeout: 10_000 }).catch(() => undefined);
    await fake?.close();
    await _run(["podman", "rmi", "-f", image]);
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }, 30_000);

  test("the image runs the binary as nonroot, exposes 8080 and checks its own health", async () => {
    const [inspect] = JSON.parse((await _must(["podman", "image", "inspect", image])).stdout);
    expect(inspect.Config.User).toBe(`${nonroot}:${nonroot}`);
    expect(Object.keys(inspect.Config.ExposedPorts)).toEqual(["8080/tcp"]);
    expect(inspect.Config.Entrypoint).toEqual([binary]);
    expect(inspect.Config.Cmd).toEqual(["serve"]);
    // Podman reports it beside Config, Docker inside.
    expect((inspect.Healthcheck ?? inspect.Config.Healthcheck).Test).toEqual(["CMD", binary, "healthcheck"]);
  }, 10_000);

  test("GET /health answers 200", async () => {
    const res = await fetch(url("/health"));
    const healthy = { status: "healthy", service: "github-gists-api" };
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: healthy });
  }, 10_000);

  test("GET /{username} answers the fake GitHub's gists, fetched from inside the container", async () => {
    const res = await fetch(url("/octocat?per_page=5"));
    const body = (await res.json()) as { data: { id: string }[] };
    expect(res.status).toBe(200);
    expect(body.data.map((gist) => gist.id)).toEqual(fake!.gists("octocat").slice(0, 5).map((gist) => gist.id));
    expect(fake!.requestCount("octocat")).toBeGreaterThan(0);
  }, 15_000);

  test("the process runs as UID and GID 65532", async () => {
    const pid = (await _must(["podman", "inspect", "--format", "{{.State.Pid}}", container!.getId()])).stdout.trim();
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    // Real, effective, saved and filesystem IDs.
    expect(status.match(/^Uid:\s+(.*)$/m)?.[1]?.split(/\s+/)).toEqual(Array(4).fill(String(nonroot)));
    expect(status.match(/^Gid:\s+(.*)$/m)?.[1]?.split(/\s+/)).toEqual(Array(4).fill(String(nonroot)));
  }, 10_000);

  test("the root filesystem is read-only and the service needs no writable path", async () => {
    const readOnly = (await _must(["podman", "inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", container!.getId()])).stdout.trim();
    expect(readOnly).toBe("true");
    // No shell in the image: the binary's own export command is the writer.
    for (const path of ["/probe.yaml", "/home/nonroot/probe.yaml", "/tmp/probe.yaml"]) {
      const write = await container!.exec([binary, "export", "alerts", "--out", path]);
      const outcome = { path, failed: write.exitCode !== 0, erofs: write.output.includes("EROFS") };
      expect(outcome).toEqual({ path, failed: true, erofs: true });
    }
    expect((await fetch(url("/metrics"))).status).toBe(200);
  }, 15_000);

  test("the HEALTHCHECK passes while serving, and the probe fails when nothing answers", async () => {
    expect((await _run(["podman", "healthcheck", "run", container!.getId()])).code).toBe(0);
    expect((await container!.exec([binary, "healthcheck"])).exitCode).toBe(0);
    const nothingThere = [binary, "healthcheck", "--url", "http://127.0.0.1:1/healthz", "--timeout-ms", "500"];
    expect((await container!.exec(nothingThere)).exitCode).toBe(1);
  }, 15_000);

  test("SIGTERM from `stop` ends the process with exit code 0", async () => {
    await _must(["podman", "stop", "--time", "15", container!.getId()]);
    const exitCode = (await _must(["podman", "inspect", "--format", "{{.State.ExitCode}}", container!.getId()])).stdout.trim();
    expect(exitCode).toBe("0");
  }, 30_000);
});

/** GenericContainer plus the one `docker run` option it lacks: --read-only. */
class _HardenedContainer extends GenericContainer {
  withReadOnlyRootFilesystem(): this {
    this.hostConfig.ReadonlyRootfs = true;
    return this;
  }
}

/** Import a base image from a file tree made by `fill`, unless one with this tag exists. */
async function _ensureBase(tag: string, fill: (root: string) => void, changes: string[]): Promise<void> {
  if ((await _run(["podman", "image", "exists", tag])).code === 0) return;
  const work = mkdtempSync(join(tmpdir(), "gists-api-base-"));
  try {
    const root = join(work, "root");
    mkdirSync(root);
    fill(root);
    await _must(["tar", "--numeric-owner", "-C", root, "-cf", join(work, "rootfs.tar"), "."]);
    await _must(["podman", "import", ...changes.flatMap((change) => ["--change", change]), join(work, "rootfs.tar"), tag]);
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
  writeFileSync(join(root, "etc/passwd"), users.join("\n") + "\n");
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

interface _Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function _run(cmd: string[], env: Record<string, string> = {}): Promise<_Result> {
  const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Run a command that must succeed; its output tail is the error otherwise. */
async function _must(cmd: string[], env: Record<string, string> = {}): Promise<_Result> {
  const result = await _run(cmd, env);
  if (result.code !== 0) {
    throw new Error(`${cmd.join(" ")} exited ${result.code}:\n${(result.stdout + result.stderr).slice(-3000)}`);
  }
  return result;
}
