/**
 * Traces on Kubernetes, checked offline: the monitoring component's Tempo (its configuration against the fields
 * Tempo 2.8 reads, its pod, Service and NetworkPolicies), Grafana's data sources (against Grafana's provisioning
 * fields, and linked to each other and to the metric catalog), the mesh's tracing provider (istioctl's file, the
 * Telemetry resources, the Sidecar's egress) and the service's OpenTelemetry variables in each overlay, which the
 * binary is started with to show what reaches a collector. The generic checks (schemas, references, the models'
 * fields) run over the same objects in manifests.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import Ajv from "ajv";
import { parse as parseYaml } from "yaml";
import { catalog } from "../src/metrics/catalog.ts";
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
} from "./rendered.ts";
import { startFakeGithub, type FakeGithub } from "../src/testing/fake-github.ts";
import { startOtlpReceiver, type OtlpReceiver } from "../src/testing/otlp-receiver.ts";
import { prometheusBinary, startPrometheus } from "../src/testing/prometheus-server.ts";
import { repoRoot, startService, type RunningService } from "../src/testing/service.ts";

const k8sDir = `${repoRoot}k8s/`;
const app = { namespace: "gists-api", name: "gists-api", container: "gists-api" };
const tempo = { namespace: "monitoring", name: "tempo", container: "tempo" };
const gateway = { namespace: "istio-ingress", labels: { istio: "ingressgateway" } };
/** The name every Telemetry selects and the mesh defines (ops/scripts/k8s/istio-operator.yaml, terraform/istio.tf). */
const providerName = "tempo";
/** What the downward API would give the test's pod. */
const pod = { name: "gists-api-5d8f7c9b4-x2k7q", namespace: app.namespace };
/** The sampling each overlay promises: the sidecars' percentage and the service's ratio say the same. */
const sampling = { kind: 1, production: 0.1 };
const datasourcesDir = `${repoRoot}grafana/provisioning/datasources/`;

describe("traces on Kubernetes", () => {
  const renders = new Map<string, K8sObject[]>();
  const kind = () => renders.get("kind")!;

  beforeAll(async () => {
    for (const name of ["kind", "production"]) renders.set(name, await kustomize(`${k8sDir}overlays/${name}`));
  }, 60_000);

  describe("Tempo", () => {
    const deployment = () => byName(kind(), "Deployment", tempo.name, tempo.namespace);
    const container = () => deployment().spec.template.spec.containers.find((c: any) => c.name === tempo.container);
    const config = () => parseYaml(generatedConfigMap(kind(), "tempo-config", tempo.namespace).data["tempo.yaml"]);

    test("Kind runs it, production does not (the cluster brings its own backend)", () => {
      expect(byName(kind(), "Deployment", tempo.name, tempo.namespace)).toBeDefined();
      expect(
        renders
          .get("production")!
          .filter((o) => o.metadata.namespace === tempo.namespace)
          .map(objectId),
      ).toEqual([]);
    });

    test("its configuration is the committed file and has only fields Tempo 2.8 reads", () => {
      const committed = readFileSync(`${k8sDir}components/monitoring/configmaps/tempo.yaml`, "utf8");
      expect(generatedConfigMap(kind(), "tempo-config", tempo.namespace).data["tempo.yaml"]).toBe(committed);
      const validate = _schema("tempo-config");
      expect({ valid: validate(config()), errors: _ajv.errorsText(validate.errors) }).toEqual({ valid: true, errors: "No errors" });
      // The schema does refuse what Tempo would refuse at start.
      expect(validate({ ...config(), server: { http_listen_port: 3200, http_port: 80 } })).toBe(false);
      expect(validate({ ...config(), distributor: { receivers: { otlp: { protocols: { grpc: { endpoint: "4317" } } } } } })).toBe(false);
    });

    test("the image is a pinned 2.x release, loaded with the file its mount holds, under the restricted standard", () => {
      const c = container();
      expect(c.image).toMatch(/^grafana\/tempo:2\.\d+\.\d+$/);
      const file = c.args.find((a: string) => a.startsWith("-config.file=")).split("=")[1];
      const mount = c.volumeMounts.find((m: any) => m.name === "config");
      const volume = deployment().spec.template.spec.volumes.find((v: any) => v.name === mount.name);
      expect(generatedConfigMap(kind(), volume.configMap.name, tempo.namespace).data[file.slice(mount.mountPath.length + 1)]).toBeDefined();
      const pod = deployment().spec.template.spec;
      // grafana/tempo's Dockerfile: USER 10001:10001.
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } });
      expect(c.securityContext).toMatchObject(restrictedContainer);
      expect(c.securityContext.capabilities.add).toBeUndefined();
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const kind of ["requests", "limits"]) expect(Object.keys(c.resources[kind]).sort()).toEqual(["cpu", "memory"]);
      expect([deployment().spec.replicas, deployment().spec.strategy.type]).toEqual([1, "Recreate"]);
      expect(deployment().spec.template.metadata.labels["sidecar.istio.io/inject"]).toBe("false");
    });

    test("it writes only where an emptyDir is mounted, and keeps traces for a bounded time", () => {
      const mounts = container().volumeMounts.filter((m: any) => !m.readOnly);
      const volumes = deployment().spec.template.spec.volumes;
      for (const m of mounts) expect(volumes.find((v: any) => v.name === m.name).emptyDir.sizeLimit).toMatch(/^\d+(Mi|Gi)$/);
      const trace = config().storage.trace;
      expect(trace.backend).toBe("local");
      for (const path of [trace.wal.path, trace.local.path])
        expect({ path, mounted: mounts.some((m: any) => path.startsWith(`${m.mountPath}/`)) }).toEqual({ path, mounted: true });
      const retentionHours = _hours(config().compactor.compaction.block_retention);
      expect(retentionHours).toBeGreaterThan(0);
      expect(retentionHours).toBeLessThanOrEqual(7 * 24);
      expect(config().usage_report.reporting_enabled).toBe(false);
    });

    test("the probes ask /ready on the query port; the receivers listen on every address, on the ports the Service targets", () => {
      const c = container();
      const port = (name: string) => c.ports.find((p: any) => p.name === name)?.containerPort;
      for (const probe of ["readinessProbe", "livenessProbe"]) {
        expect({ probe, path: c[probe].httpGet.path, port: port(c[probe].httpGet.port) }).toEqual({
          probe,
          path: "/ready",
          port: config().server.http_listen_port,
        });
      }
      const protocols = config().distributor.receivers.otlp.protocols;
      const listen = { grpc: protocols.grpc.endpoint, http: protocols.http.endpoint };
      expect(listen).toEqual({ grpc: `0.0.0.0:${port("otlp-grpc")}`, http: `0.0.0.0:${port("otlp-http")}` });
      const service = byName(kind(), "Service", tempo.name, tempo.namespace);
      expect(matchesLabels(service.spec.selector, deployment().spec.template.metadata.labels)).toBe(true);
      const targets = Object.fromEntries(service.spec.ports.map((p: any) => [p.name, [p.port, port(p.targetPort)]]));
      expect(targets).toEqual({ "http-query": [3200, 3200], "grpc-otlp": [4317, 4317], "http-otlp": [4318, 4318] });
      // Port names and appProtocol tell the senders' sidecars what to proxy.
      for (const p of service.spec.ports) expect(p.appProtocol).toBe(p.name.split("-")[0]);
    });

    test("its NetworkPolicy admits Grafana to the query port, the service's pods and the gateway to OTLP, and no one else", () => {
      const pods = podTemplates(kind());
      const tempoPod = pods.find((p) => p.owner === `Deployment/${tempo.name}`)!;
      const guarding = ofKind(kind(), "NetworkPolicy").filter(
        (p) => p.metadata.namespace === tempo.namespace && matchesSelector(p.spec.podSelector, tempoPod.labels),
      );
      expect(guarding.map((p) => p.metadata.name)).toEqual([tempo.name]);
      const rules = guarding[0]!.spec.ingress.map((r: any) => ({
        from: r.from.map(describePeer),
        ports: r.ports.map((p: any) => (typeof p.port === "string" ? containerPort(tempoPod, p.port) : p.port)),
      }));
      expect(rules).toEqual([
        { from: ["pods:app.kubernetes.io/name=grafana"], ports: [3200] },
        { from: [`ns:${app.namespace} pods:app.kubernetes.io/name=${app.name}`], ports: [4318, 4317] },
        { from: [`ns:${gateway.namespace} pods:istio=ingressgateway`], ports: [4317] },
      ]);
      // Each selector means exactly the pods it names.
      const grafanaPods = pods.filter((p) => p.namespace === tempo.namespace && matchesSelector(guarding[0]!.spec.ingress[0].from[0].podSelector, p.labels));
      expect(grafanaPods.map((p) => p.owner)).toEqual(["Deployment/grafana"]);
      const appPods = pods.filter((p) => p.namespace === app.namespace && matchesSelector(guarding[0]!.spec.ingress[1].from[0].podSelector, p.labels));
      expect(appPods.map((p) => p.owner)).toEqual([`Deployment/${app.name}`]);
      expect(guarding[0]!.spec.ingress[2].from[0].podSelector.matchLabels).toEqual(gateway.labels);
    });

    test("the service's pods may send to it: 4318 from the SDK, 4317 from the sidecar", () => {
      const pods = podTemplates(kind());
      const appPod = pods.find((p) => p.owner === `Deployment/${app.name}`)!;
      const tempoPod = pods.find((p) => p.owner === `Deployment/${tempo.name}`)!;
      const egress = ofKind(kind(), "NetworkPolicy")
        .filter((p) => p.metadata.namespace === app.namespace && matchesSelector(p.spec.podSelector, appPod.labels))
        .flatMap((p) => p.spec.egress ?? [])
        .filter((r: any) =>
          r.to.some(
            (peer: any) =>
              peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === tempo.namespace && matchesSelector(peer.podSelector, tempoPod.labels),
          ),
        );
      expect(egress.flatMap((r: any) => r.ports.map((p: any) => `${p.protocol}/${p.port}`)).sort()).toEqual(["TCP/4317", "TCP/4318"]);
    });
  });

  describe("Grafana's data sources", () => {
    const files = () =>
      readdirSync(datasourcesDir)
        .filter((f) => f.endsWith(".yaml"))
        .sort();
    const sources = () => files().flatMap((f) => parseYaml(readFileSync(`${datasourcesDir}${f}`, "utf8")).datasources as any[]);
    const byType = (type: string) => sources().find((s) => s.type === type);

    test("every provisioning file has only fields Grafana's provisioning and these data sources read, and is mounted", () => {
      expect(files()).toEqual(["prometheus.yaml", "tempo.yaml"]);
      const validate = _schema("grafana-datasources");
      for (const file of files()) {
        const parsed = parseYaml(readFileSync(`${datasourcesDir}${file}`, "utf8"));
        expect({ file, valid: validate(parsed), errors: _ajv.errorsText(validate.errors) }).toEqual({ file, valid: true, errors: "No errors" });
      }
      expect(validate({ apiVersion: 1, datasources: [{ ...byType("tempo"), jsonData: { tracesToMetric: {} } }] })).toBe(false);
      const mounted = generatedConfigMap(kind(), "grafana-provisioning-datasources", "monitoring").data;
      for (const file of files()) expect(mounted[file]).toBe(readFileSync(`${datasourcesDir}${file}`, "utf8"));
      const uids = sources().map((s) => s.uid);
      expect(new Set(uids).size).toBe(uids.length);
      expect(
        sources()
          .filter((s) => s.isDefault)
          .map((s) => s.type),
      ).toEqual(["prometheus"]);
    });

    test("each data source's URL is a Service in Grafana's namespace, on a port that reaches its pods", () => {
      for (const source of sources()) {
        const url = new URL(source.url);
        const service = byName(kind(), "Service", url.hostname, "monitoring");
        expect({ source: source.name, ports: service.spec.ports.map((p: any) => p.port) }).toEqual({
          source: source.name,
          ports: expect.arrayContaining([Number(url.port)]),
        });
      }
      expect(new URL(byType("tempo").url).port).toBe(
        String(parseYaml(readFileSync(`${k8sDir}components/monitoring/configmaps/tempo.yaml`, "utf8")).server.http_listen_port),
      );
    });

    test("an exemplar's trace_id opens Tempo, and a span's related metrics query Prometheus with the catalog's names", () => {
      const prometheus = byType("prometheus");
      const tempoSource = byType("tempo");
      expect(prometheus.jsonData.exemplarTraceIdDestinations.map((d: any) => [d.name, d.datasourceUid])).toEqual([["trace_id", tempoSource.uid]]);
      const toMetrics = tempoSource.jsonData.tracesToMetrics;
      expect(toMetrics.datasourceUid).toBe(prometheus.uid);
      const duration = catalog.httpRequestDuration;
      for (const tag of toMetrics.tags)
        expect({ tag: tag.key, label: (duration.labels as readonly string[]).includes(tag.value) }).toEqual({ tag: tag.key, label: true });
      for (const { name, query } of toMetrics.queries) {
        // `$$` is Grafana's escape for a literal `$` in provisioning files, which it otherwise expands from the environment.
        expect({ name, query }).toEqual({ name, query: expect.stringContaining("$$__tags") });
        expect({ name, metric: query.includes(duration.name) }).toEqual({ name, metric: true });
        expect(query).toContain('job="gists-api"');
      }
    });

    test("no provisioning file leaves a `$` for Grafana to expand from its environment", () => {
      for (const file of files()) {
        const text = readFileSync(`${datasourcesDir}${file}`, "utf8").replaceAll("$$", "");
        expect({ file, unescaped: text.match(/\$\{?\w+/g) ?? [] }).toEqual({ file, unescaped: [] });
      }
    });

    test("Prometheus keeps exemplars, and no scrape job gives up OpenMetrics, the format that carries them", () => {
      const prometheus = byName(kind(), "Deployment", "prometheus", "monitoring").spec.template.spec.containers[0];
      expect(prometheus.args).toContain("--enable-feature=exemplar-storage");
      const config = parseYaml(generatedConfigMap(kind(), "prometheus-config", "monitoring").data["prometheus.yml"]);
      // Prometheus asks for OpenMetrics first unless scrape_protocols says otherwise.
      for (const scope of [config.global, ...config.scrape_configs]) {
        const protocols: string[] | undefined = scope?.scrape_protocols;
        if (protocols) expect(protocols[0]).toMatch(/^OpenMetricsText/);
      }
    });
  });

  describe("the service's OpenTelemetry variables", () => {
    const env = (overlay: string) => {
      const container = byName(renders.get(overlay)!, "Deployment", app.name, app.namespace).spec.template.spec.containers.find(
        (c: any) => c.name === app.container,
      );
      return container.env as any[];
    };
    const value = (overlay: string, name: string) => env(overlay).find((e) => e.name === name)?.value;

    test("Kind exports to the monitoring component's Tempo over OTLP/HTTP", () => {
      const endpoint = new URL(value("kind", "OTEL_EXPORTER_OTLP_ENDPOINT"));
      // The SDK appends /v1/traces to a base URL; a path here would be kept in front of it.
      expect([endpoint.protocol, endpoint.pathname]).toEqual(["http:", "/"]);
      const [name, namespace, ...rest] = endpoint.hostname.split(".");
      expect(rest.join(".")).toMatch(/^svc(\.cluster\.local)?$/);
      const service = byName(kind(), "Service", name!, namespace!);
      expect(service.spec.ports.find((p: any) => p.port === Number(endpoint.port)).name).toBe("http-otlp");
      expect(value("kind", "OTEL_EXPORTER_OTLP_PROTOCOL") ?? "http/protobuf").toBe("http/protobuf");
    });

    test("production reads the endpoint and headers from the secret store, both optional, so tracing stays off without them", () => {
      for (const name of ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS"]) {
        expect(env("production").find((e) => e.name === name)).toEqual({
          name,
          valueFrom: { secretKeyRef: { name: "gists-api-secrets", key: name, optional: true } },
        });
      }
    });

    test("every overlay names the service, its environment and its pod, and samples as its mesh does", () => {
      for (const overlay of ["kind", "production"] as const) {
        const list = env(overlay);
        expect(value(overlay, "OTEL_SERVICE_NAME")).toBe(app.name);
        const attributes = Object.fromEntries(
          value(overlay, "OTEL_RESOURCE_ATTRIBUTES")
            .split(",")
            .map((pair: string) => pair.split("=")),
        );
        expect(attributes).toEqual({ "deployment.environment.name": overlay, "k8s.namespace.name": "$(POD_NAMESPACE)", "k8s.pod.name": "$(POD_NAME)" });
        // The downward API fills them, before the variable that expands them (Kubernetes expands only earlier ones).
        const at = (name: string) => list.findIndex((e) => e.name === name);
        expect(list[at("POD_NAME")].valueFrom.fieldRef.fieldPath).toBe("metadata.name");
        expect(list[at("POD_NAMESPACE")].valueFrom.fieldRef.fieldPath).toBe("metadata.namespace");
        expect(Math.max(at("POD_NAME"), at("POD_NAMESPACE"))).toBeLessThan(at("OTEL_RESOURCE_ATTRIBUTES"));
        expect(value(overlay, "OTEL_TRACES_SAMPLER")).toBe("parentbased_traceidratio");
        expect(Number(value(overlay, "OTEL_TRACES_SAMPLER_ARG"))).toBe(sampling[overlay]);
        const telemetry = byName(renders.get(overlay)!, "Telemetry", "default", app.namespace);
        expect(telemetry.spec.tracing.map((t: any) => t.randomSamplingPercentage / 100)).toEqual([sampling[overlay]]);
      }
    });
  });

  describe("the binary, started with an overlay's settings and tracing variables", () => {
    let fake: FakeGithub | undefined;
    let receiver: OtlpReceiver | undefined;
    const services = new Map<string, RunningService>();

    beforeAll(async () => {
      fake = await startFakeGithub({ users: { octocat: 2 } });
      receiver = await startOtlpReceiver();
      for (const overlay of ["kind", "production"]) {
        const env = _serviceEnv(renders.get(overlay)!);
        // Changed: where it listens (startService's loopback port), which GitHub it asks, where it exports (the test's
        // receiver, as the secret store or Tempo's Service would say) and how soon (a 5 s batch delay is only slow);
        // the shared tier is left out, since no Redis answers here.
        const { PORT: _port, HOST: _host, REDIS_URL: _redis, ...settings } = env;
        const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "100" };
        services.set(overlay, await startService({ target: "binary", env: { ...settings, GITHUB_API_URL: fake.url, ...tracing } }));
      }
    }, 30_000);

    afterAll(async () => {
      for (const service of services.values()) await service.stop();
      await receiver?.close();
      await fake?.close();
    });

    /** A W3C trace context as a sidecar sends it, sampled or not. */
    const traceparent = (sampled: boolean) => {
      const hex = (bytes: number) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
      const [traceId, spanId] = [hex(16), hex(8)];
      return { traceId, spanId, header: `00-${traceId}-${spanId}-${sampled ? "01" : "00"}` };
    };

    test("each exports under the service's name, its environment and the pod's name and namespace", async () => {
      for (const [overlay, service] of services) {
        const parent = traceparent(true);
        expect((await fetch(`${service.url}/octocat`, { headers: { traceparent: parent.header } })).status).toBe(200);
        const [span] = await receiver!.waitForSpans((s) => s.traceId === parent.traceId && s.kind === "SERVER", 15_000);
        expect({ overlay, parent: span!.parentSpanId, resource: span!.resource }).toMatchObject({
          overlay,
          parent: parent.spanId,
          resource: { "service.name": app.name, "deployment.environment.name": overlay, "k8s.pod.name": pod.name, "k8s.namespace.name": pod.namespace },
        });
      }
    }, 40_000);

    test("each follows the proxy's decision: an unsampled context is not traced, whatever the ratio", async () => {
      for (const [overlay, service] of services) {
        const unsampled = traceparent(false);
        const sampled = traceparent(true);
        expect((await fetch(`${service.url}/octocat`, { headers: { traceparent: unsampled.header } })).status).toBe(200);
        expect((await fetch(`${service.url}/octocat`, { headers: { traceparent: sampled.header } })).status).toBe(200);
        // Spans leave in the order they end: once the later request's span is in, the earlier one would be too.
        await receiver!.waitForSpans((s) => s.traceId === sampled.traceId && s.kind === "SERVER", 15_000);
        expect({ overlay, exported: receiver!.spans().filter((s) => s.traceId === unsampled.traceId).length }).toEqual({ overlay, exported: 0 });
      }
    }, 40_000);

    test.skipIf(!existsSync(prometheusBinary))(
      "with the bundled Prometheus's flags, the scrape keeps an exemplar whose trace_id is the exported trace",
      async () => {
        const bundled: string[] = byName(kind(), "Deployment", "prometheus", "monitoring").spec.template.spec.containers[0].args;
        const features = bundled.filter((a) => a.startsWith("--enable-feature=")).flatMap((a) => a.split("=")[1]!.split(","));
        const service = services.get("kind")!;
        // The bundled scrape config's defaults: no scrape_protocols, so Prometheus asks for OpenMetrics first.
        const prometheus = await startPrometheus({ jobs: [{ name: "gists-api", targets: [new URL(service.url).host] }], features });
        try {
          const parent = traceparent(true);
          expect((await fetch(`${service.url}/octocat`, { headers: { traceparent: parent.header } })).status).toBe(200);
          await receiver!.waitForSpans((s) => s.traceId === parent.traceId && s.kind === "SERVER", 15_000);
          const metric = `${catalog.httpRequestDuration.name}_bucket`;
          const traceIds = async () => {
            const now = Date.now() / 1000;
            const answer = await prometheus.get<{ exemplars: { labels: Record<string, string> }[] }[]>(
              `/api/v1/query_exemplars?query=${metric}&start=${now - 300}&end=${now + 60}`,
            );
            return (answer.data ?? []).flatMap((series) => series.exemplars.map((e) => e.labels.trace_id));
          };
          let found: string[] = [];
          for (const deadline = Date.now() + 20_000; !found.includes(parent.traceId) && Date.now() < deadline; await Bun.sleep(250)) found = await traceIds();
          expect(found).toContain(parent.traceId);
        } finally {
          await prometheus.stop();
        }
      },
      45_000,
    );

    test("Kind traces a request that arrives with no context (ratio 1), as its sidecars do", async () => {
      const before = new Set(receiver!.spans().map((s) => s.traceId));
      expect((await fetch(`${services.get("kind")!.url}/octocat?per_page=1`)).status).toBe(200);
      const spans = await receiver!.waitForSpans(
        (s) => s.kind === "SERVER" && !before.has(s.traceId) && s.resource["deployment.environment.name"] === "kind",
        15_000,
      );
      expect(spans[0]!.parentSpanId).toBe("");
    }, 20_000);
  });

  describe("the mesh's tracing provider", () => {
    const meshConfig = () => parseYaml(readFileSync(`${repoRoot}ops/scripts/k8s/istio-operator.yaml`, "utf8")).spec.meshConfig;

    test("istioctl's mesh defines it as OpenTelemetry over gRPC to Tempo's Service, which Kind renders", () => {
      const providers = meshConfig().extensionProviders.filter((p: any) => p.name === providerName);
      expect(providers.length).toBe(1);
      const { service, port } = providers[0].opentelemetry;
      expect(service).toMatch(/^[a-z0-9-]+\.[a-z0-9-]+\.svc\.cluster\.local$/);
      const [name, namespace] = service.split(".");
      const tempoService = byName(kind(), "Service", name, namespace);
      expect(tempoService.spec.ports.find((p: any) => p.port === port)).toMatchObject({ name: "grpc-otlp", appProtocol: "grpc" });
    });

    test("every Telemetry selects that provider and a percentage; Kind's gateway samples all, as its sidecars do", () => {
      for (const [name, objects] of renders) {
        const telemetries = ofKind(objects, "Telemetry");
        expect({ name, count: telemetries.length }).toEqual({ name, count: name === "kind" ? 2 : 1 });
        for (const t of telemetries) {
          for (const tracing of t.spec.tracing) {
            expect({ t: objectId(t), providers: tracing.providers.map((p: any) => p.name) }).toEqual({ t: objectId(t), providers: [providerName] });
            expect(tracing.randomSamplingPercentage).toBeGreaterThan(0);
            expect(tracing.randomSamplingPercentage).toBeLessThanOrEqual(100);
          }
        }
      }
      const gatewayTelemetry = ofKind(kind(), "Telemetry").find((t) => t.metadata.namespace === gateway.namespace)!;
      expect(gatewayTelemetry.spec.selector.matchLabels).toEqual(gateway.labels);
      expect(gatewayTelemetry.spec.tracing[0].randomSamplingPercentage).toBe(sampling.kind * 100);
      // The Gateway the istio component declares selects the same proxies.
      expect(byName(kind(), "Gateway", app.name, app.namespace).spec.selector).toEqual(gateway.labels);
    });

    test("the sidecars know the provider's host: with REGISTRY_ONLY and no cluster for it, their spans would go nowhere", () => {
      const service: string = meshConfig().extensionProviders.find((p: any) => p.name === providerName).opentelemetry.service;
      for (const [name, objects] of renders) {
        const sidecar = byName(objects, "Sidecar", "default", app.namespace);
        expect({ name, hosts: sidecar.spec.egress.flatMap((e: any) => e.hosts) }).toEqual({
          name,
          hosts: expect.arrayContaining([`${service.split(".")[1]}/${service}`]),
        });
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------

const _ajv = new Ajv({ allErrors: true });

function _schema(id: string) {
  return _ajv.getSchema(id) ?? (_ajv.addSchema(JSON.parse(readFileSync(`${repoRoot}k8s/schemas/${id}.schema.json`, "utf8")), id), _ajv.getSchema(id)!);
}

/**
 * The service container's environment as Kubernetes gives it: the ConfigMap's settings, then each env entry with
 * `$(VAR)` expanded from what comes before, the downward API's fields from `pod`; Secret keys are left out.
 */
function _serviceEnv(objects: K8sObject[]): Record<string, string> {
  const container = byName(objects, "Deployment", app.name, app.namespace).spec.template.spec.containers.find((c: any) => c.name === app.container);
  const configName = container.envFrom.find((e: any) => e.configMapRef).configMapRef.name;
  const env: Record<string, string> = { ...byName(objects, "ConfigMap", configName, app.namespace).data };
  const fields: Record<string, string> = { "metadata.name": pod.name, "metadata.namespace": pod.namespace };
  for (const e of container.env ?? []) {
    if (e.value !== undefined)
      env[e.name] = e.value.replace(/\$\$|\$\((\w+)\)/g, (match: string, name?: string) => (name === undefined ? "$" : (env[name] ?? match)));
    else if (e.valueFrom?.fieldRef) env[e.name] = fields[e.valueFrom.fieldRef.fieldPath]!;
  }
  return env;
}

/** Hours of a Go duration made of whole hours and minutes (`24h`, `1h30m`). */
function _hours(duration: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?$/.exec(duration);
  if (!match || duration === "") throw new Error(`not an hours-and-minutes duration: ${duration}`);
  return Number(match[1] ?? 0) + Number(match[2] ?? 0) / 60;
}
