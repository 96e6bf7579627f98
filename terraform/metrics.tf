# metrics-server, so the HPA has CPU and memory figures (Kind ships none). Its chart, at the release
# ops/scripts/k8s/versions.json pins for the scripts' manifest too.
resource "helm_release" "metrics_server" {
  name       = "metrics-server"
  repository = "https://kubernetes-sigs.github.io/metrics-server/"
  chart      = "metrics-server"
  version    = local.versions.metricsServerChart
  namespace  = "kube-system"
  wait       = true
  # Kind's kubelets serve self-signed certificates, which metrics-server refuses unless told otherwise.
  values = [yamlencode({ args = ["--kubelet-insecure-tls"] })]

  depends_on = [kind_cluster.this]
}
