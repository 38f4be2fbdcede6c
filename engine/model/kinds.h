// What the engine knows about built-in Kubernetes kinds without asking a server: scope, preferred
// version and plural. Pure.
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

// True for built-in cluster-scoped kinds (Namespace, Node, ClusterRole, ClusterRoleBinding,
// CustomResourceDefinition, PersistentVolume, StorageClass, PriorityClass, IngressClass,
// *WebhookConfiguration, APIService, RuntimeClass, CSIDriver, CSINode, VolumeAttachment) and for
// converge's own fleet kinds (Cloud, Cluster) and Karmada's cluster-wide policies.
bool IsClusterScoped(const std::string& group, const std::string& kind);

// True for kinds the engine knows to be namespaced (core and apps/batch/networking/rbac kinds,
// Karmada's namespaced policies). Unknown kinds are neither: their scope is whatever the manifest
// says.
bool IsKnownNamespaced(const std::string& group, const std::string& kind);

}  // namespace converge
