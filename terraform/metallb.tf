# MetalLB first (controller, speaker, CRDs and webhook), then the address pool and the L2 advertisement from
# k8s/components/metallb, with the range from var.metallb_address_range. The overlay applied by app.tf contains
# the same two objects; they are managed here and left out there.
resource "helm_release" "metallb" {
  name             = "metallb"
  repository       = "https://metallb.github.io/metallb"
  chart            = "metallb"
  version          = var.metallb_version
  namespace        = "metallb-system"
  create_namespace = true
  # The pool is rejected until the webhook answers, so wait for the pods.
  wait    = true
  timeout = 300
}

data "kustomization_overlay" "metallb" {
  components = ["${local.k8s_dir}/components/metallb"]

  patches {
    target = {
      group = "metallb.io"
      kind  = "IPAddressPool"
    }
    patch = jsonencode([
      { op = "replace", path = "/spec/addresses", value = [var.metallb_address_range] },
    ])
  }
}

resource "kustomization_resource" "metallb" {
  for_each = data.kustomization_overlay.metallb.ids
  manifest = data.kustomization_overlay.metallb.manifests[each.value]

  depends_on = [helm_release.metallb]
}
