// StoreRecorder: the InventoryRecorder that writes the managed-object inventory to the Store.
// Before a cluster's actions: their rows are marked pending in one transaction (keeping the
// last-applied they had), so a crash between the store write and the provider call leaves rows the
// next run re-checks (pending rows never take the no-op path) and, if Git no longer has the object,
// prunes. After each action: last-applied, hashes, live version and health, or the row's removal
// for a delete, are buffered and written in batches (Flush). Called serialized by ExecutePlan.
#pragma once

#include <cstdint>
#include <map>

#include "engine/apply/apply.h"
#include "engine/store/store.h"

namespace converge {

class Env;

class StoreRecorder : public InventoryRecorder {
 public:
  StoreRecorder(Store* store, Env* env, int64_t source_id, std::map<ObjectRef, InventoryEntry> inventory);
  Status BeforeActions(const std::vector<const Action*>& actions) override;
  Status AfterAction(const Action& action, const Json* live) override;
  Status Flush() override;

 private:
  static constexpr size_t kBatch = 1000;
  std::vector<InventoryEntry> upserts_;
  std::vector<std::pair<int64_t, ObjectRef>> deletes_;
  Store* store_;
  Env* env_;
  int64_t source_id_;
  std::map<ObjectRef, InventoryEntry> inventory_;
};

// Hash of a desired object as recorded in the inventory.
std::string DesiredHash(const Json& desired);
// metadata.resourceVersion of a live object, "" when absent.
std::string ResourceVersionOf(const Json& live);

}  // namespace converge
