#include "engine/model/kinds.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

namespace converge {
namespace {

std::vector<BuiltinKind>* MakeBuiltinKinds() {
  auto* kinds = new std::vector<BuiltinKind>{
      {"", "v1", "Namespace", "namespaces", false},
      {"", "v1", "Node", "nodes", false},
      {"", "v1", "PersistentVolume", "persistentvolumes", false},
      {"", "v1", "ConfigMap", "configmaps", true},
      {"", "v1", "Secret", "secrets", true},
      {"", "v1", "Service", "services", true},
      {"", "v1", "ServiceAccount", "serviceaccounts", true},
      {"", "v1", "Pod", "pods", true},
      {"", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true},
      {"", "v1", "Endpoints", "endpoints", true},
      {"", "v1", "LimitRange", "limitranges", true},
      {"", "v1", "ResourceQuota", "resourcequotas", true},
      {"admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false},
      {"admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations",
       false},
      {"apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false},
      {"apiregistration.k8s.io", "v1", "APIService", "apiservices", false},
      {"apps", "v1", "Deployment", "deployments", true},
      {"apps", "v1", "StatefulSet", "statefulsets", true},
      {"apps", "v1", "DaemonSet", "daemonsets", true},
      {"apps", "v1", "ReplicaSet", "replicasets", true},
      {"autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true},
      {"batch", "v1", "Job", "jobs", true},
      {"batch", "v1", "CronJob", "cronjobs", true},
      {"networking.k8s.io", "v1", "Ingress", "ingresses", true},
      {"networking.k8s.io", "v1", "IngressClass", "ingressclasses", false},
      {"networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true},
      {"node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", false},
      {"policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true},
      {"rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false},
      {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false},
      {"rbac.authorization.k8s.io", "v1", "Role", "roles", true},
      {"rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true},
      {"scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false},
      {"storage.k8s.io", "v1", "CSIDriver", "csidrivers", false},
      {"storage.k8s.io", "v1", "CSINode", "csinodes", false},
      {"storage.k8s.io", "v1", "StorageClass", "storageclasses", false},
      {"storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", false},
  };
  std::sort(kinds->begin(), kinds->end(), [](const BuiltinKind& a, const BuiltinKind& b) {
    return std::tie(a.group, a.kind) < std::tie(b.group, b.kind);
  });
  return kinds;
}

using KindSet = std::set<std::pair<std::string, std::string>>;

// Built-in kinds of one scope, plus the fleet and placement kinds of that scope.
KindSet* MakeScopeSet(bool namespaced, std::initializer_list<std::pair<std::string, std::string>> extra) {
  auto* out = new KindSet(extra);
  for (const BuiltinKind& k : BuiltinKinds()) {
    if (k.namespaced == namespaced) out->emplace(k.group, k.kind);
  }
  return out;
}

}  // namespace

const std::vector<BuiltinKind>& BuiltinKinds() {
  static const std::vector<BuiltinKind>* kinds = MakeBuiltinKinds();
  return *kinds;
}

bool IsClusterScoped(const std::string& group, const std::string& kind) {
  static const KindSet* kinds = MakeScopeSet(false, {{"converge.dev", "Cloud"},
                                                     {"converge.dev", "Cluster"},
                                                     {"policy.karmada.io", "ClusterPropagationPolicy"},
                                                     {"policy.karmada.io", "ClusterOverridePolicy"}});
  return kinds->count({group, kind}) > 0;
}

bool IsKnownNamespaced(const std::string& group, const std::string& kind) {
  static const KindSet* kinds =
      MakeScopeSet(true, {{"policy.karmada.io", "PropagationPolicy"}, {"policy.karmada.io", "OverridePolicy"}});
  return kinds->count({group, kind}) > 0;
}

}  // namespace converge
