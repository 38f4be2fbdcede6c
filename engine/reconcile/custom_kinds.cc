#include "engine/reconcile/custom_kinds.h"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "engine/k8s/validate.h"

namespace converge {

Status CheckCustomKinds(const std::string& cluster, const std::vector<const DesiredObject*>& desired,
                        const DesiredState& state, const std::function<Result<std::vector<ServedKind>>()>& served) {
  std::vector<const DesiredObject*> custom;
  std::map<std::pair<std::string, std::string>, bool> declared;  // (group, kind) -> namespaced
  for (const DesiredObject* d : desired) {
    const ObjectKey& k = d->ref.key;
    if (k8s::IsCustomResource(k.group, k.kind)) custom.push_back(d);
    if (k.group != "apiextensions.k8s.io" || k.kind != "CustomResourceDefinition") continue;
    Result<JsonPtr> body = state.Body(*d);
    if (!body.ok()) return body.status();
    k8s::CustomKind ck;
    if (*body && k8s::CustomKindOf(**body, &ck)) declared[{ck.group, ck.kind}] = ck.namespaced;
  }
  if (custom.empty()) return Status::Ok();
  std::optional<std::map<std::pair<std::string, std::string>, bool>> in_cluster;
  std::string errors;
  for (const DesiredObject* d : custom) {
    const ObjectKey& k = d->ref.key;
    auto scope = declared.find({k.group, k.kind});
    std::string crd_where = "this sync's CustomResourceDefinition";
    if (scope == declared.end()) {
      if (!in_cluster) {
        Result<std::vector<ServedKind>> kinds = served();
        if (!kinds.ok()) return kinds.status();
        in_cluster.emplace();
        for (const ServedKind& s : *kinds) (*in_cluster)[{s.group, s.kind}] = s.namespaced;
      }
      scope = in_cluster->find({k.group, k.kind});
      crd_where = "its CustomResourceDefinition in cluster " + cluster;
      if (scope == in_cluster->end()) {
        errors += (errors.empty() ? "" : "\n") + d->Where() + ": " + k.kind + " \"" + k.name + "\": cluster " + cluster +
                  " serves no " + k.kind + " (" + d->api_version + ") and this sync delivers no " +
                  "CustomResourceDefinition for it: add the CRD to the repository, or install it in the cluster";
        continue;
      }
    }
    // A CRD in the repository scoped the object already (engine/spec); one only in the cluster
    // cannot default it here, as the object's identity is fixed before plan.
    if (scope->second && k.ns.empty()) {
      errors += (errors.empty() ? "" : "\n") + d->Where() + ": " + k.kind + " \"" + k.name +
                "\": metadata.namespace is required: " + crd_where + " makes " + k.kind + " namespaced";
    } else if (!scope->second && !k.ns.empty()) {
      errors += (errors.empty() ? "" : "\n") + d->Where() + ": " + k.kind + " \"" + k.name +
                "\": metadata.namespace must not be set: " + crd_where + " makes " + k.kind +
                " cluster-scoped; remove the namespace";
    }
  }
  if (!errors.empty()) return Status::Invalid(errors);
  return Status::Ok();
}

}  // namespace converge
