#include "engine/model/kinds.h"

#include <set>
#include <utility>

namespace converge {

bool IsClusterScoped(const std::string& group, const std::string& kind) {
  static const std::set<std::pair<std::string, std::string>> kKinds = {
      {"", "Namespace"},
      {"", "Node"},
      {"", "PersistentVolume"},
      {"rbac.authorization.k8s.io", "ClusterRole"},
      {"rbac.authorization.k8s.io", "ClusterRoleBinding"},
      {"apiextensions.k8s.io", "CustomResourceDefinition"},
      {"storage.k8s.io", "StorageClass"},
      {"storage.k8s.io", "CSIDriver"},
      {"storage.k8s.io", "CSINode"},
      {"storage.k8s.io", "VolumeAttachment"},
      {"scheduling.k8s.io", "PriorityClass"},
      {"networking.k8s.io", "IngressClass"},
      {"admissionregistration.k8s.io", "MutatingWebhookConfiguration"},
      {"admissionregistration.k8s.io", "ValidatingWebhookConfiguration"},
      {"apiregistration.k8s.io", "APIService"},
      {"node.k8s.io", "RuntimeClass"},
      {"converge.dev", "Cloud"},
      {"converge.dev", "Cluster"},
      {"policy.karmada.io", "ClusterPropagationPolicy"},
      {"policy.karmada.io", "ClusterOverridePolicy"},
  };
  return kKinds.count({group, kind}) > 0;
}

bool IsKnownNamespaced(const std::string& group, const std::string& kind) {
  static const std::set<std::pair<std::string, std::string>> kKinds = {
      {"", "ConfigMap"},          {"", "Secret"},
      {"", "Service"},            {"", "ServiceAccount"},
      {"", "Pod"},                {"", "PersistentVolumeClaim"},
      {"", "Endpoints"},          {"", "LimitRange"},
      {"", "ResourceQuota"},      {"apps", "Deployment"},
      {"apps", "StatefulSet"},    {"apps", "DaemonSet"},
      {"apps", "ReplicaSet"},     {"batch", "Job"},
      {"batch", "CronJob"},       {"networking.k8s.io", "Ingress"},
      {"networking.k8s.io", "NetworkPolicy"},
      {"rbac.authorization.k8s.io", "Role"},
      {"rbac.authorization.k8s.io", "RoleBinding"},
      {"autoscaling", "HorizontalPodAutoscaler"},
      {"policy", "PodDisruptionBudget"},
      {"policy.karmada.io", "PropagationPolicy"},
      {"policy.karmada.io", "OverridePolicy"},
  };
  return kKinds.count({group, kind}) > 0;
}

}  // namespace converge
