import { parseAllDocuments } from "yaml";

// What the Kubernetes tests read from rendered manifests, in one place: rendering, finding objects, and the label
// and peer matching NetworkPolicies and Services use.

/** A rendered Kubernetes object; its shape is what its schema check established. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: a rendered object's fields are whatever its kind defines
  [field: string]: any;
};

/** `kubectl kustomize DIR`, parsed; `name` says which overlay or component failed. */
export async function kustomize(dir: string, name = dir): Promise<K8sObject[]> {
  const proc = Bun.spawn(["kubectl", "kustomize", dir], { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`kubectl kustomize ${name} failed (exit ${code}):\n${err}`);
  return parseAllDocuments(out)
    .map((doc) => doc.toJS() as K8sObject)
    .filter(Boolean);
}

/** `Kind/namespace/name`, for messages. */
export function objectId(o: K8sObject): string {
  return `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
}

/** Every object of a kind. */
export function ofKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** The object of a kind, name and namespace; throws when it is not rendered. */
export function byName(objects: K8sObject[], kind: string, name: string, namespace: string | undefined): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace);
  if (!found) throw new Error(`${kind} ${namespace ?? ""}/${name} is not rendered`);
  return found;
}

/** Whether a non-empty label map (a Service's selector) selects these labels. */
export function matchesLabels(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** Whether a LabelSelector (matchLabels and matchExpressions) selects these labels; an absent one selects nothing. */
// biome-ignore lint/suspicious/noExplicitAny: a LabelSelector as rendered
export function matchesSelector(selector: any, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  // biome-ignore lint/suspicious/noExplicitAny: one of the selector's expressions
  const expressions = (selector.matchExpressions ?? []).every((e: any) => {
    const value = labels?.[e.key];
    if (e.operator === "In") return value !== undefined && e.values.includes(value);
    if (e.operator === "NotIn") return value === undefined || !e.values.includes(value);
    if (e.operator === "Exists") return value !== undefined;
    return value === undefined;
  });
  const matchLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v);
  return expressions && matchLabels && (selector.matchLabels || selector.matchExpressions) !== undefined;
}

/** A NetworkPolicy peer in a few words (`ns:monitoring pods:app=grafana`), for messages. */
// biome-ignore lint/suspicious/noExplicitAny: a NetworkPolicy peer as rendered
export function describePeer(peer: any): string {
  const parts: string[] = [];
  if (peer.namespaceSelector) parts.push(`ns:${peer.namespaceSelector.matchLabels?.["kubernetes.io/metadata.name"]}`);
  if (peer.podSelector) {
    const labels = Object.entries(peer.podSelector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
    parts.push(`pods:${labels.join(",")}`);
  }
  if (peer.ipBlock) parts.push(`ip:${peer.ipBlock.cidr}`);
  return parts.join(" ");
}

/** What the restricted Pod Security Standard asks of every container's securityContext (and no added capability). */
export const restrictedContainer = {
  runAsNonRoot: true,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
} as const;

/** A pod template (of a Deployment, StatefulSet, Job...) and where it comes from. */
export interface PodTemplate {
  owner: string;
  namespace?: string;
  labels?: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: containers as rendered
  containers: any[];
  // biome-ignore lint/suspicious/noExplicitAny: the pod spec as rendered
  spec?: any;
}

/** Every pod template rendered, init containers first. */
export function podTemplates(objects: K8sObject[]): PodTemplate[] {
  return objects
    .filter((o) => o.spec?.template?.spec?.containers)
    .map((o) => ({
      owner: `${o.kind}/${o.metadata.name}`,
      namespace: o.metadata.namespace,
      labels: o.spec.template.metadata?.labels,
      containers: [...(o.spec.template.spec.initContainers ?? []), ...o.spec.template.spec.containers],
      spec: o.spec.template.spec,
    }));
}

/** The containerPort a probe, Service or NetworkPolicy names (by port name or number), if a container declares it. */
export function containerPort(pod: PodTemplate, port: string | number): number | undefined {
  const ports = pod.containers.flatMap((c) => c.ports ?? []);
  const found = ports.find((p) => (typeof port === "string" ? p.name === port : p.containerPort === port));
  return found?.containerPort;
}

/** A generated ConfigMap by the name it was generated under (kustomize appends a content hash to some). */
export function generatedConfigMap(objects: K8sObject[], name: string, namespace?: string): K8sObject {
  const found = ofKind(objects, "ConfigMap").filter(
    (o) => (namespace === undefined || o.metadata.namespace === namespace) && (o.metadata.name === name || o.metadata.name.startsWith(`${name}-`)),
  );
  const where = namespace ? `${namespace}/${name}` : name;
  if (found.length !== 1) throw new Error(`expected one ConfigMap generated as ${where}, found ${found.length}`);
  return found[0]!;
}
