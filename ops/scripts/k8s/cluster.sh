#!/usr/bin/env bash
# Step 1: a Kind cluster on the kindest/node image versions.json pins (Kubernetes 1.30+ for the preStop sleep
# action). CONTAINER_ENGINE=podman makes the nodes podman containers. Terraform (terraform/) can make the same
# cluster instead.
source "$(dirname "$0")/lib.sh"
need kind kubectl
need_engine

# kindnet enforces the manifests' NetworkPolicies; releases before the pinned one could block kubelet probes.
installed="$(kind version 2>/dev/null | awk '{print $2}')"
[[ "$installed" == "$KIND_VERSION" ]] || log "kind is ${installed:-unknown}; this deploy was written for kind $KIND_VERSION (ops/scripts/k8s/versions.json)"

if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  log "Kind cluster $CLUSTER exists"
else
  log "Creating Kind cluster $CLUSTER (kindest/node:$KUBERNETES_VERSION, nodes on $ENGINE)"
  kind create cluster --name "$CLUSTER" --image "kindest/node:$KUBERNETES_VERSION" \
    --config "$ROOT/ops/scripts/k8s/kind-cluster.yaml" --wait 120s
fi
use_cluster
kubectl get nodes -L topology.kubernetes.io/zone
