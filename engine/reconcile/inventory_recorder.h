// StoreRecorder: the InventoryRecorder that writes the managed-object inventory to the Store.
// Before an action: the row is marked pending (keeping the last-applied it had), so a crash between
// the store write and the provider call leaves a row the next run re-checks and, if Git no longer
// has the object, prunes. After: last-applied, hashes, live version and health are recorded, or
// the row is removed for a delete. Called serialized by ExecutePlan.
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
  Status BeforeAction(const Action& action) override;
  Status AfterAction(const Action& action, const Json* live) override;

 private:
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
