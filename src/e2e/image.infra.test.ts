import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { GenericContainer, Wait, type StartedTestContainer } from "testcontainers";
import { startFakeGithub, type FakeGithub } from "../testing/fake-github.ts";
import { repoRoot } from "../testing/service.ts";
import { buildImage, imageBinary as binary, mustRun as _must, nonroot, preparePodman, runCommand as _run } from "../testing/image-build.ts";

// The repository's Dockerfile, built and run with Debian's podman through its Docker-compatible socket
// (ops/scripts/podman-setup.sh), from locally made stand-ins for its base images (src/testing/image-build.ts).

const socket = process.env.PODMAN_SOCKET ?? "/tmp/podman.sock";
const image = "localhost/gists-api:e2e";
const label = "gists-api-e2e";
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
    await preparePodman(socket);
    for (const [name, value] of Object.entries(runtimeEnv)) {
      savedEnv[name] = process.env[name];
      process.env[name] = value;
    }
    await buildImage(image, label);

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
    expect(body.data.map((gist) => gist.id)).toEqual(
      fake!
        .gists("octocat")
        .slice(0, 5)
        .map((gist) => gist.id),
    );
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

  test("the image ships the bill of materials that the binary prints, listing the runtime dependencies", async () => {
    const copy = join(mkdtempSync(join(tmpdir(), "gists-image-sbom-")), "sbom.cdx.json");
    await _must(["podman", "cp", `${container!.getId()}:/usr/share/gists-api/sbom.cdx.json`, copy]);
    const shipped = readFileSync(copy, "utf8");
    rmSync(dirname(copy), { recursive: true, force: true });
    const printed = await container!.exec([binary, "version", "--sbom"]);
    expect(printed.exitCode).toBe(0);
    expect(printed.stdout).toBe(shipped);
    const names = JSON.parse(shipped).components.map((c: { group?: string; name: string }) => (c.group ? `${c.group}/${c.name}` : c.name));
    expect(names).toEqual(expect.arrayContaining(["elysia", "ioredis", "prom-client"]));
    expect(names).not.toContain("typescript");
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

describe("ops/scripts/podman-setup.sh [podman]", () => {
  test("starts the API service and returns, holding none of its caller's pipes", async () => {
    // A socket of its own, so the shared service stays untouched; the service this starts is stopped below.
    const ownSocket = `/tmp/gists-podman-setup-${process.pid}.sock`;
    const proc = Bun.spawn(["bash", `${repoRoot}ops/scripts/podman-setup.sh`], {
      env: { ...process.env, PODMAN_SOCKET: ownSocket, PODMAN_SERVICE_LOG: `/tmp/gists-podman-setup-${process.pid}.log` },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    // The pipes reach end of file only once every process holding them has closed them, the service included.
    const finished = Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]).then(([code, , err]) => ({ code, err }));
    const hung = Bun.sleep(60_000).then(() => ({ code: -1, err: "still holding the caller's pipes after 60 s" }));
    try {
      const outcome = await Promise.race([finished, hung]);
      expect(outcome).toEqual({ code: 0, err: expect.any(String) });
    } finally {
      const started = Bun.spawnSync(["pgrep", "-f", `podman system service --time=0 unix://${ownSocket}`])
        .stdout.toString()
        .trim()
        .split("\n")
        .filter(Boolean);
      for (const pid of started) process.kill(Number(pid), "SIGTERM");
      proc.kill();
    }
  }, 90_000);
});
