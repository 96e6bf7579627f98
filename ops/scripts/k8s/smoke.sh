#!/usr/bin/env bash
# Step 5: the service answers through the MetalLB address over HTTPS (plain HTTP redirects), the mesh denies what
# it must, a page lands in the shared Redis tier, Prometheus scrapes every pod over mTLS, and the service's traces
# reach Tempo. Exits non-zero on the first surprise.
source "$(dirname "$0")/lib.sh"
need curl
use_cluster
# Where this host reaches Tempo's query API during the check (a port-forward).
TEMPO_LOCAL_PORT="${TEMPO_LOCAL_PORT:-13200}"

ip=""
for _ in $(seq 60); do
  ip="$(kubectl -n "$GATEWAY_NAMESPACE" get service istio-ingressgateway -o jsonpath='{.status.loadBalancer.ingress[0].ip}')"
  [[ -n "$ip" ]] && break
  sleep 2
done
[[ -n "$ip" ]] || die "the ingress gateway got no address from MetalLB (kubectl -n metallb-system logs deploy/controller)"
log "Ingress gateway at $ip ($GATEWAY_HOST)"

# status METHOD URL [curl args...]: the HTTP status of one request through the gateway.
status() {
  local method=$1 url=$2
  shift 2
  curl -sS -o /dev/null -w '%{http_code}' -X "$method" --max-time 20 \
    --resolve "$GATEWAY_HOST:80:$ip" --resolve "$GATEWAY_HOST:443:$ip" "$@" "$url"
}

# check WHAT GOT WANTED...: pass when GOT is one of WANTED.
check() {
  local what=$1 got=$2
  shift 2
  for want in "$@"; do
    if [[ "$got" == "$want" ]]; then
      printf '  ok    %-52s %s\n' "$what" "$got"
      return
    fi
  done
  printf '  FAIL  %-52s %s (wanted %s)\n' "$what" "$got" "$*"
  exit 1
}

http="http://$GATEWAY_HOST"
https="https://$GATEWAY_HOST"
ca=(--cacert "$TLS_DIR/cert.pem")
check "GET /health over HTTP redirects to HTTPS" "$(status GET "$http/health")" 301
check "GET /health over HTTPS (self-signed CA)" "$(status GET "$https/health" "${ca[@]}")" 200
check "GET /readyz over HTTPS" "$(status GET "$https/readyz" "${ca[@]}")" 200
# 200 with GitHub reachable; 429 when GitHub's unauthenticated limit is spent (no GITHUB_TOKEN).
octocat="$(status GET "$https/octocat?per_page=1" "${ca[@]}")"
check "GET /octocat?per_page=1 (through the ServiceEntry)" "$octocat" 200 429
check "GET /metrics from outside is denied by the mesh" "$(status GET "$https/metrics" "${ca[@]}")" 403
check "DELETE /cache from outside is denied by the mesh" "$(status DELETE "$https/cache" "${ca[@]}")" 403

# The page is now in the shared tier, under the service's key prefix (REDIS_KEY_PREFIX, default gists-api:).
check "Redis answers its own probe" "$(kubectl -n "$NAMESPACE" exec deploy/gists-api-redis -c redis -- redis-cli -e ping 2>/dev/null)" PONG
if [[ "$octocat" == 200 ]]; then
  keys="$(kubectl -n "$NAMESPACE" exec deploy/gists-api-redis -c redis -- redis-cli --scan --pattern 'gists-api:*' 2>/dev/null | wc -l)"
  check "the page is stored in the shared tier (keys under gists-api:)" "$([[ "$keys" -gt 0 ]] && echo stored || echo "none")" stored
fi

ready="$(kubectl -n "$NAMESPACE" get deployment gists-api -o jsonpath='{.status.readyReplicas}')"
log "$ready pods ready; waiting for Prometheus to scrape them all"
for _ in $(seq 30); do
  up="$(kubectl -n monitoring exec deploy/prometheus -c prometheus -- \
    wget -qO- 'http://127.0.0.1:9090/api/v1/query?query=sum(up%7Bjob%3D%22gists-api%22%7D)' 2>/dev/null |
    sed -n 's/.*"value":\[[^,]*,"\([0-9]*\)"\].*/\1/p')"
  [[ "$up" == "$ready" ]] && break
  sleep 5
done
check "pods Prometheus scrapes over mTLS (up{job=\"gists-api\"})" "${up:-0}" "$ready"

# The requests above were traced (Kind samples all of them): Tempo's search finds the service's spans. A
# port-forward reaches Tempo's query port without a hole in its NetworkPolicy.
kubectl -n monitoring port-forward svc/tempo "$TEMPO_LOCAL_PORT:3200" >/dev/null 2>&1 &
forward=$!
trap 'kill "$forward" 2>/dev/null' EXIT
traces=0
for _ in $(seq 30); do
  traces="$(curl -sS --max-time 5 "http://127.0.0.1:$TEMPO_LOCAL_PORT/api/search?tags=service.name%3Dgists-api&limit=5" 2>/dev/null | grep -o '"traceID"' | wc -l)"
  [[ "$traces" -gt 0 ]] && break
  sleep 5
done
check "Tempo holds traces of service gists-api" "$([[ "$traces" -gt 0 ]] && echo found || echo none)" found
log "Grafana: kubectl -n monitoring port-forward svc/grafana 3000, then http://127.0.0.1:3000 (traces: Explore, Tempo)"
