import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { startFakeGithub, type FakeGithub } from "../src/testing/fake-github.ts";
import { repoRoot } from "../src/testing/service.ts";
import { buildImage, imageBinary, mustRun, nonroot, preparePodman, runCommand } from "../src/testing/image-build.ts";

// The Kind overlay's workload run for real: `podman kube play` of the Deployment and ConfigMap exactly as
// kustomize renders them, with the Secret's data as a podman secret and the image built from the Dockerfile.
// A wrong env name, arg, port, probe path or a write to the read-only root fails here instead of on a cluster.
// What changes, and why: the image (this run's build), the pod's and Secret's names (unique per run, as the
// machine's podman is shared), GITHUB_API_URL (the fake GitHub), the port (podman 4.3 publishes every
// containerPort on the host, so a free one replaces 8080 in the ConfigMap and the containerPort alike), the
// Secret's values (filled as deploy.sh fills them), $(VAR) references, which Kubernetes expands and podman does
// not, expanded here the Kubernetes way, and the downward API's metadata.namespace, which podman 4.3 refuses,
// given as the value Kubernetes would give (the Deployment's namespace).

const socket = process.env.PODMAN_SOCKET ?? "/tmp/podman.sock";
const run = `${process.pid}-${Date.now().toString(36)}`;
const image = `localhost/gists-api:e2e-kube-${run}`;
const label = "gists-api-e2e-kube";
const app = { namespace: "gists-api", name: "gists-api", container: "gists-api" };
const adminToken = "kube-play-admin-token";

describe("the Kind overlay's workload under podman kube play [podman]", () => {
  let fake: FakeGithub | undefined;
  let work: string | undefined;
  let played: string | undefined;
  let secretName: string | undefined;
  let rendered: { deployment: any; container: any; config: Record<string, string> };
  let port = 0;
  let containerName = "";
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;

  beforeAll(async () => {
    await preparePodman(socket);
    await buildImage(image, label);
    fake = await startFakeGithub({ host: "0.0.0.0", users: { octocat: 8 } });
    port = await _freePort();
    const objects = await _renderKindOverlay();
    const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === app.name && o.metadata.namespace === app.namespace);
    const container = deployment.spec.template.spec.containers.find((c: any) => c.name === app.container);
    const configName = container.envFrom[0].configMapRef.name;
    const configMap = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === configName);
    const secretRef = container.env.find((e: any) => e.valueFrom?.secretKeyRef).valueFrom.secretKeyRef.name;
    const secret = objects.find((o) => o.kind === "Secret" && o.metadata.name === secretRef);
    rendered = { deployment: structuredClone(deployment), container: structuredClone(container), config: { ...configMap.data } };
    expect(Number(configMap.data.PORT)).toBe(container.ports.find((p: any) => p.name === "http").containerPort);

    // The changes listed at the top, and nothing else.
    deployment.metadata.name = `gists-api-e2e-${run}`;
    container.image = image;
    configMap.data.GITHUB_API_URL = `http://host.containers.internal:${new URL(fake.url).port}`;
    configMap.data.PORT = String(port);
    container.ports.find((p: any) => p.name === "http").containerPort = port;
    secretName = `${secret.metadata.name}-${run}`;
    const secretData: Record<string, string> = { ...secret.data, ADMIN_TOKEN: _b64(adminToken), REDIS_PASSWORD: _b64("0123456789abcdef0123456789abcdef") };
    for (const e of container.env ?? []) if (e.valueFrom?.secretKeyRef?.name === secret.metadata.name) e.valueFrom.secretKeyRef.name = secretName;
    for (const e of container.env ?? []) {
      if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") (e.value = deployment.metadata.namespace), delete e.valueFrom;
    }
    // podman names a Deployment's pod <name>-pod-0; that is what metadata.name gives inside it.
    container.env = _expandDependentEnv(container.env ?? [], configMap.data, secretData, `${deployment.metadata.name}-pod-0`);
    // podman 4.3 reads secretKeyRef from a podman secret holding the Secret's data map as JSON.
    work = mkdtempSync(join(tmpdir(), "gists-kube-play-"));
    writeFileSync(join(work, "secret.json"), JSON.stringify(secretData), { mode: 0o600 });
    await mustRun(["podman", "secret", "create", secretName, join(work, "secret.json")]);
    played = join(work, "workload.yaml");
    writeFileSync(played, [configMap, deployment].map((o) => stringify(o)).join("---\n"));
    await mustRun(["podman", "kube", "play", played]);
    containerName = `${deployment.metadata.name}-pod-0-${app.container}`;
    await _until(async () => (await fetch(url(rendered.container.readinessProbe.httpGet.path)).catch(() => undefined))?.status === 200, 30_000);
  }, 240_000);

  afterAll(async () => {
    if (played) await runCommand(["podman", "kube", "down", played]);
    if (secretName) await runCommand(["podman", "secret", "rm", secretName]);
    await runCommand(["podman", "rmi", "-f", image]);
    await fake?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  const inspect = async (format: string) => (await mustRun(["podman", "inspect", "--format", format, containerName])).stdout.trim();

  test("the pod runs under its securityContext: UID/GID 65532, read-only root, no capabilities, no privilege escalation", async () => {
    const security = rendered.container.securityContext;
    expect([security.runAsUser, security.runAsGroup]).toEqual([nonroot, nonroot]);
    const pid = await inspect("{{.State.Pid}}");
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    expect(status.match(/^Uid:\s+(.*)$/m)?.[1]?.split(/\s+/)).toEqual(Array(4).fill(String(security.runAsUser)));
    expect(status.match(/^Gid:\s+(.*)$/m)?.[1]?.split(/\s+/)).toEqual(Array(4).fill(String(security.runAsGroup)));
    // capabilities: drop [ALL] leaves the process none, effective or bounding; allowPrivilegeEscalation: false.
    expect(status.match(/^CapEff:\s+(\S+)$/m)?.[1]).toBe("0000000000000000");
    expect(status.match(/^CapBnd:\s+(\S+)$/m)?.[1]).toBe("0000000000000000");
    expect(status.match(/^NoNewPrivs:\s+(\d)$/m)?.[1]).toBe("1");
    expect(await inspect("{{.HostConfig.ReadonlyRootfs}}")).toBe(String(security.readOnlyRootFilesystem));
  }, 15_000);

  test("the root filesystem is read-only, and the manifest's emptyDir is mounted at /tmp", async () => {
    const mount = rendered.container.volumeMounts.find((m: any) => m.name === "tmp").mountPath;
    const write = async (path: string) => runCommand(["podman", "exec", containerName, imageBinary, "export", "alerts", "--out", path]);
    const root = await write("/probe.yaml");
    expect({ code: root.code === 0, erofs: (root.stdout + root.stderr).includes("EROFS") }).toEqual({ code: false, erofs: true });
    // podman makes an emptyDir a root-owned volume (Kubernetes makes it world-writable), so only the mount is checked.
    const mounts = JSON.parse(await inspect("{{json .Mounts}}")) as { Destination: string; RW: boolean }[];
    expect(mounts.find((m) => m.Destination === mount)?.RW).toBe(true);
  }, 15_000);

  test("every probe path answers 200 on the port the container declares, and the scrape path serves metrics", async () => {
    for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
      const { path, port: portName } = rendered.container[probe].httpGet;
      expect(rendered.container.ports.find((p: any) => p.name === portName)).toBeDefined();
      const res = await fetch(url(path));
      expect({ probe, status: res.status }).toEqual({ probe, status: 200 });
    }
    const annotations = rendered.deployment.spec.template.metadata.annotations;
    const metrics = await fetch(url(annotations["prometheus.io/path"]));
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("http_requests_total");
  }, 15_000);

  test("GET /octocat answers the fake GitHub's gists, fetched with the settings the manifests give", async () => {
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
    // The ConfigMap and the Secret reached the process under the names the service reads.
    const env = new Map(
      (await inspect("{{range .Config.Env}}{{println .}}{{end}}"))
        .split("\n")
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const),
    );
    for (const [name, value] of Object.entries(rendered.config))
      if (!["GITHUB_API_URL", "PORT"].includes(name)) expect({ name, value: env.get(name) }).toEqual({ name, value });
    expect(env.get("REDIS_URL")).toBe("redis://default:0123456789abcdef0123456789abcdef@gists-api-redis:6379/0");
    // The trace resource names this pod and its namespace, from the downward API.
    const podName = env.get("POD_NAME");
    expect(podName).toBe(containerName.slice(0, -(app.container.length + 1)));
    expect(env.get("OTEL_RESOURCE_ATTRIBUTES")).toBe(`deployment.environment.name=kind,k8s.namespace.name=${app.namespace},k8s.pod.name=${podName}`);
    for (const name of ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG"]) {
      expect({ name, value: env.get(name) }).toEqual({ name, value: rendered.container.env.find((e: any) => e.name === name).value });
    }
  }, 15_000);

  test("ADMIN_TOKEN from the Secret guards DELETE /cache", async () => {
    expect((await fetch(url("/cache"), { method: "DELETE" })).status).toBe(401);
    const cleared = await fetch(url("/cache"), { method: "DELETE", headers: { authorization: `Bearer ${adminToken}` } });
    expect(cleared.status).toBeLessThan(300);
  }, 15_000);
});

/** The Kind overlay as `kubectl kustomize` renders it. */
async function _renderKindOverlay(): Promise<any[]> {
  const result = await mustRun(["kubectl", "kustomize", `${repoRoot}k8s/overlays/kind`]);
  return parseAllDocuments(result.stdout)
    .map((doc) => doc.toJS())
    .filter(Boolean);
}

/**
 * A container's env with Kubernetes' dependent-variable expansion done: `$(NAME)` takes the value of NAME from
 * envFrom or from an earlier entry (a Secret's key, or the downward API's pod name), `$$` escapes, and an unknown
 * reference stays as written.
 */
function _expandDependentEnv(env: any[], configData: Record<string, string>, secretData: Record<string, string>, podName: string): any[] {
  const known = new Map(Object.entries(configData));
  return env.map((e) => {
    const fromSecret = e.valueFrom?.secretKeyRef ? Buffer.from(secretData[e.valueFrom.secretKeyRef.key] ?? "", "base64").toString() : undefined;
    const value = e.value ?? fromSecret ?? (e.valueFrom?.fieldRef?.fieldPath === "metadata.name" ? podName : undefined);
    if (e.value !== undefined) {
      const expanded = e.value.replace(/\$\$|\$\((\w+)\)/g, (match: string, name?: string) => (name === undefined ? "$" : (known.get(name) ?? match)));
      known.set(e.name, expanded);
      return { name: e.name, value: expanded };
    }
    if (value !== undefined) known.set(e.name, value);
    return e;
  });
}

function _b64(text: string): string {
  return Buffer.from(text).toString("base64");
}

async function _freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const found = server.port;
  server.stop(true);
  return found;
}

async function _until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`the pod did not become ready within ${timeoutMs} ms`);
    await Bun.sleep(200);
  }
}
