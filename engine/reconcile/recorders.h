// The observers that record an apply in the store, beside the progress printer:
//   InventoryRecorder  the managed-object inventory. Before a cluster's actions their rows are
//                      marked pending in one transaction (other columns kept), so a crash between
//                      that write and the provider call leaves rows the next run re-checks (pending
//                      rows never take the no-op path) and, if Git no longer has the object,
//                      prunes. After each successful action the row gets the new last-applied
//                      (Secrets redacted), hashes, live version and health, or goes (a delete; a
//                      Cluster's delete takes its cluster's rows in the same write), buffered and
//                      written in batches. Cloud operations are recorded when they start and end,
//                      so a restarted converge resumes polling them.
//   RunLogRecorder     every action's result in the run log (sync_actions), written at Flush.
//   EventRecorder      failures as events, written at Flush.
//   LeaseKeeper        renews the source's lease while the run lasts; if the lease is lost it
//                      stops the run (another converge may be syncing the source).
// Called on the apply's loop thread, one at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/apply/apply.h"
#include "engine/store/store.h"

namespace converge {

class Env;
class Scheduler;
class SecretKey;

class InventoryRecorder : public ApplyObserver {
 public:
  // `secrets`: the state dir's key of Secret value tags (recorded last-applied Secrets are redacted).
  InventoryRecorder(Store* store, Env* env, int64_t source_id, const SecretKey* secrets);
  Status BeforeActions(const std::vector<const Action*>& actions) override;
  Status OperationStarted(const Action& action, const Operation& operation) override;
  Status OperationFinished(const Operation& operation, const Status& result) override;
  Status AfterAction(const ActionResult& result, const Json* live) override;
  Status Flush() override;

 private:
  static constexpr size_t kBatch = 1000;
  Store* store_;
  Env* env_;
  int64_t source_id_;
  const SecretKey* secrets_;
  InventoryBatch batch_;  // results not written yet
};

class RunLogRecorder : public ApplyObserver {
 public:
  RunLogRecorder(Store* store, int64_t run_id) : store_(store), run_id_(run_id) {}
  Status AfterAction(const ActionResult& result, const Json* live) override;
  Status Flush() override;

 private:
  Store* store_;
  int64_t run_id_;
  int seq_ = 0;
  std::vector<ActionRecord> pending_;
};

class EventRecorder : public ApplyObserver {
 public:
  EventRecorder(Store* store, Env* env, int64_t source_id) : store_(store), env_(env), source_id_(source_id) {}
  Status AfterAction(const ActionResult& result, const Json* live) override;
  void StepFailed(const StepFailure& failure) override;
  Status Flush() override;

 private:
  Store* store_;
  Env* env_;
  int64_t source_id_;
  std::vector<Event> pending_;
};

class LeaseKeeper : public ApplyObserver {
 public:
  // Renews `lease` every ttl/3 on the run's scheduler; on failure sets `*stop` and remembers why.
  LeaseKeeper(Store* store, Env* env, Lease lease, int64_t ttl_ms, std::atomic<bool>* stop)
      : store_(store), env_(env), lease_(std::move(lease)), ttl_ms_(ttl_ms), stop_(stop) {}
  void RunStarted(Scheduler* scheduler) override;
  // Ok while the lease was kept; otherwise why it was lost.
  const Status& status() const { return status_; }

 private:
  void Renew(Scheduler* scheduler);

  Store* store_;
  Env* env_;
  Lease lease_;
  int64_t ttl_ms_;
  std::atomic<bool>* stop_;
  Status status_;
};

}  // namespace converge
