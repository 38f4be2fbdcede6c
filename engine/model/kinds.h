// What the engine knows about built-in Kubernetes kinds without asking a server: scope.
// Pure.
#pragma once

#include <string>

namespace converge {

// True for built-in cluster-scoped kinds (Namespace, Node, ClusterRole, ClusterRoleBinding,
// CustomResourceDefinition, PersistentVolume, StorageClass, PriorityClass, IngressClass,
// *WebhookConfiguration, APIService, RuntimeClass, CSIDriver, CSINode, VolumeAttachment) and for
// converge's own fleet kinds (Cloud, Cluster).
bool IsClusterScoped(const std::string& group, const std::string& kind);

// True for kinds the engine knows to be namespaced (core and apps/batch/networking/rbac kinds).
// Unknown kinds are neither: their scope is whatever the manifest says.
bool IsKnownNamespaced(const std::string& group, const std::string& kind);

}  // namespace converge
