#!/usr/bin/env bash
# Shared settings and helpers of the Kind deploy scripts; sourced, never run.
# shellcheck disable=SC2034 # the settings are used by the scripts that source this file
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
CLUSTER="${KIND_CLUSTER:-gists-api}"
NAMESPACE=gists-api
# Must match k8s/components/istio/gateway.yaml (the manifests test checks both).
GATEWAY_HOST=gists-api.example.com
TLS_SECRET=gists-api-tls
# The ingress gateway runs in its own namespace, as Istio's "Installing Gateways" advises.
GATEWAY_NAMESPACE=istio-ingress
# What the scripts make and keep between runs (certificate, password), private to the user; never in git.
STATE_DIR="${GISTS_K8S_STATE_DIR:-$ROOT/dist}"
TLS_DIR="$STATE_DIR/k8s-tls"
SECRETS_DIR="$STATE_DIR/k8s-secrets"
# docker (default) or podman, for building the image and as kind's node provider.
ENGINE="${CONTAINER_ENGINE:-docker}"

# The package's version (the image tag), and the one list of platform versions these scripts share with
# terraform/ (ops/scripts/k8s/versions.json), read in one go.
VERSIONS_FILE="$ROOT/ops/scripts/k8s/versions.json"
read -r VERSION KIND_VERSION KUBERNETES_VERSION ISTIO_VERSION METALLB_VERSION METRICS_SERVER_VERSION < <(
  node -e 'const [p, v] = process.argv.slice(1).map(require); console.log(p.version, v.kind, v.kubernetes, v.istio, v.metallb, v.metricsServer)' \
    "$ROOT/package.json" "$VERSIONS_FILE"
)
# The name the manifests give the image, and what a short name means to Kind's containerd.
IMAGE="gists-api:$VERSION"
IMAGE_REF="docker.io/library/$IMAGE"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Stop early, naming what is missing and where to get it.
need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (see k8s/README.md, \"Prerequisites\")"
  done
}

# The container engine, checked, and kind told to use it for its nodes.
need_engine() {
  case "$ENGINE" in
    docker) ;;
    podman) export KIND_EXPERIMENTAL_PROVIDER=podman ;;
    *) die "CONTAINER_ENGINE must be docker or podman, not '$ENGINE'" ;;
  esac
  need "$ENGINE"
}

# Use the Kind cluster's context for every kubectl call of these scripts.
use_cluster() {
  need kubectl
  kubectl config use-context "kind-$CLUSTER" >/dev/null || die "no kubectl context kind-$CLUSTER: run ops/scripts/k8s/cluster.sh first"
}

# The IPv4 subnet of the container network kind puts its nodes on.
kind_subnet() {
  local format='{{range .IPAM.Config}}{{.Subnet}} {{end}}'
  [[ "$ENGINE" == podman ]] && format='{{range .Subnets}}{{.Subnet}} {{end}}'
  "$ENGINE" network inspect kind -f "$format" | tr ' ' '\n' | grep -E '^[0-9.]+/[0-9]+$' | head -1
}

# The commit the image reports (`gists-api version`); the build context has no .git to read it from.
source_commit() {
  git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown
}

ip_to_int() {
  local a b c d
  IFS=. read -r a b c d <<<"$1"
  echo $(((a << 24) | (b << 16) | (c << 8) | d))
}

int_to_ip() {
  local n=$1
  echo "$(((n >> 24) & 255)).$(((n >> 16) & 255)).$(((n >> 8) & 255)).$((n & 255))"
}

# A 51-address range at the top of an IPv4 subnet (away from the nodes, which Docker numbers from the bottom);
# for Kind's default 172.18.0.0/16 it is the committed pool (the manifests test checks).
pool_for_subnet() {
  local network=${1%/*} bits=${1#*/}
  local size=$((1 << (32 - bits)))
  ((size >= 256)) || die "subnet $1 is too small for a MetalLB pool"
  local broadcast=$(($(ip_to_int "$network") + size - 1))
  echo "$(int_to_ip $((broadcast - 55)))-$(int_to_ip $((broadcast - 5)))"
}

# Whether a secret variable is set: "set" or "unset", never its value.
token_state() {
  if [[ -n "${!1:-}" ]]; then echo set; else echo unset; fi
}

# The shared Redis tier's password: REDIS_PASSWORD when set, else one generated on the first deploy and kept in
# dist/k8s-secrets (private to the user), so later deploys do not roll Redis. Hex, so it is safe inside REDIS_URL.
redis_password() {
  if [[ -n "${REDIS_PASSWORD:-}" ]]; then
    [[ "$REDIS_PASSWORD" =~ ^[A-Za-z0-9._~-]+$ ]] || die "REDIS_PASSWORD may hold only letters, digits and . _ ~ - (it goes into REDIS_URL)"
    echo "$REDIS_PASSWORD"
    return
  fi
  local file="$SECRETS_DIR/redis-password"
  if [[ ! -s "$file" ]]; then
    need openssl
    (umask 077 && mkdir -p "$SECRETS_DIR" && openssl rand -hex 24 >"$file")
  fi
  cat "$file"
}

# write_apply_overlay DIR POOL: a throw-away overlay on k8s/overlays/kind that merges GITHUB_TOKEN, ADMIN_TOKEN and
# REDIS_PASSWORD from the environment into the Secret (the file is private to the user) and sets the MetalLB pool.
write_apply_overlay() {
  local dir=$1 pool=$2 kind_overlay
  (umask 077 && printf 'GITHUB_TOKEN=%s\nADMIN_TOKEN=%s\nREDIS_PASSWORD=%s\n' \
    "${GITHUB_TOKEN:-}" "${ADMIN_TOKEN:-}" "${REDIS_PASSWORD:-}" >"$dir/secrets.env")
  # kustomize takes only relative paths to other kustomizations.
  kind_overlay="$(node -p 'require("path").relative(process.argv[1], process.argv[2])' "$dir" "$ROOT/k8s/overlays/kind")"
  cat >"$dir/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $kind_overlay
secretGenerator:
  - name: gists-api-secrets
    namespace: $NAMESPACE
    behavior: merge
    envs:
      - secrets.env
patches:
  - target:
      kind: IPAddressPool
      name: gists-api-ingress
    patch: |-
      - op: replace
        path: /spec/addresses
        value: ["$pool"]
YAML
}
