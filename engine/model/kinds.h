// What the engine knows about built-in Kubernetes kinds without asking a server: scope, preferred
// version and plural, generated from the vendored OpenAPI document of the Kubernetes version the sim
// speaks (data/openapi, engine/k8s/openapi.h). Pure.
#pragma once

#include <string>
#include <vector>

namespace converge {

// A built-in Kubernetes kind.
struct BuiltinKind {
  std::string group;    // "" for the core group
  std::string version;  // preferred version
  std::string kind;
  std::string plural;
  bool namespaced = true;
};

// Every built-in Kubernetes kind the engine knows (not converge's own fleet kinds, nor Karmada's
// placement kinds, which never live in a member cluster), sorted by group and kind.
const std::vector<BuiltinKind>& BuiltinKinds();

// True for built-in cluster-scoped kinds (those the OpenAPI document serves only outside
// /namespaces/{namespace}/: Namespace, Node, ClusterRole, CertificateSigningRequest, FlowSchema, ...)
// and for converge's own fleet kinds (Cloud, Cluster) and Karmada's cluster-wide policies.
bool IsClusterScoped(const std::string& group, const std::string& kind);

// True for built-in kinds served under /namespaces/{namespace}/ (Deployment, ReplicationController,
// EndpointSlice, Lease, ...) and Karmada's namespaced policies. Custom resources are neither: their
// scope is their CustomResourceDefinition's spec.scope.
bool IsKnownNamespaced(const std::string& group, const std::string& kind);

}  // namespace converge
