#!/usr/bin/env bash
# Step 1: a Kind cluster (kind v0.24+, whose kindnet enforces NetworkPolicy; Kubernetes 1.30+ for the preStop
# sleep action). Terraform (terraform/, issue 7) can make the same cluster instead.
source "$(dirname "$0")/lib.sh"
need kind kubectl docker

if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  log "Kind cluster $CLUSTER exists"
else
  log "Creating Kind cluster $CLUSTER"
  kind create cluster --name "$CLUSTER" --config "$ROOT/ops/scripts/k8s/kind-cluster.yaml" --wait 120s
fi
use_cluster
kubectl get nodes -L topology.kubernetes.io/zone
