/**
 * The Kubernetes manifests under k8s/, checked hard and offline: every overlay and every component (composed on
 * the base) is rendered with `kubectl kustomize`, every object is validated against its schema, the objects'
 * references to one another are resolved, and the paths and port the manifests probe are asked of the real binary.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import Ajv from "ajv";
import * as istioNetworkingV1beta1 from "@kubernetes-models/istio/networking.istio.io/v1beta1";
import * as istioSecurityV1 from "@kubernetes-models/istio/security.istio.io/v1";
import * as istioSecurityV1beta1 from "@kubernetes-models/istio/security.istio.io/v1beta1";
import * as istioTelemetryV1alpha1 from "@kubernetes-models/istio/telemetry.istio.io/v1alpha1";
import * as appsV1 from "kubernetes-models/apps/v1";
import * as autoscalingV2 from "kubernetes-models/autoscaling/v2";
import * as networkingV1 from "kubernetes-models/networking.k8s.io/v1";
import * as policyV1 from "kubernetes-models/policy/v1";
import * as rbacV1 from "kubernetes-models/rbac.authorization.k8s.io/v1";
import * as coreV1 from "kubernetes-models/v1";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { settings } from "../src/config.ts";
import {
  byName,
  describePeer,
  type K8sObject,
  kustomize,
  matchesLabels,
  matchesSelector,
  objectId,
  ofKind,
  restrictedContainer,
  podTemplates,
  containerPort,
  generatedConfigMap,
  type PodTemplate,
} from "./rendered.ts";
import { startFakeGithub, type FakeGithub } from "../src/testing/fake-github.ts";
import { repoRoot, startService, type RunningService } from "../src/testing/service.ts";

const k8sDir = `${repoRoot}k8s/`;
const scriptsDir = `${repoRoot}ops/scripts/k8s/`;
const app = { namespace: "gists-api", name: "gists-api", container: "gists-api" };
const secretSettings = ["GITHUB_TOKEN", "ADMIN_TOKEN"];
/** The Secret the service reads by this fixed name: a real cluster's secret store provides it, only Kind generates it. */
const appSecret = "gists-api-secrets";
/** The shared tier's connection setting (src/config.ts). */
const sharedTierEnv = "REDIS_URL";
const redis = { name: "gists-api-redis", container: "redis", port: 6379 };
/** The monitoring component's trace backend and the ports the service's pods send to: OTLP/HTTP (SDK), OTLP/gRPC (sidecar). */
const tempo = { name: "tempo", namespace: "monitoring", ports: [4317, 4318] };
/** Namespaces the platform brings (Kind, istioctl, MetalLB's manifest), never the manifests. */
const platformNamespaces = new Set(["kube-system", "istio-system", "istio-ingress", "metallb-system"]);
/** Where the ingress gateway runs (its own namespace, as Istio's "Installing Gateways" advises) and its label. */
const gateway = { namespace: "istio-ingress", labels: { istio: "ingressgateway" } };
/** kubectl apply (client side) keeps the whole object in an annotation capped at 256 KiB. */
const lastAppliedLimitBytes = 262_144;
/** Kind's default docker network (`docker network inspect kind`); the MetalLB pool must lie inside it. */
const kindSubnet = "172.18.0.0/16";
/** The user the image runs as when there is no Dockerfile to read yet (as the README documents it). */
const documentedImageUser = 65532;

describe("k8s manifests", () => {
  let renders: Map<string, K8sObject[]>;

  beforeAll(async () => {
    renders = await _renderAll();
  }, 60_000);

  const each = (check: (objects: K8sObject[], name: string) => void) => () => {
    for (const [name, objects] of renders) {
      try {
        check(objects, name);
      } catch (error) {
        throw new Error(`${name}: ${(error as Error).message}`);
      }
    }
  };
  const overlay = (name: string) => {
    const objects = renders.get(`overlays/${name}`);
    if (!objects) throw new Error(`k8s/overlays/${name} was not rendered`);
    return objects;
  };

  test("every overlay, and every component on the base, renders offline", () => {
    expect([...renders.keys()]).toEqual(
      expect.arrayContaining([
        "base",
        "overlays/kind",
        "overlays/production",
        "components/istio",
        "components/metallb",
        "components/monitoring",
        "components/prometheus-operator",
      ]),
    );
    for (const [name, objects] of renders) {
      const ids = objects.map(objectId);
      expect({ name, duplicates: ids.filter((id, i) => ids.indexOf(id) !== i) }).toEqual({ name, duplicates: [] });
      expect(objects.length).toBeGreaterThan(0);
    }
  });

  test(
    "every rendered object validates against its schema",
    each((objects) => {
      expect(objects.flatMap(_schemaProblems)).toEqual([]);
    }),
  );

  test("no object has a field its API does not define (the models' types, checked by tsc)", async () => {
    // kubernetes-models' validators accept unknown fields, as the OpenAPI schemas do, while a cluster rejects or
    // silently drops them (a misspelt probe would simply be missing). TypeScript's excess-property check on the
    // models' interfaces finds them offline: each object becomes a typed literal, one per line.
    const unique = new Map<string, K8sObject>();
    for (const objects of renders.values()) for (const o of objects) if (!_crdSchemas[o.apiVersion]) unique.set(JSON.stringify(o), o);
    const objects = [...unique.values()];
    const source = objects.map(
      (o, i) =>
        `import type { I${o.kind} as T${i} } from "${_modelModule(o)}"; export const o${i}: T${i} = ${JSON.stringify({ ...o, apiVersion: _modelApiVersion(o) })};`,
    );
    // Inside node_modules, so the models resolve; .cache is where tools keep such files.
    const cache = `${repoRoot}node_modules/.cache/`;
    mkdirSync(cache, { recursive: true });
    const dir = mkdtempSync(`${cache}gists-k8s-fields-`);
    try {
      writeFileSync(join(dir, "objects.ts"), `${source.join("\n")}\n`);
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: { strict: true, noEmit: true, skipLibCheck: true, module: "ESNext", moduleResolution: "bundler", target: "ES2022", types: [] },
          files: ["objects.ts"],
        }),
      );
      const tsc = Bun.spawn([`${repoRoot}node_modules/.bin/tsc`, "-p", dir], { stdout: "pipe", stderr: "pipe" });
      const [code, out] = await Promise.all([tsc.exited, new Response(tsc.stdout).text()]);
      const problems = [...out.matchAll(/objects\.ts\((\d+),\d+\): error TS\d+: (.*)/g)].map(
        ([, line, message]) => `${objectId(objects[Number(line) - 1]!)}: ${message}`,
      );
      expect({ code, problems }).toEqual({ code: 0, problems: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test(
    "names are valid, namespaced objects name a namespace that is rendered or the platform's",
    each((objects) => {
      const namespaces = new Set(objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name));
      const problems: string[] = [];
      for (const o of objects) {
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(o.metadata.name)) problems.push(`${objectId(o)}: bad name`);
        const ns = o.metadata.namespace;
        if (o.kind === "Namespace") continue;
        if (!ns) problems.push(`${objectId(o)}: no namespace`);
        else if (!namespaces.has(ns) && !platformNamespaces.has(ns)) problems.push(`${objectId(o)}: namespace ${ns} is not rendered`);
      }
      expect(problems).toEqual([]);
    }),
  );

  test(
    "every ConfigMap, Secret, volume and service account a pod uses exists, with the keys it names",
    each((objects) => {
      expect(podTemplates(objects).flatMap((pod) => _referenceProblems(pod, objects))).toEqual([]);
    }),
  );

  test(
    "every Service selects pods and targets a port they declare",
    each((objects) => {
      for (const service of ofKind(objects, "Service")) {
        const pods = podTemplates(objects).filter((p) => p.namespace === service.metadata.namespace && matchesLabels(service.spec.selector, p.labels));
        expect({ service: objectId(service), pods: pods.length }).toEqual({ service: objectId(service), pods: 1 });
        for (const port of service.spec.ports) expect(containerPort(pods[0]!, port.targetPort)).toBeDefined();
      }
    }),
  );

  test(
    "the HPA and the PDB govern the Deployment",
    each((objects) => {
      const deployment = _appDeployment(objects);
      const hpa = _one(objects, "HorizontalPodAutoscaler", app.name);
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name });
      expect(hpa.metadata.namespace).toBe(deployment.metadata.namespace);
      // The service's container only (a pod's Resource metric would count the mesh sidecar as well).
      const metrics = hpa.spec.metrics.map((m: any) => [m.type, m.containerResource?.container, m.containerResource?.name]);
      expect(metrics.sort()).toEqual([
        ["ContainerResource", app.container, "cpu"],
        ["ContainerResource", app.container, "memory"],
      ]);
      // The HPA owns the count: a replicas field in the manifests would reset it on every apply.
      expect(deployment.spec.replicas).toBeUndefined();
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(3);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
      const pdb = _one(objects, "PodDisruptionBudget", app.name);
      expect(pdb.metadata.namespace).toBe(deployment.metadata.namespace);
      expect(matchesSelector(pdb.spec.selector, deployment.spec.template.metadata.labels)).toBe(true);
      expect(matchesSelector(deployment.spec.selector, deployment.spec.template.metadata.labels)).toBe(true);
      expect(pdb.spec.maxUnavailable).toBeLessThan(hpa.spec.minReplicas);
    }),
  );

  test(
    "the service's environment is its documented settings: the ConfigMap holds all but the secrets, the Secret those",
    each((objects) => {
      const container = _appContainer(objects);
      const documented = new Set(settings.map((s) => s.env));
      const config = _configData(objects);
      for (const name of Object.keys(config)) expect({ name, documented: documented.has(name) }).toEqual({ name, documented: true });
      for (const name of secretSettings) expect(Object.keys(config)).not.toContain(name);
      const env: any[] = container.env ?? [];
      // A variable that only other values expand with $(NAME) is no setting: the service never reads it.
      const expandedOnly = new Set(env.filter((e) => env.some((o) => o.value?.includes(`$(${e.name})`))).map((e) => e.name));
      for (const { name } of env.filter((e) => !expandedOnly.has(e.name))) {
        expect({ name, documented: documented.has(name) }).toEqual({ name, documented: true });
      }
      // Kubernetes expands $(NAME) only from variables defined earlier in the list; otherwise it stays literal.
      for (const [i, e] of env.entries()) {
        for (const [, ref] of (e.value ?? "").matchAll(/\$\((\w+)\)/g))
          expect({ env: e.name, defined: env.slice(0, i).map((d) => d.name) }).toEqual({ env: e.name, defined: expect.arrayContaining([ref]) });
      }
      const secretRefs = env.filter((e) => e.valueFrom?.secretKeyRef);
      expect(secretRefs.map((e) => e.valueFrom.secretKeyRef.key)).toEqual(secretRefs.map((e) => e.name));
      expect(secretRefs.map((e) => e.name)).toEqual(expect.arrayContaining(secretSettings));
      expect(new Set(secretRefs.map((e) => e.valueFrom.secretKeyRef.name)).size).toBe(1);
    }),
  );

  test("production reads the secret store's Secret by its fixed name; only Kind generates one, with every key used", () => {
    const secretRefs = (objects: K8sObject[]) =>
      podTemplates(objects).flatMap((p) => p.containers.flatMap((c) => (c.env ?? []).map((e: any) => e.valueFrom?.secretKeyRef).filter(Boolean)));
    for (const name of ["base", "overlays/production"]) {
      const objects = renders.get(name)!;
      const names = secretRefs(objects).map((r: any) => r.name);
      expect({ name, names: [...new Set(names)], generated: ofKind(objects, "Secret").map(objectId) }).toEqual({ name, names: [appSecret], generated: [] });
    }
    const kind = overlay("kind");
    const refs = secretRefs(kind);
    const secret = byName(kind, "Secret", refs[0].name, app.namespace);
    expect(secret.metadata.name).toMatch(new RegExp(`^${appSecret}-[a-z0-9]{10}$`));
    const required = new Set(refs.filter((r: any) => !r.optional).map((r: any) => r.key));
    expect(Object.keys(secret.data).sort()).toEqual([...required].sort());
    expect([...required].sort()).toEqual([...secretSettings, "REDIS_PASSWORD"].sort());
  });

  test(
    "the pod is hardened: non-root as the image's user, read-only root, no privilege, no capabilities, seccomp",
    each((objects) => {
      const deployment = _appDeployment(objects);
      const pod = deployment.spec.template.spec;
      const container = _appContainer(objects);
      const imageUser = _imageUser();
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: imageUser.uid, seccompProfile: { type: "RuntimeDefault" } });
      if (imageUser.gid !== undefined) expect(pod.securityContext.runAsGroup).toBe(imageUser.gid);
      expect(container.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: imageUser.uid,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(container.securityContext.capabilities.add).toBeUndefined();
      expect(container.securityContext.privileged).toBeFalsy();
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(byName(objects, "ServiceAccount", pod.serviceAccountName, app.namespace).automountServiceAccountToken).toBe(false);
      expect(pod.hostNetwork || pod.hostPID || pod.hostIPC).toBeFalsy();
      expect(container.args).toEqual(["serve"]);
      expect(container.command).toBeUndefined();
      for (const kind of ["requests", "limits"]) expect(Object.keys(container.resources[kind]).sort()).toEqual(["cpu", "memory"]);
    }),
  );

  test(
    "memory: the limit holds a full cache, and a full cache alone does not make the HPA scale out",
    each((objects) => {
      const container = _appContainer(objects);
      const cacheBytes = Number(_configData(objects).CACHE_MAX_BYTES);
      // README "Performance": a full cache settles near cache + 96 MiB; peaks run ~50 MiB above that.
      const settledBytes = cacheBytes + 96 * 2 ** 20;
      expect(_bytes(container.resources.limits.memory)).toBeGreaterThanOrEqual(settledBytes + 64 * 2 ** 20);
      const hpa = _one(objects, "HorizontalPodAutoscaler", app.name);
      const memory = hpa.spec.metrics.find((m: any) => m.containerResource.name === "memory").containerResource.target.averageUtilization;
      expect((_bytes(container.resources.requests.memory) * memory) / 100).toBeGreaterThan(settledBytes);
    }),
  );

  test(
    "probes and scraping use the port the service listens on; shutdown fits the grace period",
    each((objects) => {
      const deployment = _appDeployment(objects);
      const container = _appContainer(objects);
      const port = Number(_configData(objects).PORT);
      const http = container.ports.find((p: any) => p.name === "http");
      expect(http).toEqual({ name: "http", containerPort: port, protocol: "TCP" });
      for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
        expect(containerPort({ containers: [container] } as PodTemplate, container[probe].httpGet.port)).toBe(port);
      }
      expect(container.livenessProbe.httpGet.path).toBe("/healthz");
      expect(container.readinessProbe.httpGet.path).toBe("/readyz");
      const annotations = deployment.spec.template.metadata.annotations;
      expect(annotations["prometheus.io/scrape"]).toBe("true");
      expect(Number(annotations["prometheus.io/port"])).toBe(port);
      // preStop runs before SIGTERM; then the service drains for at most drainDeadlineMs and exits.
      const preStop = container.lifecycle.preStop.sleep.seconds;
      expect(preStop).toBeGreaterThanOrEqual(5);
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(preStop + _drainSeconds() + 1);
      const spread = deployment.spec.template.spec.topologySpreadConstraints;
      expect(spread.map((c: any) => c.topologyKey).sort()).toEqual(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
      for (const c of spread) expect(matchesSelector(c.labelSelector, deployment.spec.template.metadata.labels)).toBe(true);
    }),
  );

  test(
    "the NetworkPolicies select the pods, admit the gateway and monitoring only, and let out DNS, HTTPS and istiod only",
    each((objects) => {
      const pods = podTemplates(objects).filter((p) => p.namespace === app.namespace);
      const appPods = pods.filter((p) => p.owner === `Deployment/${app.name}`);
      // The service's policies; the shared tier's own are checked with the redis component.
      const policies = ofKind(objects, "NetworkPolicy").filter((p) => appPods.some((pod) => matchesSelector(p.spec.podSelector, pod.labels)));
      const allowedEgress = new Set(["UDP/53", "TCP/53", "TCP/443", "TCP/15012"]);
      for (const policy of ofKind(objects, "NetworkPolicy")) {
        const selected = podTemplates(objects).filter((p) => p.namespace === policy.metadata.namespace && matchesSelector(policy.spec.podSelector, p.labels));
        expect({ policy: objectId(policy), selects: selected.length > 0 }).toEqual({ policy: objectId(policy), selects: true });
      }
      for (const policy of policies) {
        // Each policy restricts exactly the directions it lists rules for (a listed type without rules denies all).
        expect([...policy.spec.policyTypes].sort()).toEqual(["Ingress", "Egress"].filter((t) => policy.spec[t.toLowerCase()]).sort());
        for (const rule of policy.spec.ingress ?? []) {
          for (const port of rule.ports) {
            if (typeof port.port === "string") expect(pods.some((p) => containerPort(p, port.port) !== undefined)).toBe(true);
          }
          for (const peer of rule.from) {
            expect(describePeer(peer)).toMatch(/^(ns:istio-ingress pods:istio=ingressgateway|ns:monitoring|pods:app\.kubernetes\.io\/component=cache-admin)$/);
          }
        }
        for (const rule of policy.spec.egress ?? []) {
          const toRedis = rule.to.every((peer: any) => describePeer(peer) === `pods:app.kubernetes.io/name=${redis.name}`);
          const toTempo = rule.to.every((peer: any) => describePeer(peer) === `ns:${tempo.namespace} pods:app.kubernetes.io/name=${tempo.name}`);
          for (const port of rule.ports) {
            const allowed =
              allowedEgress.has(`${port.protocol}/${port.port}`) ||
              (toRedis && port.port === redis.port) ||
              (toTempo && port.protocol === "TCP" && tempo.ports.includes(port.port));
            expect({ rule: rule.to.map(describePeer), port: `${port.protocol}/${port.port}`, allowed }).toMatchObject({ allowed: true });
          }
        }
      }
      const base = byName(objects, "NetworkPolicy", app.name, app.namespace);
      expect(base.spec.ingress.map((r: any) => r.ports.map((p: any) => p.port))).toEqual([["http"], ["http"], ["http"]]);
      expect(base.spec.egress.flatMap((r: any) => r.ports.map((p: any) => `${p.protocol}/${p.port}`)).sort()).toEqual(["TCP/443", "TCP/53", "UDP/53"]);
    }),
  );

  test("Kind runs the loaded image; every overlay runs the package's version", () => {
    const version = JSON.parse(readFileSync(`${repoRoot}package.json`, "utf8")).version;
    for (const [name, objects] of renders) {
      expect({ name, tag: _appContainer(objects).image.split(":").pop() }).toEqual({ name, tag: version });
    }
    expect(_appContainer(overlay("kind")).image).toBe(`gists-api:${version}`);
    expect(_appContainer(overlay("kind")).imagePullPolicy).toBe("IfNotPresent");
  });

  test("production: more replicas, no MetalLB, no bundled monitoring; Kind: everything", () => {
    const production = overlay("production");
    const base = renders.get("base")!;
    const floor = (objects: K8sObject[]) => _one(objects, "HorizontalPodAutoscaler", app.name).spec.minReplicas;
    expect(floor(production)).toBeGreaterThan(floor(base));
    expect(floor(base)).toBe(3);
    const spread = _appDeployment(production).spec.template.spec.topologySpreadConstraints;
    const zone = spread.filter((c: any) => c.topologyKey === "topology.kubernetes.io/zone");
    expect(zone.map((c: any) => c.whenUnsatisfiable)).toEqual(["DoNotSchedule"]);
    expect(production.filter((o) => o.apiVersion.startsWith("metallb.io/") || o.metadata.namespace === "monitoring")).toEqual([]);
    expect(production.some((o) => o.kind === "VirtualService")).toBe(true);
    const kinds = new Set(overlay("kind").map((o) => o.kind));
    for (const kind of ["VirtualService", "IPAddressPool", "L2Advertisement", "Gateway"]) expect(kinds.has(kind)).toBe(true);
    expect(byName(overlay("kind"), "Deployment", "prometheus", "monitoring")).toBeDefined();
  });

  test(
    "every ConfigMap fits kubectl apply's annotation limit",
    each((objects) => {
      for (const cm of ofKind(objects, "ConfigMap")) expect(JSON.stringify(cm).length).toBeLessThan(lastAppliedLimitBytes);
    }),
  );

  describe("istio", () => {
    const withIstio = () => [...renders].filter(([, objects]) => objects.some((o) => o.kind === "VirtualService"));

    test("the VirtualService and DestinationRule address the Service; gateway hosts are the Gateway's", () => {
      expect(withIstio().length).toBeGreaterThanOrEqual(3);
      for (const [, objects] of withIstio()) {
        const service = byName(objects, "Service", app.name, app.namespace);
        const vs = _one(objects, "VirtualService", app.name);
        const destinations = vs.spec.http.flatMap((route: any) => route.route.map((r: any) => r.destination));
        for (const d of destinations) {
          expect(_resolveServiceHost(objects, d.host, vs.metadata.namespace)).toBe(service);
          expect(service.spec.ports.map((p: any) => p.port)).toContain(d.port.number);
        }
        const dr = _one(objects, "DestinationRule", app.name);
        expect(_resolveServiceHost(objects, dr.spec.host, dr.metadata.namespace)).toBe(service);
        expect(vs.spec.gateways).toContain("mesh");
        const gateways = vs.spec.gateways.filter((g: string) => g !== "mesh").map((g: string) => byName(objects, "Gateway", g, vs.metadata.namespace));
        expect(gateways.length).toBe(1);
        const external = vs.spec.hosts.filter((h: string) => !_resolveServiceHost(objects, h, vs.metadata.namespace));
        expect(external.length).toBeGreaterThan(0);
        const gatewayHosts = new Set(gateways[0].spec.servers.flatMap((s: any) => s.hosts));
        for (const host of external) expect(gatewayHosts.has(host)).toBe(true);
        expect(vs.spec.hosts.some((h: string) => _resolveServiceHost(objects, h, vs.metadata.namespace) === service)).toBe(true);
      }
    });

    test("the Gateway listens on 80 and on 443 with the host and TLS secret the deploy scripts use", () => {
      const scripts = readFileSync(`${scriptsDir}lib.sh`, "utf8");
      for (const [, objects] of withIstio()) {
        const servers = _one(objects, "Gateway", app.name).spec.servers;
        expect(servers.map((s: any) => [s.port.number, s.port.protocol])).toEqual([
          [80, "HTTP"],
          [443, "HTTPS"],
        ]);
        expect(servers[1].tls.mode).toBe("SIMPLE");
        expect(scripts).toContain(`\nTLS_SECRET=${servers[1].tls.credentialName}\n`);
        for (const server of servers) expect(server.hosts).toEqual([_shellSetting(scripts, "GATEWAY_HOST")]);
      }
    });

    test("only idempotent reads are retried, only on connection failures, and never past GitHub's deadline", () => {
      for (const [, objects] of withIstio()) {
        const vs = _one(objects, "VirtualService", app.name);
        const upstreamTimeoutSeconds = Number(_configData(objects).UPSTREAM_TIMEOUT_MS) / 1000;
        for (const route of vs.spec.http) {
          expect(_seconds(route.timeout)).toBeGreaterThan(upstreamTimeoutSeconds);
          const methods = (route.match ?? []).map((m: any) => m.method?.exact);
          if (route.retries.attempts === 0) continue;
          expect(methods.length).toBeGreaterThan(0);
          for (const method of methods) expect(["GET", "HEAD"]).toContain(method);
          expect(route.retries.retryOn.split(",").sort()).toEqual(["connect-failure", "refused-stream", "reset"]);
          expect(_seconds(route.retries.perTryTimeout)).toBeGreaterThan(upstreamTimeoutSeconds);
          expect(_seconds(route.timeout)).toBeGreaterThanOrEqual(_seconds(route.retries.perTryTimeout));
        }
        const last = vs.spec.http.at(-1);
        expect(last.match).toBeUndefined();
        expect(last.retries.attempts).toBe(0);
        const dr = _one(objects, "DestinationRule", app.name).spec.trafficPolicy;
        expect(dr.connectionPool.tcp.maxConnections).toBeGreaterThan(0);
        expect(dr.outlierDetection.consecutiveLocalOriginFailures).toBeGreaterThan(0);
      }
    });

    test("mTLS is STRICT and the AuthorizationPolicy allows the API to the gateway, DELETE /cache in-namespace, /metrics to monitoring", () => {
      for (const [, objects] of withIstio()) {
        const pods = podTemplates(objects).filter((p) => p.namespace === app.namespace);
        const peer = ofKind(objects, "PeerAuthentication").filter((p) => p.metadata.namespace === app.namespace);
        expect(peer.map((p) => [p.spec.selector, p.spec.mtls.mode])).toEqual([[undefined, "STRICT"]]);
        const policy = _one(objects, "AuthorizationPolicy", app.name);
        const metricsPath = _appDeployment(objects).spec.template.metadata.annotations["prometheus.io/path"];
        expect(policy.spec.action).toBe("ALLOW");
        expect(pods.filter((p) => matchesSelector(policy.spec.selector, p.labels)).map((p) => p.owner)).toEqual([`Deployment/${app.name}`]);
        const rules = policy.spec.rules.map((r: any) => ({ from: r.from.map((f: any) => f.source), to: r.to.map((t: any) => t.operation) }));
        const gatewayPrincipals = [
          `cluster.local/ns/${gateway.namespace}/sa/istio-ingressgateway-service-account`,
          `cluster.local/ns/${gateway.namespace}/sa/istio-ingressgateway`,
        ];
        expect(rules).toEqual([
          { from: [{ principals: gatewayPrincipals }], to: [{ methods: ["GET", "HEAD", "OPTIONS"], paths: ["/", "/{*}", "/cache/stats", "/swagger/{**}"] }] },
          { from: [{ namespaces: [app.namespace] }], to: [{ methods: ["DELETE"], paths: ["/cache"] }] },
          { from: [{ namespaces: ["monitoring"] }], to: [{ methods: ["GET"], paths: [metricsPath] }] },
        ]);
        // ALLOW matches positively (Istio's security best practices); negative matching only in DENY.
        for (const policy of ofKind(objects, "AuthorizationPolicy")) {
          const negative = JSON.stringify(policy.spec.rules).match(/"not[A-Z]\w*"/g) ?? [];
          if (policy.spec.action === "ALLOW") expect({ policy: objectId(policy), negative }).toEqual({ policy: objectId(policy), negative: [] });
        }
        const deny = ofKind(objects, "AuthorizationPolicy").filter((p) => p.spec.action === "DENY");
        expect(deny.map((p) => p.spec.rules)).toEqual([
          [{ from: [{ source: { notNamespaces: ["monitoring"] } }], to: [{ operation: { paths: [metricsPath, `${metricsPath}/*`] } }] }],
        ]);
        // What the gateway may reach, checked against the service's own routes.
        const reachable = (path: string) => rules[0].to[0].paths.some((template: string) => _istioPathMatches(template, path));
        const denied = (path: string) => deny[0]!.spec.rules[0].to[0].operation.paths.some((template: string) => _istioPathMatches(template, path));
        const publicPaths = ["/", "/octocat", "/health", "/healthz", "/readyz", "/cache/stats", "/swagger", "/swagger/json", "/swagger/assets/init.js"];
        expect(publicPaths.filter((path) => !reachable(path) || denied(path))).toEqual([]);
        // DELETE (of /cache) is no method the gateway may send; GET /cache is a user's gists, like any other login.
        expect({ metrics: reachable(metricsPath) && !denied(metricsPath), deleteFromGateway: rules[0].to[0].methods.includes("DELETE") }).toEqual({
          metrics: false,
          deleteFromGateway: false,
        });
      }
    });

    test("plain HTTP only redirects to HTTPS, and every reference to the gateway names its own namespace", () => {
      const scripts = readFileSync(`${scriptsDir}lib.sh`, "utf8");
      expect(_shellSetting(scripts, "GATEWAY_NAMESPACE")).toBe(gateway.namespace);
      const operator = parseYaml(readFileSync(`${scriptsDir}istio-operator.yaml`, "utf8"));
      expect(operator.spec.components.ingressGateways.map((g: any) => [g.namespace, g.label, g.enabled])).toEqual([[gateway.namespace, gateway.labels, true]]);
      for (const [, objects] of withIstio()) {
        const servers = _one(objects, "Gateway", app.name).spec.servers;
        expect(servers.find((s: any) => s.port.protocol === "HTTP").tls).toEqual({ httpsRedirect: true });
        expect(_one(objects, "Gateway", app.name).spec.selector).toEqual(gateway.labels);
        const fromGateway = byName(objects, "NetworkPolicy", app.name, app.namespace).spec.ingress[0].from[0];
        expect(fromGateway.namespaceSelector.matchLabels).toEqual({ "kubernetes.io/metadata.name": gateway.namespace });
        for (const pool of ofKind(objects, "IPAddressPool")) expect(pool.spec.serviceAllocation.namespaces).toEqual([gateway.namespace]);
      }
    });

    test("GitHub is the one external host: a ServiceEntry for GITHUB_API_URL and REGISTRY_ONLY egress", () => {
      for (const [, objects] of withIstio()) {
        const github = new URL(_configData(objects).GITHUB_API_URL);
        const entries = ofKind(objects, "ServiceEntry");
        expect(entries.map((e) => [e.spec.hosts, e.spec.location, e.spec.ports.map((p: any) => [p.number, p.protocol])])).toEqual([
          [[github.hostname], "MESH_EXTERNAL", [[Number(github.port || 443), "TLS"]]],
        ]);
        const sidecar = ofKind(objects, "Sidecar").filter((s) => s.metadata.namespace === app.namespace);
        expect(sidecar.map((s) => [s.spec.workloadSelector, s.spec.outboundTrafficPolicy.mode])).toEqual([[undefined, "REGISTRY_ONLY"]]);
        expect(sidecar[0].spec.egress[0].hosts).toContain("./*");
      }
    });

    test("the mesh keeps the sidecar up through the drain, and the gateway labels agree everywhere", () => {
      for (const [, objects] of withIstio()) {
        const deployment = _appDeployment(objects);
        const proxy = parseYaml(deployment.spec.template.metadata.annotations["proxy.istio.io/config"]);
        const preStop = _appContainer(objects).lifecycle.preStop.sleep.seconds;
        expect(proxy.holdApplicationUntilProxyStarts).toBe(true);
        expect(_seconds(proxy.terminationDrainDuration)).toBeGreaterThanOrEqual(preStop + _drainSeconds());
        expect(_seconds(proxy.terminationDrainDuration)).toBeLessThan(deployment.spec.template.spec.terminationGracePeriodSeconds);
        expect(byName(objects, "Namespace", app.namespace, undefined).metadata.labels?.["istio-injection"]).toBe("enabled");
        expect(_configData(objects).RATE_LIMIT_TRUSTED_HOPS).toBe("1");
        const gatewayLabels = _one(objects, "Gateway", app.name).spec.selector;
        const fromGateway = byName(objects, "NetworkPolicy", app.name, app.namespace).spec.ingress[0].from[0].podSelector.matchLabels;
        expect(fromGateway).toEqual(gatewayLabels);
        const pool = ofKind(objects, "IPAddressPool")[0];
        if (pool) expect(pool.spec.serviceAllocation.serviceSelectors).toEqual([{ matchLabels: gatewayLabels }]);
      }
    });
  });

  describe("redis: the shared cache tier", () => {
    const withRedis = () => [...renders].filter(([, objects]) => objects.some((o) => o.kind === "Deployment" && o.metadata.name === redis.name));
    const deploymentOf = (objects: K8sObject[]) => byName(objects, "Deployment", redis.name, app.namespace);
    const containerOf = (objects: K8sObject[]) => deploymentOf(objects).spec.template.spec.containers.find((c: any) => c.name === redis.container);

    test("Kind runs it; production points REDIS_URL at a managed Redis from the secret store instead", () => {
      expect(
        withRedis()
          .map(([name]) => name)
          .sort(),
      ).toEqual(["components/redis", "overlays/kind"]);
      const production = _appContainer(overlay("production")).env.find((e: any) => e.name === sharedTierEnv);
      expect(production).toEqual({ name: sharedTierEnv, valueFrom: { secretKeyRef: { name: appSecret, key: sharedTierEnv, optional: true } } });
    });

    test("the image is pinned to a release, never a floating tag", () => {
      for (const [name, objects] of withRedis()) {
        const container = containerOf(objects);
        expect({ name, image: container.image }).toEqual({
          name,
          image: expect.stringMatching(/^(redis|valkey\/valkey):\d+\.\d+\.\d+(-alpine)?(@sha256:[0-9a-f]{64})?$/),
        });
        expect(container.imagePullPolicy).toBe("IfNotPresent");
      }
    });

    test("a cache: nothing on disk, a memory bound well under the limit, LRU eviction over all keys, one instance", () => {
      for (const [, objects] of withRedis()) {
        const container = containerOf(objects);
        const flags = _redisFlags(container.args);
        expect(flags.get("save")).toEqual([""]);
        expect(flags.get("appendonly")).toEqual(["no"]);
        expect(flags.get("maxmemory-policy")).toEqual(["allkeys-lru"]);
        const maxmemory = _redisBytes(flags.get("maxmemory")![0]!);
        // Buffers, fragmentation and the process itself live above maxmemory.
        expect(maxmemory).toBeLessThanOrEqual(0.75 * _bytes(container.resources.limits.memory));
        expect(maxmemory).toBeGreaterThan(0);
        const deployment = deploymentOf(objects);
        expect([deployment.spec.replicas, deployment.spec.strategy.type]).toEqual([1, "Recreate"]);
        // No volume that outlives the pod.
        for (const volume of deployment.spec.template.spec.volumes) expect(Object.keys(volume).sort()).toEqual(["emptyDir", "name"]);
      }
    });

    test("probes ask Redis itself, authenticated, and fail on an error reply", () => {
      for (const [, objects] of withRedis()) {
        const container = containerOf(objects);
        for (const probe of ["readinessProbe", "livenessProbe"]) {
          expect({ probe, handler: container[probe].exec }).toEqual({ probe, handler: { command: ["redis-cli", "-e", "ping"] } });
        }
        const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.valueFrom?.secretKeyRef]));
        expect(env.REDISCLI_AUTH).toEqual(env.REDIS_PASSWORD);
        expect(env.REDIS_PASSWORD.key).toBe("REDIS_PASSWORD");
      }
    });

    test("resources and the restricted Pod Security Standard: non-root, read-only root, no capabilities, seccomp", () => {
      for (const [, objects] of withRedis()) {
        const pod = deploymentOf(objects).spec.template.spec;
        const container = containerOf(objects);
        for (const kind of ["requests", "limits"]) expect(Object.keys(container.resources[kind]).sort()).toEqual(["cpu", "memory"]);
        expect(container.resources.requests.memory).toBe(container.resources.limits.memory);
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
        expect(container.securityContext).toMatchObject(restrictedContainer);
        expect(container.securityContext.capabilities.add).toBeUndefined();
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(byName(objects, "ServiceAccount", pod.serviceAccountName, app.namespace).automountServiceAccountToken).toBe(false);
        expect(pod.hostNetwork || pod.hostPID || pod.hostIPC).toBeFalsy();
      }
    });

    test("it joins the mesh on Kind: the namespace injects sidecars and the pod does not opt out", () => {
      const objects = overlay("kind");
      expect(byName(objects, "Namespace", app.namespace, undefined).metadata.labels?.["istio-injection"]).toBe("enabled");
      const template = deploymentOf(objects).spec.template.metadata;
      expect([template.labels?.["sidecar.istio.io/inject"], template.annotations?.["sidecar.istio.io/inject"]]).toEqual([undefined, undefined]);
    });

    test("its Service speaks tcp-redis, which Istio proxies as plain TCP", () => {
      for (const [, objects] of withRedis()) {
        const service = byName(objects, "Service", redis.name, app.namespace);
        expect(service.spec.ports.map((p: any) => [p.name, p.port])).toEqual([["tcp-redis", redis.port]]);
        const pods = podTemplates(objects).filter((p) => matchesLabels(service.spec.selector, p.labels));
        expect(pods.map((p) => p.owner)).toEqual([`Deployment/${redis.name}`]);
        expect(containerPort(pods[0]!, service.spec.ports[0].targetPort)).toBe(redis.port);
      }
    });

    test("NetworkPolicy admits the service's pods only, on 6379, and lets the service reach it", () => {
      for (const [, objects] of withRedis()) {
        const pods = podTemplates(objects).filter((p) => p.namespace === app.namespace);
        const redisPod = pods.find((p) => p.owner === `Deployment/${redis.name}`)!;
        const appPod = pods.find((p) => p.owner === `Deployment/${app.name}`)!;
        const guarding = ofKind(objects, "NetworkPolicy").filter((p) => matchesSelector(p.spec.podSelector, redisPod.labels));
        expect(guarding.map((p) => p.metadata.name)).toEqual([redis.name]);
        const [policy] = guarding;
        expect(matchesSelector(policy!.spec.podSelector, appPod.labels)).toBe(false);
        expect([...policy!.spec.policyTypes].sort()).toEqual(["Egress", "Ingress"]);
        const rules = policy!.spec.ingress.map((r: any) => ({
          from: r.from.map(describePeer),
          ports: r.ports.map((p: any) => (typeof p.port === "string" ? containerPort(redisPod, p.port) : p.port)),
        }));
        expect(rules).toEqual([
          { from: ["pods:app.kubernetes.io/name=gists-api"], ports: [redis.port] },
          { from: ["ns:monitoring"], ports: [15090] },
        ]);
        // That selector means the service's pods and nothing else in the namespace.
        const admitted = pods.filter((p) => matchesSelector(policy!.spec.ingress[0].from[0].podSelector, p.labels));
        expect(admitted.map((p) => p.owner)).toEqual([`Deployment/${app.name}`]);
        expect(policy!.spec.egress.flatMap((r: any) => r.ports.map((p: any) => `${p.protocol}/${p.port}`)).sort()).toEqual(["TCP/15012", "TCP/53", "UDP/53"]);
        const appEgress = ofKind(objects, "NetworkPolicy")
          .filter((p) => matchesSelector(p.spec.podSelector, appPod.labels))
          .flatMap((p) => p.spec.egress ?? [])
          .filter((r: any) => r.to.every((peer: any) => peer.podSelector && !peer.namespaceSelector && matchesSelector(peer.podSelector, redisPod.labels)));
        expect(appEgress.flatMap((r: any) => r.ports.map((p: any) => `${p.protocol}/${p.port}`))).toEqual([`TCP/${redis.port}`]);
      }
    });

    test("REDIS_URL points the service at that Service, with the password Redis requires", () => {
      for (const [, objects] of withRedis()) {
        const env: any[] = _appContainer(objects).env;
        const password = env.find((e) => e.name === "REDIS_PASSWORD").valueFrom.secretKeyRef;
        const redisPassword = containerOf(objects).env.find((e: any) => e.name === "REDIS_PASSWORD").valueFrom.secretKeyRef;
        expect(password).toEqual(redisPassword);
        const url = new URL(env.find((e) => e.name === sharedTierEnv).value.replace("$(REDIS_PASSWORD)", "expanded"));
        expect([url.protocol, url.username, url.password, url.pathname]).toEqual(["redis:", "default", "expanded", "/0"]);
        expect(_resolveServiceHost(objects, url.hostname, app.namespace)).toBe(byName(objects, "Service", redis.name, app.namespace));
        expect(Number(url.port)).toBe(redis.port);
      }
    });

    test.skipIf(!Bun.which("redis-server"))(
      "its command runs a real redis-server with these flags, refuses an empty password, and its probe passes",
      async () => {
        const objects = overlay("kind");
        const container = containerOf(objects);
        const port = await _freePort();
        const dir = mkdtempSync(join(tmpdir(), "gists-k8s-redis-"));
        // The container's own argv, listening on a free loopback port and working in a scratch directory.
        const flags = [...container.args];
        flags[flags.indexOf("--port") + 1] = String(port);
        flags[flags.indexOf("--dir") + 1] = dir;
        const argv = [...container.command, ...flags, "--bind", "127.0.0.1"];
        const start = (password: string) =>
          Bun.spawn(argv, { env: { PATH: process.env.PATH ?? "", REDIS_PASSWORD: password }, stdout: "pipe", stderr: "pipe" });
        const cli = (args: string[], auth?: string) =>
          Bun.spawnSync(["redis-cli", "-p", String(port), ...args], {
            env: { PATH: process.env.PATH ?? "", ...(auth ? { REDISCLI_AUTH: auth } : {}) },
            stdout: "pipe",
            stderr: "pipe",
          });
        try {
          const refused = start("");
          expect({ code: await refused.exited, err: (await new Response(refused.stderr).text()).includes("REDIS_PASSWORD") }).toEqual({ code: 2, err: true });
          const secret = "0123456789abcdef";
          const server = start(secret);
          try {
            const probe = container.readinessProbe.exec.command as string[];
            let ready = false;
            for (let i = 0; i < 200 && !ready; i++) {
              ready =
                Bun.spawnSync([probe[0]!, "-p", String(port), ...probe.slice(1)], { env: { PATH: process.env.PATH ?? "", REDISCLI_AUTH: secret } }).exitCode ===
                0;
              if (!ready) await Bun.sleep(25);
            }
            expect(ready).toBe(true);
            // Without the password the same probe fails: Redis is not open to whoever reaches it.
            expect(cli(["-e", "ping"]).exitCode).toBe(1);
            const config = (name: string) =>
              cli(["--no-raw", "config", "get", name], secret)
                .stdout.toString()
                .trim()
                .split("\n")
                .at(-1)!
                .replace(/^\d+\) /, "");
            expect([config("save"), config("appendonly"), config("maxmemory-policy"), config("maxmemory")]).toEqual([
              '""',
              '"no"',
              '"allkeys-lru"',
              `"${_redisBytes(_redisFlags(container.args).get("maxmemory")![0]!)}"`,
            ]);
            // REDIS_URL as the pod expands it, with the host the Service resolves to here.
            const url = _appContainer(objects)
              .env.find((e: any) => e.name === sharedTierEnv)
              .value.replace("$(REDIS_PASSWORD)", secret)
              .replace(redis.name, "127.0.0.1")
              .replace(`:${redis.port}/`, `:${port}/`);
            const viaUrl = Bun.spawnSync(["redis-cli", "-u", url, "-e", "ping"], { stdout: "pipe", stderr: "pipe" });
            expect(viaUrl.stdout.toString().trim()).toBe("PONG");
            // Redis rewrites its process title, so the password on its command line is not left in /proc.
            expect(readFileSync(`/proc/${server.pid}/cmdline`, "utf8")).not.toContain(secret);
          } finally {
            server.kill();
            await server.exited;
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
      20_000,
    );
  });

  describe("prometheus-operator", () => {
    // Rendered on the base; what only a live cluster shows: that the operator's CRDs are installed, that its
    // Prometheus selects these objects (ruleSelector, serviceMonitorSelector), and that the handshake succeeds.
    const objects = () => renders.get("components/prometheus-operator")!;
    const componentDir = `${k8sDir}components/prometheus-operator/`;

    test("the PrometheusRule is the committed export, placed beside the service", () => {
      const rule = _one(objects(), "PrometheusRule", "gists-api");
      const committed = parseYaml(readFileSync(`${componentDir}prometheusrule.yaml`, "utf8"));
      expect(rule.metadata.namespace).toBe(app.namespace);
      expect(rule.spec).toEqual(committed.spec);
    });

    test("the ServiceMonitor selects the service's Service alone, on a port that reaches the container's metrics", () => {
      const monitor = _one(objects(), "ServiceMonitor", "gists-api");
      const services = ofKind(objects(), "Service").filter(
        (s) => s.metadata.namespace === monitor.metadata.namespace && matchesSelector(monitor.spec.selector, s.metadata.labels),
      );
      expect(services.map((s) => s.metadata.name)).toEqual([app.name]);
      const pod = _appDeployment(objects()).spec.template;
      for (const endpoint of monitor.spec.endpoints) {
        const port = services[0]!.spec.ports.find((p: any) => p.name === endpoint.port);
        expect(port).toBeDefined();
        const declared = containerPort({ owner: app.name, containers: pod.spec.containers }, port.targetPort);
        expect({ port: declared, path: endpoint.path }).toEqual({
          port: Number(pod.metadata.annotations["prometheus.io/port"]),
          path: pod.metadata.annotations["prometheus.io/path"],
        });
      }
    });

    test("its job is the Service's name, the job every exported rule selects", () => {
      const monitor = _one(objects(), "ServiceMonitor", "gists-api");
      // Without jobLabel (or with a label the Service lacks) the operator names the job after the Service.
      const service = byName(objects(), "Service", app.name, app.namespace);
      const job = (monitor.spec.jobLabel && service.metadata.labels?.[monitor.spec.jobLabel]) || service.metadata.name;
      const rule = _one(objects(), "PrometheusRule", "gists-api");
      const down = rule.spec.groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === "GistsApiTargetDown");
      expect(down.expr).toContain(`up{job="${job}"}`);
    });

    test("it scrapes over mTLS with the certificate files the documented Prometheus fields provide", () => {
      const monitor = _one(objects(), "ServiceMonitor", "gists-api");
      const fields = parseYaml(readFileSync(`${componentDir}prometheus-fields.yaml`, "utf8")).spec;
      const certDir = fields.volumeMounts.find((m: any) => m.name === "istio-certs").mountPath;
      for (const endpoint of monitor.spec.endpoints) {
        expect(endpoint.scheme).toBe("https");
        for (const file of ["caFile", "certFile", "keyFile"]) expect(endpoint.tlsConfig[file].startsWith(`${certDir}/`)).toBe(true);
      }
      expect(fields.volumes.find((v: any) => v.name === "istio-certs").emptyDir).toBeDefined();
      const annotations = fields.podMetadata.annotations;
      const sidecarMount = JSON.parse(annotations["sidecar.istio.io/userVolumeMount"])[0];
      expect(sidecarMount.name).toBe("istio-certs");
      expect(parseYaml(annotations["proxy.istio.io/config"]).proxyMetadata.OUTPUT_CERTS).toBe(sidecarMount.mountPath);
      expect(fields.podMetadata.labels["sidecar.istio.io/inject"]).toBe("true");
      // The same recipe as the bundled Prometheus, whose scrape job the same mesh policies admit.
      const bundled = byName(renders.get("overlays/kind")!, "Deployment", "prometheus", "monitoring").spec.template.metadata.annotations;
      for (const key of Object.keys(annotations)) expect({ key, value: annotations[key] }).toEqual({ key, value: bundled[key] });
    });

    test("no overlay brings it: a cluster without the operator's CRDs would refuse the apply", () => {
      for (const name of ["kind", "production"]) {
        expect(
          overlay(name)
            .filter((o) => o.apiVersion.startsWith("monitoring.coreos.com/"))
            .map(objectId),
        ).toEqual([]);
      }
    });
  });

  describe("metallb", () => {
    test("the pool is a range inside Kind's docker network, reserved for the gateway, and advertised", () => {
      const objects = overlay("kind");
      const pools = ofKind(objects, "IPAddressPool");
      expect(pools.length).toBe(1);
      const [subnet, bits] = kindSubnet.split("/");
      for (const range of pools[0]!.spec.addresses) {
        const [start, end] = range.split("-").map(_ipv4);
        expect(start).toBeLessThanOrEqual(end);
        for (const ip of [start, end]) {
          expect(ip >>> (32 - Number(bits))).toBe(_ipv4(subnet!) >>> (32 - Number(bits)));
          // Docker hands node addresses out from the bottom of the network.
          expect(ip - _ipv4(subnet!)).toBeGreaterThan(255);
        }
      }
      expect(pools[0]!.spec.serviceAllocation.namespaces).toEqual([gateway.namespace]);
      for (const ad of ofKind(objects, "L2Advertisement")) {
        for (const name of ad.spec.ipAddressPools) expect(byName(objects, "IPAddressPool", name, ad.metadata.namespace)).toBeDefined();
      }
    });
  });

  describe("deploy scripts", () => {
    test("parse as bash (and pass shellcheck where it is installed)", () => {
      const scripts = readdirSync(scriptsDir).filter((f) => f.endsWith(".sh"));
      expect(scripts).toEqual(expect.arrayContaining(["cluster.sh", "platform.sh", "image.sh", "deploy.sh", "smoke.sh"]));
      for (const script of scripts) {
        const syntax = Bun.spawnSync(["bash", "-n", `${scriptsDir}${script}`], { stderr: "pipe" });
        expect({ script, code: syntax.exitCode, err: syntax.stderr.toString() }).toEqual({ script, code: 0, err: "" });
      }
      if (!Bun.which("shellcheck")) return;
      const lint = Bun.spawnSync(["shellcheck", "-x", "-P", "SCRIPTDIR", ...scripts], { cwd: scriptsDir, stdout: "pipe" });
      expect({ code: lint.exitCode, out: lint.stdout.toString() }).toEqual({ code: 0, out: "" });
    });

    test("the pool the deploy script derives for Kind's default network is the committed one", () => {
      const derived = _bash(`pool_for_subnet ${kindSubnet}`).trim();
      expect(ofKind(overlay("kind"), "IPAddressPool")[0]!.spec.addresses).toEqual([derived]);
    });

    test("the deploy script's overlay merges the tokens into the Secret and sets the pool, nothing else", async () => {
      const dir = mkdtempSync(join(tmpdir(), "gists-k8s-apply-"));
      try {
        _bash(`write_apply_overlay ${dir} 10.89.255.200-10.89.255.250`, { GITHUB_TOKEN: "ghp_test", ADMIN_TOKEN: "admin-test", REDIS_PASSWORD: "redis-test" });
        const applied = await kustomize(dir, "deploy.sh's overlay");
        const kind = overlay("kind");
        const secret = ofKind(applied, "Secret").find((o) => o.metadata.namespace === app.namespace)!;
        const decoded = Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v as string, "base64").toString()]));
        expect(decoded).toEqual({ GITHUB_TOKEN: "ghp_test", ADMIN_TOKEN: "admin-test", REDIS_PASSWORD: "redis-test" });
        const refs = podTemplates(applied).flatMap((p) =>
          p.containers.flatMap((c) => (c.env ?? []).map((e: any) => e.valueFrom?.secretKeyRef?.name).filter(Boolean)),
        );
        expect(new Set(refs)).toEqual(new Set([secret.metadata.name]));
        expect(ofKind(applied, "IPAddressPool")[0]!.spec.addresses).toEqual(["10.89.255.200-10.89.255.250"]);
        const unchanged = (objects: K8sObject[]) => objects.filter((o) => !["Secret", "IPAddressPool", "Deployment"].includes(o.kind));
        expect(unchanged(applied)).toEqual(unchanged(kind));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("monitoring", () => {
    const monitoring = () => overlay("kind");

    test("dashboards, provisioning and rules are the committed files, not copies", () => {
      const objects = monitoring();
      const dashboards = generatedConfigMap(objects, "gists-api-dashboards");
      const files = readdirSync(`${repoRoot}grafana/dashboards`)
        .filter((f) => f.endsWith(".json"))
        .sort();
      expect(Object.keys(dashboards.data).sort()).toEqual(files);
      for (const file of files) expect(dashboards.data[file]).toBe(readFileSync(`${repoRoot}grafana/dashboards/${file}`, "utf8"));
      const datasources = readdirSync(`${repoRoot}grafana/provisioning/datasources`)
        .filter((f) => f.endsWith(".yaml"))
        .sort();
      expect(Object.keys(generatedConfigMap(objects, "grafana-provisioning-datasources").data).sort()).toEqual(datasources);
      for (const file of datasources) {
        expect(generatedConfigMap(objects, "grafana-provisioning-datasources").data[file]).toBe(
          readFileSync(`${repoRoot}grafana/provisioning/datasources/${file}`, "utf8"),
        );
      }
      expect(generatedConfigMap(objects, "grafana-provisioning-dashboards").data["gists-api.yaml"]).toBe(
        readFileSync(`${repoRoot}grafana/provisioning/dashboards/gists-api.yaml`, "utf8"),
      );
      expect(generatedConfigMap(objects, "gists-api-alerts").data["alerts.yaml"]).toBe(readFileSync(`${repoRoot}ops/prometheus/alerts.yaml`, "utf8"));
    });

    test("Grafana mounts the provisioning where Grafana reads it and the dashboards where it points", () => {
      const objects = monitoring();
      const grafana = byName(objects, "Deployment", "grafana", "monitoring");
      const mounts = _mountsByConfigMap(grafana);
      expect(mounts.get(generatedConfigMap(objects, "grafana-provisioning-datasources").metadata.name)).toBe("/etc/grafana/provisioning/datasources");
      expect(mounts.get(generatedConfigMap(objects, "grafana-provisioning-dashboards").metadata.name)).toBe("/etc/grafana/provisioning/dashboards");
      const provider = parseYaml(generatedConfigMap(objects, "grafana-provisioning-dashboards").data["gists-api.yaml"]);
      expect(mounts.get(generatedConfigMap(objects, "gists-api-dashboards").metadata.name)).toBe(provider.providers[0].options.path);
      const datasource = new URL(parseYaml(generatedConfigMap(objects, "grafana-provisioning-datasources").data["prometheus.yaml"]).datasources[0].url);
      const service = byName(objects, "Service", datasource.hostname, grafana.metadata.namespace);
      expect(service.spec.ports.map((p: any) => p.port)).toContain(Number(datasource.port));
      const prometheus = byName(objects, "Deployment", "prometheus", "monitoring");
      expect(matchesLabels(service.spec.selector, prometheus.spec.template.metadata.labels)).toBe(true);
    });

    test("Prometheus loads its config and the rules from their mounts, and may discover the service's pods", () => {
      const objects = monitoring();
      const prometheus = byName(objects, "Deployment", "prometheus", "monitoring");
      const args: string[] = prometheus.spec.template.spec.containers[0].args;
      const configFile = args.find((a) => a.startsWith("--config.file="))!.split("=")[1]!;
      const mounts = _mountsByConfigMap(prometheus);
      const configMap = generatedConfigMap(objects, "prometheus-config");
      expect(`${mounts.get(configMap.metadata.name)}/prometheus.yml`).toBe(configFile);
      const config = parseYaml(configMap.data["prometheus.yml"]);
      const rules = generatedConfigMap(objects, "gists-api-alerts");
      expect(config.rule_files).toEqual([`${mounts.get(rules.metadata.name)}/*.yaml`]);
      const jobs = config.scrape_configs.map((j: any) => j.job_name);
      expect(jobs).toContain("gists-api");
      // The rules and dashboards select job="gists-api": every job that scrapes the service must end up so named.
      expect(rules.data["alerts.yaml"]).toContain('job="gists-api"');
      const plain = config.scrape_configs.find((j: any) => j.job_name === "gists-api-plain");
      expect(plain.relabel_configs.at(-1)).toEqual({ target_label: "job", replacement: "gists-api" });
      const certDir = prometheus.spec.template.spec.containers[0].volumeMounts.find((m: any) => m.name === "istio-certs").mountPath;
      const mesh = config.scrape_configs.find((j: any) => j.job_name === "gists-api");
      for (const file of ["ca_file", "cert_file", "key_file"]) expect(mesh.tls_config[file].startsWith(`${certDir}/`)).toBe(true);
      const annotations = prometheus.spec.template.metadata.annotations;
      const sidecarMount = JSON.parse(annotations["sidecar.istio.io/userVolumeMount"])[0].mountPath;
      expect(parseYaml(annotations["proxy.istio.io/config"]).proxyMetadata.OUTPUT_CERTS).toBe(sidecarMount);
      for (const job of config.scrape_configs) {
        for (const sd of job.kubernetes_sd_configs) {
          for (const ns of sd.namespaces.names) {
            expect(_canListPods(objects, ns, "monitoring", prometheus.spec.template.spec.serviceAccountName)).toBe(true);
          }
        }
      }
    });

    test("Prometheus keeps its data longer than the longest window the rules read", () => {
      const objects = monitoring();
      const args: string[] = byName(objects, "Deployment", "prometheus", "monitoring").spec.template.spec.containers[0].args;
      const retention = _promDuration(args.find((a) => a.startsWith("--storage.tsdb.retention.time="))!.split("=")[1]!);
      const windows = [...generatedConfigMap(objects, "gists-api-alerts").data["alerts.yaml"].matchAll(/\[(\d+[smhdw])\]/g)].map((m) => _promDuration(m[1]!));
      expect(windows.length).toBeGreaterThan(0);
      expect(retention).toBeGreaterThan(Math.max(...windows));
    });

    test.skipIf(!Bun.which("promtool"))("promtool accepts the rendered Prometheus config and rules", async () => {
      const objects = monitoring();
      const dir = mkdtempSync(join(tmpdir(), "gists-k8s-prom-"));
      try {
        // Debian's promtool is built without Kubernetes discovery: check everything else with static targets instead.
        const config = parseYaml(generatedConfigMap(objects, "prometheus-config").data["prometheus.yml"]);
        for (const job of config.scrape_configs) {
          expect(job.kubernetes_sd_configs).toBeDefined();
          delete job.kubernetes_sd_configs;
          job.static_configs = [{ targets: ["127.0.0.1:9"] }];
        }
        writeFileSync(join(dir, "prometheus.yml"), stringifyYaml(config));
        writeFileSync(join(dir, "alerts.yaml"), generatedConfigMap(objects, "gists-api-alerts").data["alerts.yaml"]);
        for (const args of [
          ["check", "config", "--syntax-only", "prometheus.yml"],
          ["check", "rules", "alerts.yaml"],
        ]) {
          const proc = Bun.spawn(["promtool", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
          const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
          expect({ args, code, out: code === 0 ? "" : out + err }).toEqual({ args, code: 0, out: "" });
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("the binary answers what the manifests ask of it", () => {
    let fake: FakeGithub | undefined;
    let service: RunningService | undefined;
    let objects: K8sObject[];

    beforeAll(async () => {
      objects = overlay("kind");
      fake = await startFakeGithub({ users: { octocat: 2 } });
      // Exactly the rendered ConfigMap, except where it listens (a free loopback port) and which GitHub it asks.
      const { PORT: _port, HOST: _host, ...config } = _configData(objects);
      service = await startService({ target: "binary", env: { ...config, GITHUB_API_URL: fake.url }, args: _appContainer(objects).args.slice(1) });
    }, 30_000);

    afterAll(async () => {
      await service?.stop();
      await fake?.close();
    });

    test("each probe path answers 200 and the scrape path serves Prometheus metrics", async () => {
      const container = _appContainer(objects);
      for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
        const res = await fetch(`${service!.url}${container[probe].httpGet.path}`);
        expect({ probe, status: res.status }).toEqual({ probe, status: 200 });
      }
      const path = _appDeployment(objects).spec.template.metadata.annotations["prometheus.io/path"];
      const metrics = await fetch(`${service!.url}${path}`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get("content-type")).toContain("text/plain");
      expect(await metrics.text()).toContain("http_requests_total");
    });

    test("after SIGTERM readiness fails while an in-flight request finishes, and the process exits 0 in time", async () => {
      const deployment = _appDeployment(objects);
      const container = _appContainer(objects);
      fake!.setFault("octocat", { kind: "latency", ms: 1_000 });
      const inFlight = fetch(`${service!.url}/octocat`).then((r) => r.status);
      while (fake!.inFlight === 0) await Bun.sleep(10);
      const signalledAt = Date.now();
      service!.signal("SIGTERM");
      let readiness = 0;
      while (readiness !== 503 && Date.now() - signalledAt < 900) {
        readiness = await fetch(`${service!.url}${container.readinessProbe.httpGet.path}`).then((r) => r.status);
      }
      expect(readiness).toBe(503);
      expect((await fetch(`${service!.url}${container.livenessProbe.httpGet.path}`)).status).toBe(200);
      expect(await inFlight).toBe(200);
      expect(await service!.exited).toBe(0);
      const budget = deployment.spec.template.spec.terminationGracePeriodSeconds - container.lifecycle.preStop.sleep.seconds;
      expect((Date.now() - signalledAt) / 1000).toBeLessThan(budget);
    }, 15_000);
  });
});

// ---------------------------------------------------------------------------------------------------------------

type Model = new (data: unknown) => { validate(): void };

const _models: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  "apps/v1": appsV1,
  "autoscaling/v2": autoscalingV2,
  "policy/v1": policyV1,
  "networking.k8s.io/v1": networkingV1,
  "rbac.authorization.k8s.io/v1": rbacV1,
  "networking.istio.io/v1beta1": istioNetworkingV1beta1,
  "security.istio.io/v1": istioSecurityV1,
  "security.istio.io/v1beta1": istioSecurityV1beta1,
  "telemetry.istio.io/v1alpha1": istioTelemetryV1alpha1,
};

/**
 * Istio kinds whose v1 schema the models package (its Node 20 line) has only as v1beta1 (networking, security) or
 * v1alpha1 (telemetry): Istio 1.22 promoted them to v1 unchanged, so a v1 object is checked against the older one.
 */
function _modelApiVersion(o: K8sObject): string {
  const [group, version] = o.apiVersion.split("/");
  if (version !== "v1" || !group!.endsWith(".istio.io") || _models[o.apiVersion]?.[o.kind]) return o.apiVersion;
  return _models[`${group}/v1beta1`]?.[o.kind] ? `${group}/v1beta1` : `${group}/v1alpha1`;
}

/** API groups no models package covers, checked against the fields recorded from their CRDs (k8s/schemas/). */
const _crdSchemas: Record<string, string> = {
  "metallb.io/v1beta1": "metallb.io-v1beta1",
  "monitoring.coreos.com/v1": "monitoring.coreos.com-v1",
};
const _ajv = new Ajv({ allErrors: true });
for (const id of Object.values(_crdSchemas)) _ajv.addSchema(JSON.parse(readFileSync(`${repoRoot}k8s/schemas/${id}.schema.json`, "utf8")), id);

/** Render the base, every overlay, and every component composed alone on the base. */
async function _renderAll(): Promise<Map<string, K8sObject[]>> {
  if (!Bun.which("kubectl")) {
    throw new Error("kubectl is not on PATH: the manifests are rendered with `kubectl kustomize` (kubectl 1.27+). Install kubectl.");
  }
  const scratch = mkdtempSync(join(tmpdir(), "gists-k8s-"));
  try {
    const targets: Array<[string, string]> = [["base", `${k8sDir}base`]];
    for (const name of _dirs(`${k8sDir}overlays`)) targets.push([`overlays/${name}`, `${k8sDir}overlays/${name}`]);
    for (const name of _dirs(`${k8sDir}components`)) {
      // A Component cannot be built by itself: compose it on the base (kustomize wants relative paths).
      const dir = join(scratch, name);
      mkdirSync(dir);
      const rel = (path: string) => relative(dir, path);
      const kustomization = ["apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:", `  - ${rel(`${k8sDir}base`)}`];
      kustomization.push("components:", `  - ${rel(`${k8sDir}components/${name}`)}`);
      writeFileSync(join(dir, "kustomization.yaml"), `${kustomization.join("\n")}\n`);
      targets.push([`components/${name}`, dir]);
    }
    const rendered = await Promise.all(targets.map(async ([name, dir]) => [name, await kustomize(dir, name)] as const));
    return new Map(rendered);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function _dirs(path: string): string[] {
  return readdirSync(path, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(path, e.name, "kustomization.yaml")))
    .map((e) => e.name)
    .sort();
}

function _schemaProblems(object: K8sObject): string[] {
  const crdSchema = _crdSchemas[object.apiVersion];
  if (crdSchema) {
    const validate = _ajv.getSchema(`${crdSchema}#/$defs/${object.kind}`);
    if (!validate) return [`${objectId(object)}: no ${crdSchema} schema for ${object.kind}`];
    return validate(object) ? [] : [`${objectId(object)}: ${_ajv.errorsText(validate.errors)}`];
  }
  const apiVersion = _modelApiVersion(object);
  const model = _models[apiVersion]?.[object.kind] as Model | undefined;
  if (!model) return [`${objectId(object)}: no schema for ${object.apiVersion} ${object.kind}`];
  try {
    new model({ ...object, apiVersion }).validate();
    return [];
  } catch (error) {
    return [`${objectId(object)}: ${(error as Error).message}`];
  }
}

/** The kubernetes-models module whose `I<Kind>` interface types an object. */
function _modelModule(o: K8sObject): string {
  const apiVersion = _modelApiVersion(o);
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group!.endsWith(".istio.io")) return `@kubernetes-models/istio/${group}/${version}/${o.kind}`;
  return `kubernetes-models/${group ? `${group}/` : ""}${version}/${o.kind}`;
}

function _one(objects: K8sObject[], kind: string, name: string): K8sObject {
  return byName(objects, kind, name, app.namespace);
}

function _appDeployment(objects: K8sObject[]): K8sObject {
  return byName(objects, "Deployment", app.name, app.namespace);
}

function _appContainer(objects: K8sObject[]): any {
  const container = _appDeployment(objects).spec.template.spec.containers.find((c: any) => c.name === app.container);
  if (!container) throw new Error(`Deployment ${app.name} has no container ${app.container}`);
  return container;
}

/** The data of the ConfigMap the service's container takes its environment from. */
function _configData(objects: K8sObject[]): Record<string, string> {
  const refs = (_appContainer(objects).envFrom ?? []).filter((e: any) => e.configMapRef);
  if (refs.length !== 1) throw new Error("the service's container should take its settings from exactly one ConfigMap");
  return byName(objects, "ConfigMap", refs[0].configMapRef.name, app.namespace).data;
}

function _referenceProblems(pod: PodTemplate, objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === pod.namespace);
  const keysOf = (o: K8sObject) => new Set([...Object.keys(o.data ?? {}), ...Object.keys(o.binaryData ?? {}), ...Object.keys(o.stringData ?? {})]);
  const need = (kind: string, name: string, keys: string[], optional?: boolean) => {
    const found = find(kind, name);
    if (!found) {
      // The service's Secret comes from the cluster's secret store under its fixed name, except on Kind.
      const external = kind === "Secret" && name === appSecret;
      if (!optional && !external) problems.push(`${pod.owner}: ${kind} ${name} is not rendered`);
      return;
    }
    for (const key of keys) if (!keysOf(found).has(key)) problems.push(`${pod.owner}: ${kind} ${name} has no key ${key}`);
  };
  const volumes = new Map<string, any>((pod.spec.volumes ?? []).map((v: any) => [v.name, v]));
  for (const v of volumes.values()) {
    if (v.configMap)
      need(
        "ConfigMap",
        v.configMap.name,
        (v.configMap.items ?? []).map((i: any) => i.key),
        v.configMap.optional,
      );
    if (v.secret)
      need(
        "Secret",
        v.secret.secretName,
        (v.secret.items ?? []).map((i: any) => i.key),
        v.secret.optional,
      );
  }
  for (const c of pod.containers) {
    for (const e of c.envFrom ?? []) {
      if (e.configMapRef) need("ConfigMap", e.configMapRef.name, [], e.configMapRef.optional);
      if (e.secretRef) need("Secret", e.secretRef.name, [], e.secretRef.optional);
    }
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
      if (ref) need(e.valueFrom.configMapKeyRef ? "ConfigMap" : "Secret", ref.name, [ref.key], ref.optional);
    }
    for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) problems.push(`${pod.owner}: no volume ${m.name} for ${c.name}`);
  }
  const account = pod.spec.serviceAccountName;
  if (account && !find("ServiceAccount", account)) problems.push(`${pod.owner}: ServiceAccount ${account} is not rendered`);
  return problems;
}

/** The Service a mesh host names (`name`, `name.ns`, `name.ns.svc`, `name.ns.svc.cluster.local`), if any. */
function _resolveServiceHost(objects: K8sObject[], host: string, namespace: string | undefined): K8sObject | undefined {
  const parts = host.split(".");
  const suffix = parts.slice(2).join(".");
  if (parts.length > 2 && suffix !== "svc" && suffix !== "svc.cluster.local") return undefined;
  const ns = parts[1] ?? namespace;
  return objects.find((o) => o.kind === "Service" && o.metadata.name === parts[0] && o.metadata.namespace === ns);
}

function _mountsByConfigMap(deployment: K8sObject): Map<string, string> {
  const spec = deployment.spec.template.spec;
  const byVolume = new Map<string, string>(spec.volumes.filter((v: any) => v.configMap).map((v: any) => [v.name, v.configMap.name]));
  const mounts = new Map<string, string>();
  for (const c of spec.containers) {
    for (const m of c.volumeMounts ?? []) if (byVolume.has(m.name)) mounts.set(byVolume.get(m.name)!, m.mountPath);
  }
  return mounts;
}

/** Whether a Role bound to the ServiceAccount lets it list and watch pods in a namespace. */
function _canListPods(objects: K8sObject[], namespace: string, accountNamespace: string, account: string): boolean {
  return ofKind(objects, "RoleBinding")
    .filter((b) => b.metadata.namespace === namespace)
    .filter((b) => b.subjects.some((s: any) => s.kind === "ServiceAccount" && s.name === account && s.namespace === accountNamespace))
    .map((b) => objects.find((o) => o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name && o.metadata.namespace === namespace))
    .some((role) =>
      role?.rules.some((r: any) => r.apiGroups.includes("") && r.resources.includes("pods") && ["list", "watch"].every((v) => r.verbs.includes(v))),
    );
}

/** The image's user: the last numeric USER of the Dockerfile when there is one, else the documented 65532. */
function _imageUser(): { uid: number; gid?: number } {
  const dockerfile = ["Dockerfile", "Containerfile"].map((f) => `${repoRoot}${f}`).find(existsSync);
  if (!dockerfile) return { uid: documentedImageUser, gid: documentedImageUser };
  const users = readFileSync(dockerfile, "utf8")
    .split("\n")
    .map((line) => /^\s*USER\s+(\S+)/i.exec(line)?.[1])
    .filter((u): u is string => u !== undefined);
  const user = users.at(-1);
  const match = user && /^(\d+)(?::(\d+))?$/.exec(user);
  if (!match) throw new Error(`${dockerfile}: the last USER should be numeric (uid or uid:gid), got ${user ?? "none"}`);
  return { uid: Number(match[1]), gid: match[2] === undefined ? undefined : Number(match[2]) };
}

/** Run a function of ops/scripts/k8s/lib.sh; throws with its stderr when it fails. */
function _bash(command: string, env: Record<string, string> = {}): string {
  const proc = Bun.spawnSync(["bash", "-c", `source ./lib.sh && ${command}`], {
    cwd: scriptsDir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (proc.exitCode !== 0) throw new Error(`bash: ${command} failed (exit ${proc.exitCode}): ${proc.stderr.toString()}`);
  return proc.stdout.toString();
}

/** The value a plain `NAME=value` line of a shell script sets. */
function _shellSetting(script: string, name: string): string {
  const match = new RegExp(`^${name}=([^\\s"'$]+)$`, "m").exec(script);
  if (!match) throw new Error(`no plain ${name}=... line in the script`);
  return match[1]!;
}

/** How long `serve` drains after SIGTERM at most (src/commands/serve.ts), plus the listener's close. */
function _drainSeconds(): number {
  const source = readFileSync(`${repoRoot}src/commands/serve.ts`, "utf8");
  const match = /drainDeadlineMs\s*=\s*([\d_]+)/.exec(source);
  if (!match) throw new Error("src/commands/serve.ts no longer declares drainDeadlineMs; update the manifests test");
  return Number(match[1]!.replaceAll("_", "")) / 1000 + 0.5;
}

function _seconds(duration: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(duration);
  if (!match) throw new Error(`not a duration: ${duration}`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60 }[match[2] as "ms" | "s" | "m"];
}

function _bytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
  if (!match) throw new Error(`not a memory quantity: ${quantity}`);
  return Number(match[1]) * { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, "": 1 }[match[2] ?? ""]!;
}

function _ipv4(address: string): number {
  const octets = address.split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) throw new Error(`not an IPv4 address: ${address}`);
  return octets.reduce((n, o) => n * 256 + o, 0);
}

/** A Redis command line's flags (`--name value ...`) by name, each with its values. */
function _redisFlags(args: string[]): Map<string, string[]> {
  const flags = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const match = /^--(.+)$/.exec(args[i]!);
    if (!match) throw new Error(`expected a --flag at ${i} of the Redis args, got ${JSON.stringify(args[i])}`);
    flags.set(match[1]!, [...(flags.get(match[1]!) ?? []), args[++i] ?? ""]);
  }
  return flags;
}

/** Bytes of a Redis memory setting (`256mb`, `1gb`, plain bytes); Redis' mb and gb are binary. */
function _redisBytes(value: string): number {
  const match = /^(\d+)(kb|mb|gb)?$/i.exec(value);
  if (!match) throw new Error(`not a Redis memory size: ${value}`);
  return Number(match[1]) * { kb: 2 ** 10, mb: 2 ** 20, gb: 2 ** 30, "": 1 }[(match[2] ?? "").toLowerCase()]!;
}

/** A TCP port that was free on loopback a moment ago. */
async function _freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** Whether an Istio AuthorizationPolicy path (exact, `prefix*`, `*suffix`, `{*}` one segment, `{**}` the rest) matches. */
function _istioPathMatches(template: string, path: string): boolean {
  if (template === "*") return true;
  if (!template.includes("{") && template.endsWith("*")) return path.startsWith(template.slice(0, -1));
  if (!template.includes("{") && template.startsWith("*")) return path.endsWith(template.slice(1));
  const pattern = template
    .split("/")
    .map((segment) => (segment === "{*}" ? "[^/]+" : segment === "{**}" ? ".+" : segment.replace(/[.*+?^$()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${pattern}$`).test(path);
}

/** Seconds of a Prometheus duration such as `5m`, `3d`. */
function _promDuration(duration: string): number {
  const match = /^(\d+)([smhdw])$/.exec(duration);
  if (!match) throw new Error(`not a Prometheus duration: ${duration}`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[match[2] as "s" | "m" | "h" | "d" | "w"];
}
