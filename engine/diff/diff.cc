// DiffObject: classifies one object as create / update / delete / unchanged by predicting the
// result of applying desired (ApplyMerge) and comparing it with live, both normalized. Pure.
#include "engine/diff/diff.h"

#include <nlohmann/json.hpp>

namespace converge {

const char* ChangeTypeName(ChangeType t) {
  switch (t) {
    case ChangeType::kCreate: return "create";
    case ChangeType::kUpdate: return "update";
    case ChangeType::kDelete: return "delete";
    case ChangeType::kUnchanged: return "unchanged";
  }
  return "unknown";
}

namespace {
constexpr const char* kLiveLabel = "live";
constexpr const char* kDesiredLabel = "desired";

bool Present(const Json* j) { return j != nullptr && !j->is_null(); }
}  // namespace

ObjectDiff DiffObject(const Json* desired, const Json* live, const Json* last_applied) {
  ObjectDiff out;
  const bool has_desired = Present(desired), has_live = Present(live);
  if (!has_desired && !has_live) return out;
  if (!has_live) {
    out.type = ChangeType::kCreate;
    out.unified = UnifiedDiff("", ToYaml(Normalize(ApplyMerge(nullptr, *desired, nullptr))),
                              kLiveLabel, kDesiredLabel);
    return out;
  }
  const Json live_norm = Normalize(*live);
  if (!has_desired) {
    out.type = ChangeType::kDelete;
    out.unified = UnifiedDiff(ToYaml(live_norm), "", kLiveLabel, kDesiredLabel);
    return out;
  }
  const Json* last = Present(last_applied) ? last_applied : nullptr;
  const Json predicted = Normalize(ApplyMerge(live, *desired, last));
  if (predicted == live_norm) return out;
  out.type = ChangeType::kUpdate;
  out.unified = UnifiedDiff(ToYaml(live_norm), ToYaml(predicted), kLiveLabel, kDesiredLabel);
  return out;
}

}  // namespace converge
