# MetalLB first (controller, speaker, CRDs and webhook), then the address pool and the L2 advertisement from
# k8s/components/metallb, with the range from var.metallb_address_range or derived from the nodes' network. The
# overlay applied by app.tf contains the same two objects; they are managed here and left out there.
resource "helm_release" "metallb" {
  name             = "metallb"
  repository       = "https://metallb.github.io/metallb"
  chart            = "metallb"
  version          = local.metallb_version
  namespace        = "metallb-system"
  create_namespace = true
  # The pool is rejected until the webhook answers, so wait for the pods.
  wait    = true
  timeout = 300
}

# The nodes' addresses: kind's docker network, which Docker gives a /16 of 172.16.0.0/12 by default.
data "kubernetes_nodes" "cluster" {
  depends_on = [kind_cluster.this]
}

locals {
  node_ips = flatten([
    for node in data.kubernetes_nodes.cluster.nodes : [
      for address in node.status[0].addresses : address.address if address.type == "InternalIP" && can(regex("^[0-9.]+$", address.address))
    ]
  ])
  node_ip      = sort(local.node_ips)[0]
  node_network = "${local.node_ip}/16"

  # The top of the network, away from the nodes (Docker numbers them from the bottom): broadcast - 55 to
  # broadcast - 5, the range ops/scripts/k8s/lib.sh's pool_for_subnet gives for the same network.
  metallb_address_range = coalesce(
    var.metallb_address_range,
    "${cidrhost(local.node_network, -56)}-${cidrhost(local.node_network, -6)}",
  )
}

# The objects' ids, from the committed component alone: known at plan time, as for_each needs.
data "kustomization_overlay" "metallb_ids" {
  components = ["${local.k8s_dir}/components/metallb"]
}

data "kustomization_overlay" "metallb" {
  components = ["${local.k8s_dir}/components/metallb"]

  patches {
    target {
      group = "metallb.io"
      kind  = "IPAddressPool"
    }
    patch = jsonencode([
      { op = "replace", path = "/spec/addresses", value = [local.metallb_address_range] },
    ])
  }
}

resource "kustomization_resource" "metallb" {
  for_each = data.kustomization_overlay.metallb_ids.ids
  manifest = data.kustomization_overlay.metallb.manifests[each.value]

  lifecycle {
    precondition {
      # A derived range is only right on Docker's default /16 networks; elsewhere say what to set.
      condition     = var.metallb_address_range != null || cidrhost("${local.node_ip}/12", 0) == "172.16.0.0"
      error_message = "The nodes are on ${local.node_ip}, outside Docker's default 172.16.0.0/12 pools: set metallb_address_range to free addresses of kind's network (docker network inspect kind)."
    }
  }

  depends_on = [helm_release.metallb]
}
