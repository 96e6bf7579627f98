# Every provider pinned to one release: `terraform init` writes .terraform.lock.hcl; commit it.
terraform {
  required_version = ">= 1.6.0"

  required_providers {
    kind = {
      source  = "tehcyx/kind"
      version = "0.10.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "3.0.2"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "2.38.0"
    }
    kustomization = {
      source  = "kbst/kustomization"
      version = "0.9.6"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "4.0.6"
    }
  }
}

# The platform's versions (Kind node, Istio, MetalLB, metrics-server): one list, shared with ops/scripts/k8s/.
locals {
  versions = jsondecode(file("${path.module}/../ops/scripts/k8s/versions.json"))

  kubernetes_version = coalesce(var.kubernetes_version, local.versions.kubernetes)
  istio_version      = coalesce(var.istio_version, local.versions.istio)
  metallb_version    = coalesce(var.metallb_version, local.versions.metallb)
}
