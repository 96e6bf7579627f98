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
  description = "Worker nodes beside the control plane, at least 1: MetalLB does not announce from the control plane, which kubeadm labels node.kubernetes.io/exclude-from-external-load-balancers."
  type        = number
  default     = 2

  validation {
    condition     = var.worker_count >= 1 && var.worker_count <= 8 && floor(var.worker_count) == var.worker_count
    error_message = "worker_count must be a whole number from 1 to 8: with no worker MetalLB has no node to announce the gateway's address from."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes version of the nodes (the kindest/node image tag, e.g. v1.33.1); null takes ops/scripts/k8s/versions.json's."
  type        = string
  default     = null

  validation {
    condition     = var.kubernetes_version == null || can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+$", var.kubernetes_version))
    error_message = "kubernetes_version must look like v1.33.1."
  }
}

variable "istio_version" {
  description = "Version of the Istio Helm charts (base, cni, istiod, gateway), e.g. 1.26.2; null takes ops/scripts/k8s/versions.json's."
  type        = string
  default     = null

  validation {
    condition     = var.istio_version == null || can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.istio_version))
    error_message = "istio_version must be a release number such as 1.26.2."
  }
}

variable "metallb_version" {
  description = "Version of the MetalLB Helm chart, e.g. 0.15.2; null takes ops/scripts/k8s/versions.json's."
  type        = string
  default     = null

  validation {
    condition     = var.metallb_version == null || can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.metallb_version))
    error_message = "metallb_version must be a release number such as 0.15.2."
  }
}

variable "metallb_address_range" {
  description = "Addresses MetalLB hands to the ingress gateway: a range (first-last) or a CIDR inside kind's docker network; null derives the top 51 addresses of the nodes' /16, as ops/scripts/k8s/deploy.sh does."
  type        = string
  default     = null

  validation {
    condition     = var.metallb_address_range == null || can(regex("^[0-9.]+(-[0-9.]+|/[0-9]+)$", var.metallb_address_range))
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
  description = "The gists-api image to load into the nodes and run, built beforehand at the repository root (terraform/README.md, \"Use\")."
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

variable "app_image_id" {
  description = "The image's ID (`docker image inspect -f '{{.Id}}' gists-api:0.1.0`): a new one reloads the image into the nodes and rolls the pods, though the tag is the same. null loads it once."
  type        = string
  default     = null

  validation {
    condition     = var.app_image_id == null || can(regex("^sha256:[0-9a-f]{64}$", var.app_image_id))
    error_message = "app_image_id must be an image ID, sha256:<64 hex digits>."
  }
}

variable "github_token" {
  description = "GITHUB_TOKEN for the service (5,000 GitHub requests/hour instead of 60); empty runs it unauthenticated."
  type        = string
  default     = ""
  sensitive   = true
}

variable "admin_token" {
  description = "ADMIN_TOKEN for the service: the bearer token DELETE /cache requires; empty leaves it without one."
  type        = string
  default     = ""
  sensitive   = true
}

variable "redis_password" {
  description = "Password of the shared Redis tier (letters, digits, . _ ~ -, as it goes into REDIS_URL); null generates one and keeps it in the state."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.redis_password == null || can(regex("^[A-Za-z0-9._~-]{16,}$", var.redis_password))
    error_message = "redis_password must be at least 16 of: letters, digits, . _ ~ - (it is part of REDIS_URL)."
  }
}
