variable "cluster_name" {
  description = "Name of the Kind cluster (its node containers are <name>-control-plane, <name>-worker, ...)."
  type        = string
  default     = "gists-api"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.cluster_name))
    error_message = "cluster_name must be a DNS label: lower-case letters, digits and dashes."
  }
}

variable "worker_count" {
  description = "Worker nodes beside the control plane (0 runs everything on the control plane)."
  type        = number
  default     = 2

  validation {
    condition     = var.worker_count >= 0 && var.worker_count <= 8 && floor(var.worker_count) == var.worker_count
    error_message = "worker_count must be a whole number from 0 to 8."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes version of the nodes: the tag of the kindest/node image, e.g. v1.33.1."
  type        = string
  default     = "v1.33.1"

  validation {
    condition     = can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+$", var.kubernetes_version))
    error_message = "kubernetes_version must look like v1.33.1."
  }
}

variable "istio_version" {
  description = "Version of the Istio Helm charts (base, cni, istiod, gateway), e.g. 1.26.2."
  type        = string
  default     = "1.26.2"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.istio_version))
    error_message = "istio_version must be a release number such as 1.26.2."
  }
}

variable "metallb_version" {
  description = "Version of the MetalLB Helm chart, e.g. 0.15.2."
  type        = string
  default     = "0.15.2"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.metallb_version))
    error_message = "metallb_version must be a release number such as 0.15.2."
  }
}

variable "metallb_address_range" {
  description = "Addresses MetalLB hands to the ingress gateway: a range (first-last) or a CIDR inside the kind docker network (see `docker network inspect kind`)."
  type        = string
  default     = "172.18.255.200-172.18.255.250"

  validation {
    condition     = can(regex("^[0-9.]+(-[0-9.]+|/[0-9]+)$", var.metallb_address_range))
    error_message = "metallb_address_range must be FIRST-LAST (172.18.255.200-172.18.255.250) or a CIDR (172.18.255.192/27)."
  }
}

variable "http_host_port" {
  description = "Port on the host that reaches the ingress gateway's HTTP listener (80)."
  type        = number
  default     = 80

  validation {
    condition     = var.http_host_port >= 1 && var.http_host_port <= 65535
    error_message = "http_host_port must be a TCP port (1-65535)."
  }
}

variable "https_host_port" {
  description = "Port on the host that reaches the ingress gateway's HTTPS listener (443)."
  type        = number
  default     = 443

  validation {
    condition     = var.https_host_port >= 1 && var.https_host_port <= 65535
    error_message = "https_host_port must be a TCP port (1-65535)."
  }
}

variable "app_image" {
  description = "The gists-api image to load into the nodes and run, built beforehand with `docker build -t gists-api:0.1.0 .` at the repository root."
  type        = string
  default     = "gists-api:0.1.0"

  validation {
    condition     = can(regex("^[^\\s]+:[-_.A-Za-z0-9]+$", var.app_image))
    error_message = "app_image must be NAME:TAG."
  }
}

variable "kubeconfig_path" {
  description = "Where to write the cluster's kubeconfig; null writes terraform/kubeconfig-<cluster_name>."
  type        = string
  default     = null
}
