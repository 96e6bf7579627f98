import { beforeAll, describe, expect, test } from "bun:test";
import { parse } from "@cdktn/hcl2json";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { repoRoot } from "../src/testing/service.ts";
import { metaArguments, providerShapes, type BlockShape } from "./provider-schemas.ts";

// Providers cannot be downloaded here, so `terraform init/validate/plan` cannot run: these tests read the HCL
// with an npm parser (HashiCorp's HCL library compiled to WebAssembly) and check its structure, and run
// `terraform fmt -check` and `terraform providers` when a terraform binary is on PATH.

const dir = `${repoRoot}terraform/`;
const files = ["versions.tf", "providers.tf", "variables.tf", "kind.tf", "istio.tf", "metallb.tf", "metrics.tf", "app.tf", "outputs.tf"];
const settings = [
  "cluster_name",
  "worker_count",
  "kubernetes_version",
  "istio_version",
  "metallb_version",
  "metallb_address_range",
  "http_host_port",
  "https_host_port",
  "github_token",
  "admin_token",
  "redis_password",
];
/** The one list of platform versions, shared with ops/scripts/k8s/. */
const versions = JSON.parse(readFileSync(`${repoRoot}ops/scripts/k8s/versions.json`, "utf8")) as Record<string, string>;
const exactVersion = /^\d+\.\d+\.\d+$/;
const hasTerraform = Bun.which("terraform") !== null;

describe("terraform/", () => {
  let mod: _Module;

  beforeAll(async () => {
    mod = await _loadModule(dir);
  }, 30_000);

  test("has a file per role and a README, and every .tf file parses", async () => {
    for (const file of [...files, "README.md"]) expect({ file, exists: existsSync(dir + file) }).toEqual({ file, exists: true });
    expect(Object.keys(mod.files).sort()).toEqual(
      readdirSync(dir)
        .filter((f) => f.endsWith(".tf"))
        .sort(),
    );
    // The parser does reject what Terraform rejects.
    await expect(parse("broken.tf", 'resource "x" "y" {\n  a =\n')).rejects.toThrow();
  }, 10_000);

  test("pins Terraform and every provider to one release", () => {
    const [block] = mod.blocks("terraform");
    expect(block?.required_version).toMatch(/^>= ?1\.\d+/);
    const providers: Record<string, { source: string; version: string }> = Object.assign({}, ...(block?.required_providers ?? []));
    const sources = Object.values(providers).map((p) => p.source);
    expect(sources).toEqual(expect.arrayContaining(["tehcyx/kind", "hashicorp/helm"]));
    expect(sources.some((s) => s === "hashicorp/kubernetes" || s === "kbst/kustomization")).toBe(true);
    for (const [name, { version }] of Object.entries(providers)) {
      expect({ name, version }).toEqual({ name, version: expect.stringMatching(exactVersion) });
    }
    // Every resource and data source type belongs to a declared provider (terraform_data is built in).
    const used = new Set([...mod.addresses()].map((a) => a.replace(/^data\./, "").split(/[._]/)[0]!));
    used.delete("terraform");
    expect([...used].filter((p) => !(p in providers))).toEqual([]);
    // Charts are pinned too, each from the shared versions file (a variable may override it).
    for (const [address, { version }] of mod.resources("helm_release")) {
      expect({ address, version }).toEqual({ address, version: expect.stringMatching(/^\$\{local\.(\w+_version|versions\.\w+)\}$/) });
    }
  });

  test("declares the settings the issue names, each typed and described, and uses every one", () => {
    const variables = mod.variables();
    expect(Object.keys(variables)).toEqual(expect.arrayContaining(settings));
    for (const [name, v] of Object.entries(variables)) {
      const declared = { name, type: typeof v.type, described: String(v.description ?? "").length > 10 };
      expect(declared).toEqual({ name, type: "string", described: true });
    }
    // References outside the variable blocks themselves (their validations name them too).
    const outside = JSON.stringify(Object.values(mod.files).map((f) => ({ ...f, variable: undefined })));
    const referenced = new Set([...outside.matchAll(/\bvar\.(\w+)/g)].map((m) => m[1]!));
    expect(Object.keys(variables).filter((name) => !referenced.has(name))).toEqual([]);
    expect([...referenced].filter((name) => !(name in variables))).toEqual([]);
    const locals = new Set(mod.blocks("locals").flatMap((l) => Object.keys(l)));
    const localRefs = new Set([...JSON.stringify(mod.files).matchAll(/\blocal\.(\w+)/g)].map((m) => m[1]!));
    expect([...localRefs].filter((name) => !locals.has(name))).toEqual([]);
  });

  test("outputs the kubeconfig path, the gateway address and the URLs, each described", () => {
    const outputs = mod.outputs();
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(["kubeconfig_path", "gateway_address", "urls"]));
    for (const [name, o] of Object.entries(outputs)) {
      expect({ name, described: Boolean(o.description), value: o.value !== undefined }).toEqual({ name, described: true, value: true });
    }
  });

  test("the Kind cluster publishes the gateway's node ports on the host ports 80 and 443", () => {
    const [[, cluster]] = [...mod.resources("kind_cluster")];
    const controlPlane = cluster.kind_config[0].node.find((n: any) => n.role === "control-plane");
    expect(controlPlane.extra_port_mappings.map((m: any) => [m.host_port, m.container_port])).toEqual([
      ["${var.http_host_port}", "${local.gateway_node_ports.http}"],
      ["${var.https_host_port}", "${local.gateway_node_ports.https}"],
    ]);
    expect(cluster.node_image).toBe("kindest/node:${local.kubernetes_version}");
    const gateway = JSON.stringify(mod.resource("helm_release.istio_ingressgateway"));
    for (const port of ["http", "https"]) expect(gateway).toContain(`nodePort = local.gateway_node_ports.${port}`);
  });

  test("installs Istio in order: base, then istiod, then the gateway", () => {
    const charts = Object.fromEntries([...mod.resources("helm_release")].map(([address, r]) => [r.chart, address]));
    expect(Object.keys(charts)).toEqual(expect.arrayContaining(["base", "istiod", "gateway", "metallb"]));
    expect(mod.dependsOn(charts.istiod!, charts.base!)).toBe(true);
    expect(mod.dependsOn(charts.gateway!, charts.istiod!)).toBe(true);
    expect(mod.dependsOn(charts.base!, charts.istiod!)).toBe(false);
  });

  test("applies MetalLB's pool and advertisement from k8s/components/metallb after the chart, with the range variable", () => {
    const overlay = JSON.stringify(mod.resource("data.kustomization_overlay.metallb"));
    expect(overlay).toContain("${local.k8s_dir}/components/metallb");
    expect(overlay).toContain("local.metallb_address_range");
    expect(JSON.stringify(mod.blocks("locals").find((l) => l.metallb_address_range))).toContain("var.metallb_address_range");
    expect(mod.dependsOn("kustomization_resource.metallb", "helm_release.metallb")).toBe(true);
    expect(mod.dependsOn("kustomization_resource.metallb", "data.kustomization_overlay.metallb")).toBe(true);
    // The gateway's LoadBalancer Service needs the pool before Helm stops waiting for its address.
    expect(mod.dependsOn("helm_release.istio_ingressgateway", "kustomization_resource.metallb")).toBe(true);
  });

  test("applies k8s/overlays/kind after Istio and MetalLB, leaving the MetalLB objects to metallb.tf", () => {
    expect(JSON.stringify(mod.resource("data.kustomization_overlay.app"))).toContain("${local.k8s_dir}/overlays/kind");
    for (const phase of ["app_p0", "app_p1", "app_p2"]) {
      const address = `kustomization_resource.${phase}`;
      const after = (other: string) => mod.dependsOn(address, other);
      const order = { address, gateway: after("helm_release.istio_ingressgateway"), pool: after("kustomization_resource.metallb") };
      expect(order).toEqual({ address, gateway: true, pool: true });
    }
    // The provider's IDs are group/Kind/namespace/name.
    expect(JSON.stringify(mod.blocks("locals"))).toContain('!startswith(id, \\"metallb.io/\\")');
  });

  test("every k8s/ path Terraform reads exists and holds what it reads", () => {
    expect(mod.blocks("locals").find((l) => l.k8s_dir)?.k8s_dir).toBe("${path.module}/../k8s");
    const paths = new Set([...JSON.stringify(mod.files).matchAll(/\$\{local\.k8s_dir\}\/([\w./-]+)/g)].map((m) => m[1]!));
    expect(paths.size).toBeGreaterThanOrEqual(3);
    for (const path of paths) expect({ path, exists: existsSync(`${repoRoot}k8s/${path}`) }).toEqual({ path, exists: true });
    // istio.tf takes the host and the TLS secret's name from the Gateway: servers[0].hosts[0], servers[1].tls.
    const gateway = _yaml("k8s/components/istio/gateway.yaml");
    expect(gateway.spec.servers[0].hosts[0]).toMatch(/^[a-z0-9.-]+$/);
    expect(gateway.spec.servers[1].tls.credentialName).toMatch(/^[a-z0-9-]+$/);
    expect(gateway.spec.selector).toEqual({ istio: "ingressgateway" });
    // metallb.tf's JSON patch replaces the pool's list of addresses.
    const pool = _yaml("k8s/components/metallb/ipaddresspool.yaml");
    const shape = { kind: pool.kind, group: pool.apiVersion.split("/")[0], list: Array.isArray(pool.spec.addresses) };
    expect(shape).toEqual({ kind: "IPAddressPool", group: "metallb.io", list: true });
  });

  test("every provider block, argument and nested block has the shape its provider's schema gives", () => {
    const problems: string[] = [];
    const [terraform] = mod.blocks("terraform");
    const pinned: Record<string, { source: string; version: string }> = Object.assign({}, ...(terraform?.required_providers ?? []));
    // The recorded shapes are for the pinned releases: a version change must come with a new look at the schema.
    for (const [name, { source, version }] of Object.entries(pinned)) {
      const recorded = providerShapes.find((p) => p.source === source);
      expect({ name, source, version: recorded?.version }).toEqual({ name, source, version });
    }
    const byType = (kind: "resources" | "dataSources", type: string) => providerShapes.map((p) => p[kind][type]).find(Boolean);
    for (const [file, parsed] of Object.entries(mod.files)) {
      for (const [kind, key] of [
        ["resource", "resources"],
        ["data", "dataSources"],
      ] as const) {
        for (const [type, byName] of Object.entries<any>(parsed[kind] ?? {})) {
          const shape = byType(key, type);
          for (const [name, [body]] of Object.entries<any>(byName)) {
            if (!shape) problems.push(`${file}: ${kind} ${type}: no recorded schema`);
            else problems.push(..._shapeProblems(body, shape, `${file}: ${kind}.${type}.${name}`, true));
          }
        }
      }
      for (const [name, bodies] of Object.entries<any>(parsed.provider ?? {})) {
        const shape = providerShapes.find((p) => p.source === pinned[name]?.source)?.provider;
        if (!shape) problems.push(`${file}: provider ${name}: no recorded schema`);
        else for (const body of bodies) problems.push(..._shapeProblems(body, shape, `${file}: provider.${name}`, false));
      }
    }
    expect(problems).toEqual([]);
  });

  test("the platform's versions come from the file the scripts read, once", () => {
    expect(Object.keys(versions).sort()).toEqual(["istio", "kind", "kubernetes", "metallb", "metricsServer", "metricsServerChart"]);
    const locals = Object.assign({}, ...mod.blocks("locals"));
    expect(locals.versions).toBe('${jsondecode(file("${path.module}/../ops/scripts/k8s/versions.json"))}');
    for (const [local, key] of [
      ["kubernetes_version", "kubernetes"],
      ["istio_version", "istio"],
      ["metallb_version", "metallb"],
    ]) {
      expect({ local, value: locals[local!] }).toEqual({ local, value: `\${coalesce(var.${local}, local.versions.${key})}` });
      expect(mod.variables()[local!].default).toBeNull();
    }
    expect(mod.resource("helm_release.metrics_server").version).toBe("${local.versions.metricsServerChart}");
    // No literal version anywhere else in the configuration.
    const text = files.map((f) => readFileSync(dir + f, "utf8")).join("\n");
    for (const version of new Set(Object.values(versions).map((v) => v.replace(/^v/, "")))) {
      expect({ version, literal: text.includes(`"${version}"`) || text.includes(`"v${version}"`) }).toEqual({ version, literal: false });
    }
  });

  test("the tokens and the Redis password are sensitive variables that fill the overlay's Secret, key for key", () => {
    const variables = mod.variables();
    for (const name of ["github_token", "admin_token", "redis_password"])
      expect({ name, sensitive: variables[name].sensitive }).toEqual({ name, sensitive: true });
    const [generator] = mod.resource("data.kustomization_overlay.app").secret_generator;
    const kindSecret = _yaml("k8s/overlays/kind/kustomization.yaml").secretGenerator[0];
    expect([generator.name, generator.namespace, generator.behavior]).toEqual([kindSecret.name, kindSecret.namespace, "merge"]);
    const keys = readFileSync(`${repoRoot}k8s/overlays/kind/${kindSecret.envs[0]}`, "utf8")
      .split("\n")
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.split("=")[0]);
    expect(generator.literals.map((l: string) => l.split("=")[0])).toEqual(keys);
    expect(generator.literals).toEqual(["GITHUB_TOKEN=${var.github_token}", "ADMIN_TOKEN=${var.admin_token}", "REDIS_PASSWORD=${local.redis_password}"]);
    // Only providers already pinned: a password derived from a generated key, since there is no random provider.
    expect(Object.assign({}, ...mod.blocks("locals")).redis_password).toBe(
      "${coalesce(var.redis_password, sha256(tls_private_key.redis_password_seed.private_key_pem))}",
    );
    // Secrets never show in a plan: every Secret manifest is wrapped in sensitive().
    expect(JSON.stringify(mod.resource("kustomization_resource.app_p1").manifest)).toContain("sensitive(local.app_manifests[each.value])");
  });

  test("a rebuilt image under the same tag is reloaded and rolls the pods; Kind needs a worker for MetalLB", () => {
    const image = mod.resource("terraform_data.app_image");
    expect(image.triggers_replace).toContain("${var.app_image_id}");
    const [patch] = mod.resource("data.kustomization_overlay.app").patches;
    expect(patch.target).toEqual([{ group: "apps", kind: "Deployment", name: "gists-api" }]);
    expect(patch.patch).toContain("var.app_image_id");
    expect(mod.variables().worker_count.validation[0].condition).toContain("var.worker_count >= 1");
  });

  test("istiod's mesh gains the tracing provider the Telemetry selects, pointed at Tempo's OTLP/gRPC port, as istioctl's does", () => {
    const locals = Object.assign({}, ...mod.blocks("locals"));
    // The name, the host and the port come from the manifests, not from a copy.
    expect(locals.tracing_provider).toBe('${yamldecode(file("${local.k8s_dir}/components/istio/telemetry.yaml")).spec.tracing[0].providers[0].name}');
    expect(locals.tempo_service).toBe('${yamldecode(file("${local.k8s_dir}/components/monitoring/tempo-service.yaml"))}');
    expect(locals.tempo_otlp_grpc).toContain('port.name == "grpc-otlp"');
    const values = JSON.stringify(mod.resource("helm_release.istiod").values);
    const parts = [
      /extensionProviders\s*=/,
      /name\s*=\s*local\.tracing_provider/,
      /opentelemetry\s*=/,
      /service\s*=\s*\\"\$\{local\.tempo_service\.metadata\.name\}\.\$\{local\.tempo_service\.metadata\.namespace\}\.svc\.cluster\.local\\"/,
      /port\s*=\s*local\.tempo_otlp_grpc/,
    ];
    for (const part of parts) expect({ part: part.source, present: part.test(values) }).toEqual({ part: part.source, present: true });
    // What those files say is what istioctl's mesh says, so both installs trace to the same place.
    const telemetry = _yaml("k8s/components/istio/telemetry.yaml");
    const service = _yaml("k8s/components/monitoring/tempo-service.yaml");
    const operator = _yaml("ops/scripts/k8s/istio-operator.yaml").spec.meshConfig.extensionProviders;
    expect(operator).toEqual([
      {
        name: telemetry.spec.tracing[0].providers[0].name,
        opentelemetry: {
          service: `${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`,
          port: service.spec.ports.find((p: any) => p.name === "grpc-otlp").port,
        },
      },
    ]);
  });

  test.skipIf(!hasTerraform)(
    "Terraform reads the tracing provider's name and Tempo's port from the manifests",
    () => {
      const locals = Object.assign({}, ...mod.blocks("locals"));
      const k8s = `${repoRoot}k8s`;
      const inline = (expression: string) => expression.replaceAll("${local.k8s_dir}", k8s);
      expect(_evaluate(inline(locals.tracing_provider))).toBe('"tempo"');
      const port = (locals.tempo_otlp_grpc as string).replaceAll("local.tempo_service", `(${inline(locals.tempo_service).replace(/^\$\{([\s\S]*)\}$/, "$1")})`);
      expect(_evaluate(port)).toBe("4317");
    },
    30_000,
  );

  test.skipIf(!hasTerraform)(
    "Terraform evaluates the worker rule, the derived MetalLB range and the Secret's stable key as intended",
    () => {
      const locals = Object.assign({}, ...mod.blocks("locals"));
      const condition = mod.variables().worker_count.validation[0].condition as string;
      expect(_evaluate(condition.replaceAll("var.worker_count", "0"))).toBe("false");
      expect(_evaluate(condition.replaceAll("var.worker_count", "2"))).toBe("true");
      // The range deploy.sh's pool_for_subnet gives for Kind's default 172.18.0.0/16.
      const range = (locals.metallb_address_range as string)
        .replaceAll("var.metallb_address_range", "null")
        .replaceAll("local.node_network", '"172.18.0.3/16"');
      expect(_evaluate(range)).toBe('"172.18.255.200-172.18.255.250"');
      const stable = (locals.stable_id as string).match(/replace\(id, "(.*?)", "(.*?)"\)/)!;
      expect(_evaluate(`replace("_/Secret/gists-api/gists-api-secrets-kftfgbh49b", "${stable[1]}", "${stable[2]}")`)).toBe(
        '"_/Secret/gists-api/gists-api-secrets"',
      );
      expect(_evaluate(`replace("apps/Deployment/gists-api/gists-api", "${stable[1]}", "${stable[2]}")`)).toBe('"apps/Deployment/gists-api/gists-api"');
    },
    30_000,
  );

  test.skipIf(!hasTerraform)(
    "is `terraform fmt` clean",
    () => {
      const fmt = Bun.spawnSync(["terraform", "fmt", "-check", "-recursive", "-diff", dir], { stdout: "pipe", stderr: "pipe" });
      expect({ code: fmt.exitCode, diff: fmt.stdout.toString() }).toEqual({ code: 0, diff: "" });
    },
    20_000,
  );

  // `terraform providers` decodes the configuration as Terraform does (blocks, meta-arguments) and downloads nothing.
  test.skipIf(!hasTerraform)(
    "is loaded by `terraform providers`, which lists the pinned providers",
    () => {
      const run = Bun.spawnSync(["terraform", `-chdir=${dir}`, "providers"], { stdout: "pipe", stderr: "pipe" });
      expect({ code: run.exitCode, stderr: run.exitCode === 0 ? "" : run.stderr.toString() }).toEqual({ code: 0, stderr: "" });
      for (const source of ["tehcyx/kind", "hashicorp/helm", "kbst/kustomization"]) {
        expect(run.stdout.toString()).toMatch(new RegExp(`${source}\\] \\d+\\.\\d+\\.\\d+`));
      }
    },
    20_000,
  );
});

/** The parsed .tf files of one module and the questions the tests ask of them. */
interface _Module {
  files: Record<string, any>;
  blocks(kind: string): any[];
  variables(): Record<string, any>;
  outputs(): Record<string, any>;
  resources(type: string): Map<string, any>;
  resource(address: string): any;
  addresses(): Set<string>;
  /** Whether `from` refers to `to`, directly or through other resources, data sources and locals. */
  dependsOn(from: string, to: string): boolean;
}

async function _loadModule(path: string): Promise<_Module> {
  const files: Record<string, any> = {};
  for (const file of readdirSync(path)
    .filter((f) => f.endsWith(".tf"))
    .sort()) {
    files[file] = await parse(file, readFileSync(path + file, "utf8"));
  }
  const all = Object.values(files);
  const named = (kind: string) => all.flatMap((f) => Object.entries<any>(f[kind] ?? {}).map(([name, [body]]) => [name, body]));
  const nodes = new Map<string, any>();
  for (const f of all) {
    for (const [kind, prefix] of [
      ["resource", ""],
      ["data", "data."],
    ] as const) {
      for (const [type, byName] of Object.entries<any>(f[kind] ?? {})) {
        for (const [name, [body]] of Object.entries<any>(byName)) nodes.set(`${prefix}${type}.${name}`, body);
      }
    }
    for (const locals of f.locals ?? []) for (const [name, body] of Object.entries(locals)) nodes.set(`local.${name}`, body);
  }
  const edges = new Map([...nodes].map(([address, body]) => [address, _references(JSON.stringify(body), nodes)]));
  return {
    files,
    blocks: (kind) => all.flatMap((f) => f[kind] ?? []),
    variables: () => Object.fromEntries(named("variable")),
    outputs: () => Object.fromEntries(named("output")),
    resources: (type) => new Map([...nodes].filter(([a]) => a.startsWith(`${type}.`))),
    resource: (address) => nodes.get(address),
    addresses: () => new Set([...nodes.keys()].filter((a) => !a.startsWith("local."))),
    dependsOn(from, to) {
      const seen = new Set<string>();
      const stack = [from];
      while (stack.length > 0) {
        for (const next of edges.get(stack.pop()!) ?? []) {
          if (next === to) return true;
          if (!seen.has(next)) seen.add(next), stack.push(next);
        }
      }
      return false;
    },
  };
}

/** The addresses (resources, data sources, locals) a block's text mentions. */
function _references(text: string, nodes: Map<string, unknown>): string[] {
  return [...nodes.keys()].filter((address) => new RegExp(`(?<![\\w.])${address.replace(/\./g, "\\.")}\\b`).test(text));
}

function _yaml(path: string): any {
  return parseYaml(readFileSync(`${repoRoot}${path}`, "utf8"));
}

/** Problems of one block body against its recorded shape: unknown names, blocks written as attributes and back. */
function _shapeProblems(body: Record<string, unknown>, shape: BlockShape, where: string, topLevel: boolean): string[] {
  const problems: string[] = [];
  const isBlock = (value: unknown) => Array.isArray(value) && value.length > 0 && value.every((v) => v !== null && typeof v === "object" && !Array.isArray(v));
  for (const [name, value] of Object.entries(body)) {
    if (topLevel && metaArguments.includes(name)) continue;
    if (name === "dynamic") {
      // dynamic "x" { content { ... } } stands for x blocks.
      for (const [blockName, [dynamic]] of Object.entries<any>(value as object)) {
        const nested = shape.blocks?.[blockName];
        if (!nested) problems.push(`${where}: dynamic "${blockName}" is no block here`);
        else for (const content of dynamic.content) problems.push(..._shapeProblems(content, nested, `${where}.${blockName}`, false));
      }
      continue;
    }
    const nested = shape.blocks?.[name];
    if (nested) {
      if (!isBlock(value)) problems.push(`${where}: ${name} is a block (${name} { ... }), not an argument (${name} = ...)`);
      else for (const item of value as Record<string, unknown>[]) problems.push(..._shapeProblems(item, nested, `${where}.${name}`, false));
    } else if (shape.attributes.includes(name)) {
      // hcl2json gives a block as a list of objects and `name = { ... }` as a plain object. A list of objects could
      // also be `name = [{ ... }]`, which nothing here needs: it is read as a block written in place of an argument.
      if (isBlock(value)) problems.push(`${where}: ${name} is an argument (${name} = ...), not a block`);
    } else {
      problems.push(`${where}: ${name} is not in the provider's schema`);
    }
  }
  return problems;
}

/** Evaluate one Terraform expression with `terraform console` (built-in functions only; no providers needed). */
function _evaluate(expression: string): string {
  const unwrapped = /^\$\{([\s\S]*)\}$/.exec(expression)?.[1] ?? expression;
  const cwd = mkdtempSync(join(tmpdir(), "gists-tf-console-"));
  try {
    const run = Bun.spawnSync(["terraform", "console"], {
      cwd,
      stdin: Buffer.from(`${unwrapped.replace(/\s*\n\s*/g, " ")}\n`),
      stdout: "pipe",
      stderr: "pipe",
    });
    if (run.exitCode !== 0) throw new Error(`terraform console failed on ${unwrapped}: ${run.stderr.toString()}`);
    return run.stdout.toString().trim();
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}
