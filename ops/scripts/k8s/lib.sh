#!/usr/bin/env bash
# Shared settings and helpers of the Kind deploy scripts; sourced, never run.
# shellcheck disable=SC2034 # the settings are used by the scripts that source this file
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
CLUSTER="${KIND_CLUSTER:-gists-api}"
NAMESPACE=gists-api
VERSION="$(node -p 'require(process.argv[1]).version' "$ROOT/package.json")"
IMAGE="gists-api:$VERSION"
# Must match k8s/components/istio/gateway.yaml (the manifests test checks both).
GATEWAY_HOST=gists-api.example.com
TLS_SECRET=gists-api-tls
TLS_DIR="$ROOT/dist/k8s-tls"
METALLB_VERSION="${METALLB_VERSION:-v0.14.9}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Stop early, naming what is missing and where to get it.
need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (see k8s/README.md, \"Prerequisites\")"
  done
}

# Use the Kind cluster's context for every kubectl call of these scripts.
use_cluster() {
  need kubectl
  kubectl config use-context "kind-$CLUSTER" >/dev/null || die "no kubectl context kind-$CLUSTER: run ops/scripts/k8s/cluster.sh first"
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

# write_apply_overlay DIR POOL: a throw-away overlay on k8s/overlays/kind that merges GITHUB_TOKEN and ADMIN_TOKEN
# from the environment into the Secret (the file is private to the user) and sets the MetalLB pool.
write_apply_overlay() {
  local dir=$1 pool=$2 kind_overlay
  (umask 077 && printf 'GITHUB_TOKEN=%s\nADMIN_TOKEN=%s\n' "${GITHUB_TOKEN:-}" "${ADMIN_TOKEN:-}" >"$dir/tokens.env")
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
      - tokens.env
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
