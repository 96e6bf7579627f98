output "kubeconfig_path" {
  description = "Kubeconfig of the Kind cluster: export KUBECONFIG=<this> to use kubectl on it."
  value       = kind_cluster.this.kubeconfig_path
}

output "gateway_address" {
  description = "The ingress gateway's LoadBalancer address from MetalLB (reachable from the Docker host on Linux), or null while it has none."
  value       = try(data.kubernetes_service_v1.gateway.status[0].load_balancer[0].ingress[0].ip, null)
}

output "gateway_host" {
  description = "The host name the Istio Gateway answers for: send it as Host (or with curl --resolve)."
  value       = local.gateway_host
}

output "urls" {
  description = "Where the service answers: through the host ports on every OS, and through the MetalLB address on Linux."
  value = {
    http            = "http://${local.gateway_host}:${var.http_host_port}/"
    https           = "https://${local.gateway_host}:${var.https_host_port}/"
    gateway_address = try("http://${data.kubernetes_service_v1.gateway.status[0].load_balancer[0].ingress[0].ip}/", null)
  }
}

output "try_it" {
  description = "Commands that reach the service through the gateway without editing /etc/hosts."
  value = [
    "curl -k --resolve ${local.gateway_host}:${var.https_host_port}:127.0.0.1 https://${local.gateway_host}:${var.https_host_port}/health",
    "curl -k --resolve ${local.gateway_host}:${var.https_host_port}:127.0.0.1 'https://${local.gateway_host}:${var.https_host_port}/octocat?per_page=5'",
    "curl -sI --resolve ${local.gateway_host}:${var.http_host_port}:127.0.0.1 http://${local.gateway_host}:${var.http_host_port}/health  # 301 to HTTPS",
    "KUBECONFIG=${kind_cluster.this.kubeconfig_path} kubectl -n monitoring port-forward svc/grafana 3000:3000",
  ]
}
