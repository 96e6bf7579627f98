locals {
  kubeconfig_path = coalesce(var.kubeconfig_path, abspath("${path.module}/kubeconfig-${var.cluster_name}"))

  # The ingress gateway's Service keeps these node ports (istio.tf), and the control-plane node publishes them on
  # the host's ports, so http://localhost reaches the gateway on every OS, MetalLB address or not.
  gateway_node_ports = {
    http  = 30080
    https = 30443
  }
}

resource "kind_cluster" "this" {
  name            = var.cluster_name
  node_image      = "kindest/node:${local.kubernetes_version}"
  kubeconfig_path = local.kubeconfig_path
  wait_for_ready  = true

  kind_config {
    kind        = "Cluster"
    api_version = "kind.x-k8s.io/v1alpha4"

    node {
      role = "control-plane"

      extra_port_mappings {
        container_port = local.gateway_node_ports.http
        host_port      = var.http_host_port
        listen_address = "127.0.0.1"
        protocol       = "TCP"
      }
      extra_port_mappings {
        container_port = local.gateway_node_ports.https
        host_port      = var.https_host_port
        listen_address = "127.0.0.1"
        protocol       = "TCP"
      }
    }

    # Workers alternate between two zones, so the Deployment's zone spread and its PodDisruptionBudget have
    # something to act on (as ops/scripts/k8s/kind-cluster.yaml does).
    dynamic "node" {
      for_each = range(var.worker_count)
      content {
        role   = "worker"
        labels = { "topology.kubernetes.io/zone" = node.value % 2 == 0 ? "zone-a" : "zone-b" }
      }
    }
  }
}
