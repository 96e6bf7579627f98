# The service itself: k8s/overlays/kind as it is (base + istio, metallb, monitoring and redis components), applied
# object by object so that plan shows each change. Terraform copies no manifest; it sets only the image and the
# Secret's values, which never enter git.
locals {
  k8s_dir = "${path.module}/../k8s"

  app_image = regex("^(?P<name>.+):(?P<tag>[^:/]+)$", var.app_image)

  # Namespaces and CRDs, then everything else, then webhooks (the provider's ids_prio), minus the MetalLB pool and
  # advertisement that metallb.tf owns. Keyed without the generated Secret's content hash, which the values change.
  app_ids = [
    for ids in data.kustomization_overlay.app_ids.ids_prio : toset([for id in ids : local.stable_id[id] if !startswith(id, "metallb.io/")])
  ]
  stable_id = { for id in data.kustomization_overlay.app_ids.ids : id => replace(id, "/^(_/Secret/gists-api/gists-api-secrets)-[a-z0-9]+$/", "$1") }
  app_manifests = {
    for id, manifest in data.kustomization_overlay.app.manifests : replace(id, "/^(_/Secret/gists-api/gists-api-secrets)-[a-z0-9]+$/", "$1") => manifest
  }

  # The shared Redis tier's password: the variable, or one derived from a generated key. The pinned providers have
  # no random provider; a SHA-256 of a fresh private key is 256 random bits, hex and so safe inside REDIS_URL.
  redis_password = coalesce(var.redis_password, sha256(tls_private_key.redis_password_seed.private_key_pem))
}

resource "tls_private_key" "redis_password_seed" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

# The image never comes from a registry on Kind: it is copied from the local Docker into every node, as
# `kind load docker-image` does (the kind CLI must be on PATH). A new image ID reloads it under the same tag.
resource "terraform_data" "app_image" {
  triggers_replace = [kind_cluster.this.id, var.app_image, var.app_image_id]

  provisioner "local-exec" {
    command = "kind load docker-image '${var.app_image}' --name '${kind_cluster.this.name}'"
  }
}

# The ids of the overlay's objects, from inputs known at plan time (for_each needs them then).
data "kustomization_overlay" "app_ids" {
  resources = ["${local.k8s_dir}/overlays/kind"]
}

data "kustomization_overlay" "app" {
  resources = ["${local.k8s_dir}/overlays/kind"]

  images {
    name     = "gists-api"
    new_name = local.app_image.name
    new_tag  = local.app_image.tag
  }

  # The overlay's Secret, with the values from the variables (merged over its empty placeholders).
  secret_generator {
    name      = "gists-api-secrets"
    namespace = "gists-api"
    behavior  = "merge"
    literals = [
      "GITHUB_TOKEN=${var.github_token}",
      "ADMIN_TOKEN=${var.admin_token}",
      "REDIS_PASSWORD=${local.redis_password}",
    ]
  }

  # A rebuilt image under the same tag rolls the pods: its ID is part of the pod template.
  patches {
    target {
      group = "apps"
      kind  = "Deployment"
      name  = "gists-api"
    }
    patch = jsonencode([
      { op = "add", path = "/spec/template/metadata/annotations/gists-api~1image-id", value = coalesce(var.app_image_id, "unset") },
    ])
  }
}

resource "kustomization_resource" "app_p0" {
  for_each = local.app_ids[0]
  manifest = local.app_manifests[each.value]

  # Sidecar injection and the Istio CRDs must exist before the namespace fills, and the gateway before routes.
  depends_on = [helm_release.istio_ingressgateway, kubernetes_secret_v1.gateway_tls, terraform_data.app_image, helm_release.metrics_server]
}

resource "kustomization_resource" "app_p1" {
  for_each = local.app_ids[1]
  # Secrets stay out of the plan output.
  manifest = (
    startswith(each.value, "_/Secret/")
    ? sensitive(local.app_manifests[each.value])
    : local.app_manifests[each.value]
  )
  # Deployments must become ready (the app, Redis, Prometheus, Tempo, Grafana) before apply succeeds.
  wait = true
  timeouts {
    create = "5m"
    update = "5m"
  }

  depends_on = [kustomization_resource.app_p0]
}

resource "kustomization_resource" "app_p2" {
  for_each = local.app_ids[2]
  manifest = local.app_manifests[each.value]

  depends_on = [kustomization_resource.app_p1]
}
