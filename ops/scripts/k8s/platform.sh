#!/usr/bin/env bash
# Step 2: what the manifests expect the platform to bring: Istio (istiod, the CNI plugin, the ingress gateway
# labelled istio=ingressgateway in its own namespace), MetalLB, and metrics-server for the HPA. Versions come from
# ops/scripts/k8s/versions.json. Needs internet access for the manifests and images.
source "$(dirname "$0")/lib.sh"
need istioctl
use_cluster

client="$(istioctl version --remote=false --short 2>/dev/null || true)"
[[ "$client" == "$ISTIO_VERSION" ]] ||
  die "istioctl is ${client:-of unknown version}; this deploy pins Istio $ISTIO_VERSION: curl -L https://istio.io/downloadIstio | ISTIO_VERSION=$ISTIO_VERSION sh -"

log "Installing Istio $ISTIO_VERSION"
# The CNI node agent needs host paths, so istio-system runs privileged; meshed namespaces can then stay baseline.
for ns in istio-system "$GATEWAY_NAMESPACE"; do
  kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f -
done
kubectl label --overwrite namespace istio-system pod-security.kubernetes.io/enforce=privileged
istioctl install -y -f "$ROOT/ops/scripts/k8s/istio-operator.yaml"
kubectl -n istio-system rollout status deployment/istiod --timeout=180s
kubectl -n "$GATEWAY_NAMESPACE" rollout status deployment/istio-ingressgateway --timeout=180s

log "Installing MetalLB v$METALLB_VERSION"
kubectl apply -f "https://raw.githubusercontent.com/metallb/metallb/v$METALLB_VERSION/config/manifests/metallb-native.yaml"
kubectl -n metallb-system rollout status deployment/controller --timeout=180s
kubectl -n metallb-system rollout status daemonset/speaker --timeout=180s
# The IPAddressPool is validated by MetalLB's webhook, which answers once the controller is ready.
kubectl -n metallb-system wait --for=condition=Ready pod -l app=metallb,component=controller --timeout=120s

log "Installing metrics-server v$METRICS_SERVER_VERSION (the HPA's CPU and memory figures)"
kubectl apply -f "https://github.com/kubernetes-sigs/metrics-server/releases/download/v$METRICS_SERVER_VERSION/components.yaml"
# Kind's kubelets serve self-signed certificates, which metrics-server refuses unless told otherwise.
if ! kubectl -n kube-system get deployment metrics-server -o jsonpath='{.spec.template.spec.containers[0].args}' | grep -q -- --kubelet-insecure-tls; then
  kubectl -n kube-system patch deployment metrics-server --type=json \
    -p '[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--kubelet-insecure-tls"}]'
fi
kubectl -n kube-system rollout status deployment/metrics-server --timeout=180s
