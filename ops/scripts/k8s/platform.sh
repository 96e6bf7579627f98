#!/usr/bin/env bash
# Step 2: what the manifests expect the platform to bring: Istio (istiod, the ingress gateway labelled
# istio=ingressgateway, the CNI plugin) and MetalLB. Needs internet access for the MetalLB manifest and images.
source "$(dirname "$0")/lib.sh"
need istioctl
use_cluster

log "Installing Istio with istioctl $(istioctl version --remote=false 2>/dev/null || echo "(version unknown)")"
# The CNI node agent needs host paths, so istio-system runs privileged; meshed namespaces can then stay baseline.
kubectl create namespace istio-system --dry-run=client -o yaml | kubectl apply -f -
kubectl label --overwrite namespace istio-system pod-security.kubernetes.io/enforce=privileged
istioctl install -y \
  --set profile=default \
  --set components.cni.enabled=true \
  --set meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY \
  --set meshConfig.accessLogFile=/dev/stdout
kubectl -n istio-system rollout status deployment/istiod --timeout=180s
kubectl -n istio-system rollout status deployment/istio-ingressgateway --timeout=180s

log "Installing MetalLB $METALLB_VERSION"
kubectl apply -f "https://raw.githubusercontent.com/metallb/metallb/$METALLB_VERSION/config/manifests/metallb-native.yaml"
kubectl -n metallb-system rollout status deployment/controller --timeout=180s
kubectl -n metallb-system rollout status daemonset/speaker --timeout=180s
# The IPAddressPool is validated by MetalLB's webhook, which answers once the controller is ready.
kubectl -n metallb-system wait --for=condition=Ready pod -l app=metallb,component=controller --timeout=120s
