# The service itself: k8s/overlays/kind as it is (base + istio, metallb and monitoring components), applied
# object by object so that plan shows each change. Terraform copies no manifest; only the image is set here.
locals {
  k8s_dir = "${path.module}/../k8s"

  app_image = regex("^(?P<name>.+):(?P<tag>[^:/]+)$", var.app_image)

  # Namespaces and CRDs, then everything else, then webhooks (the provider's ids_prio), minus the MetalLB pool and
  # advertisement that metallb.tf owns.
  app_ids = [
    for ids in data.kustomization_overlay.app.ids_prio : toset([for id in ids : id if !startswith(id, "metallb.io/")])
  ]
}

# The image never comes from a registry on Kind: it is copied from the local Docker into every node, as
# `kind load docker-image` does (the kind CLI must be on PATH). Build it first at the repository root:
#   docker build -t gists-api:0.1.0 .
resource "terraform_data" "app_image" {
  triggers_replace = [kind_cluster.this.id, var.app_image]

  provisioner "local-exec" {
    command = "kind load docker-image '${var.app_image}' --name '${kind_cluster.this.name}'"
  }
}

data "kustomization_overlay" "app" {
  resources = ["${local.k8s_dir}/overlays/kind"]

  images {
    name     = "gists-api"
    new_name = local.app_image.name
    new_tag  = local.app_image.tag
  }
}

resource "kustomization_resource" "app_p0" {
  for_each = local.app_ids[0]
  manifest = data.kustomization_overlay.app.manifests[each.value]

  # Sidecar injection and the Istio CRDs must exist before the namespace fills, and the gateway before routes.
  depends_on = [helm_release.istio_ingressgateway, kubernetes_secret_v1.gateway_tls, terraform_data.app_image]
}

resource "kustomization_resource" "app_p1" {
  for_each = local.app_ids[1]
  # Secrets stay out of the plan output.
  manifest = (
    startswith(each.value, "_/Secret/")
    ? sensitive(data.kustomization_overlay.app.manifests[each.value])
    : data.kustomization_overlay.app.manifests[each.value]
  )
  # Deployments must become ready (the app, Prometheus, Grafana) before apply succeeds.
  wait = true
  timeouts {
    create = "5m"
    update = "5m"
  }

  depends_on = [kustomization_resource.app_p0]
}

resource "kustomization_resource" "app_p2" {
  for_each = local.app_ids[2]
  manifest = data.kustomization_overlay.app.manifests[each.value]

  depends_on = [kustomization_resource.app_p1]
}
