# Every Kubernetes provider talks to the cluster kind.tf creates, with the credentials it returns, so a plan
# never touches whatever cluster the current kubeconfig points at.
provider "kind" {}

provider "helm" {
  kubernetes = {
    host                   = kind_cluster.this.endpoint
    client_certificate     = kind_cluster.this.client_certificate
    client_key             = kind_cluster.this.client_key
    cluster_ca_certificate = kind_cluster.this.cluster_ca_certificate
  }
}

provider "kubernetes" {
  host                   = kind_cluster.this.endpoint
  client_certificate     = kind_cluster.this.client_certificate
  client_key             = kind_cluster.this.client_key
  cluster_ca_certificate = kind_cluster.this.cluster_ca_certificate
}

provider "kustomization" {
  kubeconfig_raw = kind_cluster.this.kubeconfig
}

provider "tls" {}
