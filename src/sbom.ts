/**
 * The software bill of materials of the binary: a CycloneDX 1.6 document of the runtime dependencies, derived
 * from package-lock.json by following `dependencies` from package.json the way Node resolves them. Dev
 * dependencies are never reached, and neither are optional peers (TypeScript, for Elysia) that the binary omits.
 */
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";

declare const __GISTS_API_SBOM__: string | undefined;

/** The parts of package.json the bill of materials names. */
export interface PackageManifest {
  name: string;
  version: string;
  description?: string;
  license?: string;
  dependencies?: Record<string, string>;
}

/** The parts of a package-lock.json (lockfileVersion 2 or 3) the bill of materials reads. */
export interface PackageLock {
  packages: Record<string, LockedPackage>;
}

interface LockedPackage {
  version?: string;
  resolved?: string;
  integrity?: string;
  license?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** One CycloneDX component, as this document writes it. */
export interface SbomComponent {
  type: "library" | "application";
  "bom-ref": string;
  group?: string;
  name: string;
  version: string;
  purl: string;
  scope?: "required";
  description?: string;
  licenses?: Array<{ license: { id: string } } | { expression: string }>;
  hashes?: Array<{ alg: "SHA-512" | "SHA-384" | "SHA-256" | "SHA-1"; content: string }>;
  externalReferences?: Array<{ type: "distribution"; url: string }>;
}

/** A CycloneDX 1.6 JSON document. */
export interface Sbom {
  $schema: string;
  bomFormat: "CycloneDX";
  specVersion: "1.6";
  version: 1;
  metadata: { component: SbomComponent; tools: { components: Array<{ type: "application"; name: string; version: string }> } };
  components: SbomComponent[];
  dependencies: Array<{ ref: string; dependsOn: string[] }>;
}

/** The runtime dependencies of `manifest`, resolved through `lock`, as a CycloneDX document. */
export function runtimeSbom(manifest: PackageManifest, lock: PackageLock): Sbom {
  const root = _component(manifest.name, { version: manifest.version, license: manifest.license }, "application");
  if (manifest.description) root.description = manifest.description;
  const components = new Map<string, SbomComponent>();
  const dependencies = new Map<string, Set<string>>();
  const visit = (path: string, from: string, names: string[]): void => {
    const edges = dependencies.get(from) ?? new Set<string>();
    dependencies.set(from, edges);
    for (const name of names) {
      const found = _resolve(lock, path, name);
      if (!found) throw new Error(`package-lock.json has no ${name} for ${path || "the project"}: run npm install`);
      const component = _component(name, found.entry, "library");
      edges.add(component["bom-ref"]);
      if (components.has(component["bom-ref"])) continue;
      components.set(component["bom-ref"], component);
      visit(found.path, component["bom-ref"], _runtimeNames(lock, found.path, found.entry));
    }
  };
  visit("", root["bom-ref"], Object.keys(manifest.dependencies ?? {}));
  const byRef = (a: { "bom-ref": string }, b: { "bom-ref": string }) => a["bom-ref"].localeCompare(b["bom-ref"]);
  return {
    $schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
    bomFormat: "CycloneDX",
    specVersion: "1.6",
    version: 1,
    metadata: { component: root, tools: { components: [{ type: "application", name: manifest.name, version: manifest.version }] } },
    components: [...components.values()].sort(byRef),
    dependencies: [...dependencies.entries()].map(([ref, on]) => ({ ref, dependsOn: [...on].sort() })).sort((a, b) => a.ref.localeCompare(b.ref)),
  };
}

/** The bill of materials as JSON text: the one the build embedded, else derived from the checkout's lock file. */
export function sbomText(): string {
  if (typeof __GISTS_API_SBOM__ === "string") return __GISTS_API_SBOM__;
  const read = (file: string) => JSON.parse(readFileSync(new URL(`../${file}`, import.meta.url), "utf8"));
  return `${JSON.stringify(runtimeSbom(read("package.json"), read("package-lock.json")), null, 2)}\n`;
}

/** The names a locked package needs at run time: its dependencies, the optional ones installed, required peers. */
function _runtimeNames(lock: PackageLock, path: string, entry: LockedPackage): string[] {
  const names = new Set(Object.keys(entry.dependencies ?? {}));
  for (const name of Object.keys(entry.optionalDependencies ?? {})) if (_resolve(lock, path, name)) names.add(name);
  for (const name of Object.keys(entry.peerDependencies ?? {})) if (!entry.peerDependenciesMeta?.[name]?.optional) names.add(name);
  return [...names];
}

/** Node's lookup: node_modules/NAME beside the package, then in each enclosing node_modules up to the root. */
function _resolve(lock: PackageLock, from: string, name: string): { path: string; entry: LockedPackage } | undefined {
  let base = from;
  for (;;) {
    const path = `${base ? `${base}/` : ""}node_modules/${name}`;
    const entry = lock.packages[path];
    if (entry) return { path, entry };
    if (!base) return undefined;
    const cut = base.lastIndexOf("/node_modules/");
    base = cut < 0 ? "" : base.slice(0, cut);
  }
}

function _component(fullName: string, entry: LockedPackage, type: SbomComponent["type"]): SbomComponent {
  const version = entry.version ?? "0.0.0";
  const scoped = fullName.startsWith("@") ? fullName.split("/") : undefined;
  const purl = `pkg:npm/${scoped ? `${encodeURIComponent(scoped[0]!)}/${scoped[1]}` : fullName}@${encodeURIComponent(version)}`;
  const component: SbomComponent = { type, "bom-ref": purl, name: scoped ? scoped[1]! : fullName, version, purl };
  if (scoped) component.group = scoped[0];
  if (type === "library") component.scope = "required";
  if (entry.license) component.licenses = [/^[\w.+-]+$/.test(entry.license) ? { license: { id: entry.license } } : { expression: entry.license }];
  const hash = _hash(entry.integrity);
  if (hash) component.hashes = [hash];
  if (entry.resolved?.startsWith("https://")) component.externalReferences = [{ type: "distribution", url: entry.resolved }];
  return component;
}

/** An npm integrity string (`sha512-<base64>`) as a CycloneDX hash (hex). */
function _hash(integrity: string | undefined): { alg: "SHA-512" | "SHA-384" | "SHA-256" | "SHA-1"; content: string } | undefined {
  const match = /^(sha512|sha384|sha256|sha1)-([A-Za-z0-9+/=]+)$/.exec(integrity?.split(" ")[0] ?? "");
  if (!match) return undefined;
  const alg = ({ sha512: "SHA-512", sha384: "SHA-384", sha256: "SHA-256", sha1: "SHA-1" } as const)[match[1] as "sha512"];
  return { alg, content: Buffer.from(match[2]!, "base64").toString("hex") };
}
