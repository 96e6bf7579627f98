/**
 * The shapes of the provider blocks terraform/ uses, recorded from each provider's own schema source or
 * documentation, for the version pinned in terraform/versions.tf. HCL parses `target = { ... }` and `target { ... }`
 * alike, but a provider accepts only one of them: a nested block (SDKv2 `TypeList` of a `Resource`, or a framework
 * block) or an attribute (a map or an object). Only what the configuration uses, or may plausibly use, is listed:
 * an argument missing here fails the check, so a new one must be looked up before it is added.
 */

/** One block's body: its attributes, and its nested blocks by name. */
export interface BlockShape {
  attributes: string[];
  blocks?: Record<string, BlockShape>;
}

/** A provider release and the block types it defines. */
export interface ProviderShapes {
  source: string;
  version: string;
  /** Where the shapes were read. */
  readFrom: string;
  provider: BlockShape;
  resources: Record<string, BlockShape>;
  dataSources: Record<string, BlockShape>;
}

const _timeouts: BlockShape = { attributes: ["create", "update", "delete"] };
const _metadata: BlockShape = { attributes: ["name", "namespace", "labels", "annotations", "generate_name"] };
const _generatorOptions: BlockShape = { attributes: ["labels", "annotations", "disable_name_suffix_hash"] };
const _generator = (extra: string[]): BlockShape => ({
  attributes: ["name", "namespace", "behavior", "envs", "files", "literals", ...extra],
  blocks: { options: _generatorOptions },
});

export const providerShapes: ProviderShapes[] = [
  {
    source: "kbst/kustomization",
    version: "0.9.6",
    readFrom:
      "kbst/terraform-provider-kustomization kustomize/data_source_kustomization_overlay_schemata.go (schema version 1, " +
      "where patches.target and kustomize_options became TypeList MaxItems 1 blocks; version 0 had maps) and docs/",
    provider: { attributes: ["kubeconfig_path", "kubeconfig_raw", "kubeconfig_incluster", "context"] },
    resources: {
      kustomization_resource: { attributes: ["manifest", "wait"], blocks: { timeouts: _timeouts } },
    },
    dataSources: {
      kustomization_overlay: {
        attributes: [
          "common_annotations",
          "common_labels",
          "components",
          "crds",
          "generators",
          "name_prefix",
          "namespace",
          "name_suffix",
          "resources",
          "transformers",
        ],
        blocks: {
          config_map_generator: _generator([]),
          secret_generator: _generator(["type"]),
          generator_options: _generatorOptions,
          images: { attributes: ["name", "new_name", "new_tag", "digest"] },
          patches: {
            attributes: ["path", "patch"],
            blocks: {
              target: { attributes: ["group", "version", "kind", "name", "namespace", "label_selector", "annotation_selector"] },
              options: { attributes: ["allow_kind_change", "allow_name_change"] },
            },
          },
          replicas: { attributes: ["name", "count"] },
          kustomize_options: { attributes: ["load_restrictor", "enable_helm", "helm_path"] },
        },
      },
      kustomization_build: { attributes: ["path"], blocks: { kustomize_options: { attributes: ["load_restrictor", "enable_helm", "helm_path"] } } },
    },
  },
  {
    source: "tehcyx/kind",
    version: "0.10.0",
    readFrom:
      "tehcyx/terraform-provider-kind kind/schema_kind_config.go and docs/resources/cluster.md (labels is a TypeMap attribute; node, extra_port_mappings are blocks)",
    provider: { attributes: [] },
    resources: {
      kind_cluster: {
        attributes: ["name", "node_image", "wait_for_ready", "kubeconfig_path"],
        blocks: {
          timeouts: _timeouts,
          kind_config: {
            attributes: ["kind", "api_version", "containerd_config_patches"],
            blocks: {
              node: {
                // labels is a TypeMap: an attribute (`labels = { ... }`).
                attributes: ["role", "image", "labels", "kubeadm_config_patches"],
                blocks: {
                  extra_mounts: { attributes: ["host_path", "container_path"] },
                  extra_port_mappings: { attributes: ["container_port", "host_port", "listen_address", "protocol"] },
                },
              },
              networking: {
                attributes: [
                  "ip_family",
                  "api_server_address",
                  "api_server_port",
                  "pod_subnet",
                  "service_subnet",
                  "disable_default_cni",
                  "kube_proxy_mode",
                  "dns_search",
                ],
              },
            },
          },
        },
      },
    },
    dataSources: {},
  },
  {
    source: "hashicorp/helm",
    version: "3.0.2",
    readFrom:
      "the helm provider's 3.x documentation and upgrade notes (plugin framework: `kubernetes = { ... }` and `set = [...]` are attributes, blocks in 2.x)",
    provider: {
      attributes: ["kubernetes", "debug", "plugins_path", "registry_config_path", "repository_config_path", "repository_cache", "helm_driver", "burst_limit"],
    },
    resources: {
      helm_release: {
        attributes: [
          "name",
          "repository",
          "chart",
          "version",
          "namespace",
          "create_namespace",
          "wait",
          "wait_for_jobs",
          "timeout",
          "values",
          "set",
          "set_sensitive",
          "atomic",
          "cleanup_on_fail",
          "max_history",
          "skip_crds",
          "dependency_update",
        ],
      },
    },
    dataSources: {},
  },
  {
    source: "hashicorp/kubernetes",
    version: "2.38.0",
    readFrom: "hashicorp/terraform-provider-kubernetes kubernetes/schema_node_spec.go (nodeStatusFields: addresses is a list of {type, address}) and docs/",
    provider: { attributes: ["host", "client_certificate", "client_key", "cluster_ca_certificate", "config_path", "config_context", "token", "insecure"] },
    resources: {
      kubernetes_secret_v1: {
        attributes: ["type", "data", "binary_data", "immutable", "wait_for_service_account_token"],
        blocks: { metadata: _metadata, timeouts: _timeouts },
      },
      kubernetes_namespace_v1: { attributes: ["wait_for_default_service_account"], blocks: { metadata: _metadata, timeouts: _timeouts } },
    },
    dataSources: {
      kubernetes_service_v1: { attributes: [], blocks: { metadata: _metadata } },
      kubernetes_nodes: { attributes: [], blocks: { metadata: { attributes: ["labels"] } } },
    },
  },
  {
    source: "hashicorp/tls",
    version: "4.0.6",
    readFrom: "hashicorp/terraform-provider-tls docs/resources/private_key.md and self_signed_cert.md",
    provider: { attributes: [] },
    resources: {
      tls_private_key: { attributes: ["algorithm", "ecdsa_curve", "rsa_bits"] },
      tls_self_signed_cert: {
        attributes: [
          "private_key_pem",
          "dns_names",
          "ip_addresses",
          "uris",
          "validity_period_hours",
          "allowed_uses",
          "is_ca_certificate",
          "early_renewal_hours",
          "set_subject_key_id",
          "set_authority_key_id",
        ],
        blocks: {
          subject: {
            attributes: [
              "common_name",
              "organization",
              "organizational_unit",
              "street_address",
              "locality",
              "province",
              "country",
              "postal_code",
              "serial_number",
            ],
          },
        },
      },
    },
    dataSources: {},
  },
  {
    source: "terraform.io/builtin/terraform",
    version: "built in (Terraform >= 1.4)",
    readFrom: "Terraform's terraform_data documentation",
    provider: { attributes: [] },
    resources: { terraform_data: { attributes: ["input", "triggers_replace"] } },
    dataSources: {},
  },
];

/** Meta-arguments every resource and data block may carry, whatever its provider. */
export const metaArguments = ["count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection"];
