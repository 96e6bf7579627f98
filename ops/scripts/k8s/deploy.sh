#!/usr/bin/env bash
# Step 4: the TLS secret for the gateway, then `kubectl apply -k k8s/overlays/kind` through a throw-away overlay
# that adds what must not be committed: GITHUB_TOKEN and ADMIN_TOKEN from this shell's environment (unset means
# empty: run it again with them set to change them), the shared Redis tier's password (REDIS_PASSWORD, or one
# generated once into dist/k8s-secrets), and the MetalLB range derived from kind's container network (the
# committed one when it is the default 172.18.0.0/16).
source "$(dirname "$0")/lib.sh"
need openssl node
need_engine
use_cluster

log "TLS certificate for $GATEWAY_HOST (self-signed, in $TLS_DIR)"
mkdir -p "$TLS_DIR"
if [[ ! -f "$TLS_DIR/cert.pem" ]]; then
  openssl req -x509 -newkey rsa:2048 -sha256 -days 90 -nodes \
    -keyout "$TLS_DIR/key.pem" -out "$TLS_DIR/cert.pem" \
    -subj "/CN=$GATEWAY_HOST" -addext "subjectAltName=DNS:$GATEWAY_HOST" 2>/dev/null
fi
# The Gateway's credentialName is read from the ingress gateway's own namespace.
kubectl -n "$GATEWAY_NAMESPACE" create secret tls "$TLS_SECRET" \
  --cert="$TLS_DIR/cert.pem" --key="$TLS_DIR/key.pem" --dry-run=client -o yaml | kubectl apply -f -

subnet="$(kind_subnet)"
[[ -n "$subnet" ]] || die "cannot read the IPv4 subnet of the $ENGINE network 'kind'"
pool="$(pool_for_subnet "$subnet")"
log "MetalLB pool $pool ($ENGINE network kind: $subnet)"

REDIS_PASSWORD="$(redis_password)"
export REDIS_PASSWORD
overlay="$(mktemp -d)"
trap 'rm -rf "$overlay"' EXIT
write_apply_overlay "$overlay" "$pool"

log "kubectl apply -k k8s/overlays/kind (GITHUB_TOKEN $(token_state GITHUB_TOKEN), ADMIN_TOKEN $(token_state ADMIN_TOKEN), REDIS_PASSWORD set)"
kubectl apply -k "$overlay"

log "Waiting for the rollouts"
kubectl -n "$NAMESPACE" rollout status deployment/gists-api-redis --timeout=300s
kubectl -n "$NAMESPACE" rollout status deployment/gists-api --timeout=300s
kubectl -n monitoring rollout status deployment/prometheus --timeout=300s
kubectl -n monitoring rollout status deployment/grafana --timeout=300s
kubectl -n monitoring rollout status deployment/tempo --timeout=300s
