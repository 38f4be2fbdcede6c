#include "engine/reconcile/inventory_recorder.h"

#include <nlohmann/json.hpp>

#include "engine/base/env.h"
#include "engine/base/hash.h"
#include "engine/diff/diff.h"
#include "engine/health/health.h"

namespace converge {

std::string DesiredHash(const Json& desired) { return Sha256Hex(desired.dump()); }

std::string ResourceVersionOf(const Json& live) {
  auto md = live.find("metadata");
  if (md == live.end() || !md->is_object()) return "";
  auto rv = md->find("resourceVersion");
  return rv != md->end() && rv->is_string() ? rv->get<std::string>() : "";
}

StoreRecorder::StoreRecorder(Store* store, Env* env, int64_t source_id, std::map<ObjectRef, InventoryEntry> inventory)
    : store_(store), env_(env), source_id_(source_id), inventory_(std::move(inventory)) {}

Status StoreRecorder::BeforeActions(const std::vector<const Action*>& actions) {
  std::vector<InventoryEntry> rows;
  rows.reserve(actions.size());
  for (const Action* action : actions) {
    InventoryEntry& e = inventory_[action->ref];
    e.source_id = source_id_;
    e.ref = action->ref;
    if (e.api_version.empty()) e.api_version = action->api_version;
    e.pending = true;
    e.updated_at = env_->NowMillis();
    rows.push_back(e);
  }
  return store_->inventory()->Write({std::move(rows), {}});
}

Status StoreRecorder::AfterAction(const Action& action, const Json* live) {
  if (action.type == ChangeType::kDelete) {
    inventory_.erase(action.ref);
    deletes_.push_back({source_id_, action.ref});
    // A deleted cluster takes its objects with it, in the same write.
    if (action.ref.cluster.empty() && action.ref.key.kind == "Cluster") {
      for (auto it = inventory_.begin(); it != inventory_.end();) {
        if (it->first.cluster == action.ref.key.name) {
          deletes_.push_back({source_id_, it->first});
          it = inventory_.erase(it);
        } else {
          ++it;
        }
      }
    }
  } else {
    InventoryEntry& e = inventory_[action.ref];
    e.source_id = source_id_;
    e.ref = action.ref;
    e.api_version = action.api_version;
    e.last_applied = RedactSecret(*action.desired).dump();  // Secret values never reach the store
    e.desired_hash = DesiredHash(*action.desired);
    e.live_version = live ? ResourceVersionOf(*live) : "";
    HealthStatus h = AssessHealth(live);
    e.health = HealthName(h.health);
    e.health_message = h.message;
    e.drift = false;
    e.pending = false;
    e.updated_at = env_->NowMillis();
    upserts_.push_back(e);
  }
  return upserts_.size() + deletes_.size() >= kBatch ? Flush() : Status::Ok();
}

Status StoreRecorder::Flush() {
  if (upserts_.empty() && deletes_.empty()) return Status::Ok();
  InventoryBatch batch{std::move(upserts_), std::move(deletes_)};
  upserts_.clear();  // moved-from vectors are valid but unspecified
  deletes_.clear();
  return store_->inventory()->Write(batch);
}

}  // namespace converge
