# Istio from its Helm charts, in the order Istio's Helm guide gives: base (CRDs) -> cni -> istiod -> gateway.
# The CNI node agent sets up the sidecars' traffic redirection, so application pods need no NET_ADMIN init
# container and pass the "baseline" Pod Security level k8s/components/istio enforces on the gists-api namespace.
locals {
  istio_repository = "https://istio-release.storage.googleapis.com/charts"

  # k8s/components/istio's Gateway selects istio=ingressgateway; the gateway chart derives that label from the
  # release name (istio-ingressgateway -> ingressgateway). It runs in its own namespace, as Istio's "Installing
  # Gateways" advises: the one the MetalLB pool is reserved for. Its host is the one name the Gateway answers.
  gateway_name      = "istio-ingressgateway"
  gateway_namespace = yamldecode(file("${local.k8s_dir}/components/metallb/ipaddresspool.yaml")).spec.serviceAllocation.namespaces[0]
  gateway_host      = yamldecode(file("${local.k8s_dir}/components/istio/gateway.yaml")).spec.servers[0].hosts[0]
  gateway_tls_name  = yamldecode(file("${local.k8s_dir}/components/istio/gateway.yaml")).spec.servers[1].tls.credentialName

  # The mesh's tracing provider: the name k8s/components/istio's Telemetry selects, pointed at the monitoring
  # component's Tempo Service on its OTLP/gRPC port (Envoy's OpenTelemetry tracer speaks gRPC).
  tracing_provider = yamldecode(file("${local.k8s_dir}/components/istio/telemetry.yaml")).spec.tracing[0].providers[0].name
  tempo_service    = yamldecode(file("${local.k8s_dir}/components/monitoring/tempo-service.yaml"))
  tempo_otlp_grpc  = one([for port in local.tempo_service.spec.ports : port.port if port.name == "grpc-otlp"])
}

resource "helm_release" "istio_base" {
  name             = "istio-base"
  repository       = local.istio_repository
  chart            = "base"
  version          = local.istio_version
  namespace        = "istio-system"
  create_namespace = true
  wait             = true
}

resource "helm_release" "istio_cni" {
  name       = "istio-cni"
  repository = local.istio_repository
  chart      = "cni"
  version    = local.istio_version
  namespace  = "istio-system"
  wait       = true

  depends_on = [helm_release.istio_base]
}

resource "helm_release" "istiod" {
  name       = "istiod"
  repository = local.istio_repository
  chart      = "istiod"
  version    = local.istio_version
  namespace  = "istio-system"
  wait       = true
  # The mesh settings ops/scripts/k8s/platform.sh gives istioctl: only known hosts (k8s/components/istio has
  # the ServiceEntry for api.github.com), access logs on the proxies' stdout, and the tracing provider.
  values = [yamlencode({
    pilot = { cni = { enabled = true } }
    meshConfig = {
      outboundTrafficPolicy = { mode = "REGISTRY_ONLY" }
      accessLogFile         = "/dev/stdout"
      extensionProviders = [{
        name = local.tracing_provider
        opentelemetry = {
          service = "${local.tempo_service.metadata.name}.${local.tempo_service.metadata.namespace}.svc.cluster.local"
          port    = local.tempo_otlp_grpc
        }
      }]
    }
  })]

  depends_on = [helm_release.istio_cni]
}

resource "kubernetes_namespace_v1" "gateway" {
  metadata {
    name = local.gateway_namespace
  }

  depends_on = [kind_cluster.this]
}

resource "helm_release" "istio_ingressgateway" {
  name       = local.gateway_name
  repository = local.istio_repository
  chart      = "gateway"
  version    = local.istio_version
  namespace  = kubernetes_namespace_v1.gateway.metadata[0].name
  # Helm waits for the LoadBalancer address too, which needs MetalLB's pool.
  wait    = true
  timeout = 300
  values = [yamlencode({
    service = {
      type = "LoadBalancer"
      ports = [
        { name = "status-port", port = 15021, protocol = "TCP", targetPort = 15021 },
        { name = "http2", port = 80, protocol = "TCP", targetPort = 80, nodePort = local.gateway_node_ports.http },
        { name = "https", port = 443, protocol = "TCP", targetPort = 443, nodePort = local.gateway_node_ports.https },
      ]
    }
  })]

  depends_on = [helm_release.istiod, kustomization_resource.metallb]
}

# The HTTPS listener's certificate: self-signed for the gateway's host, in the gateway's namespace, under the
# name the Gateway's credentialName gives. Replace it with a real one outside Kind.
resource "tls_private_key" "gateway" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_self_signed_cert" "gateway" {
  private_key_pem       = tls_private_key.gateway.private_key_pem
  dns_names             = [local.gateway_host]
  validity_period_hours = 24 * 90
  allowed_uses          = ["digital_signature", "key_encipherment", "server_auth"]

  subject {
    common_name = local.gateway_host
  }
}

resource "kubernetes_secret_v1" "gateway_tls" {
  metadata {
    name      = local.gateway_tls_name
    namespace = kubernetes_namespace_v1.gateway.metadata[0].name
  }
  type = "kubernetes.io/tls"
  data = {
    "tls.crt" = tls_self_signed_cert.gateway.cert_pem
    "tls.key" = tls_private_key.gateway.private_key_pem
  }
}

# The address MetalLB gave the gateway, read back for the outputs.
data "kubernetes_service_v1" "gateway" {
  metadata {
    name      = local.gateway_name
    namespace = local.gateway_namespace
  }

  depends_on = [helm_release.istio_ingressgateway]
}
