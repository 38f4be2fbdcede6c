#include "engine/reconcile/recorders.h"

#include <nlohmann/json.hpp>

#include "engine/base/env.h"
#include "engine/base/scheduler.h"
#include "engine/diff/classify.h"
#include "engine/health/health.h"

namespace converge {

namespace {
bool IsClusterRef(const ObjectRef& ref) { return ref.cluster.empty() && ref.key.kind == "Cluster"; }
}  // namespace

InventoryRecorder::InventoryRecorder(Store* store, Env* env, int64_t source_id, const SecretKey* secrets)
    : store_(store), env_(env), source_id_(source_id), secrets_(secrets) {}

Status InventoryRecorder::BeforeActions(const std::vector<const Action*>& actions) {
  InventoryBatch batch;
  batch.pending.reserve(actions.size());
  for (const Action* a : actions) batch.pending.push_back(PendingMark{source_id_, a->ref, a->api_version});
  Status st = store_->inventory()->Write(batch);
  // The plan checked ownership; a source that took one of these objects since is seen here, by
  // the store's one-owner index, before anything is applied.
  if (st.code() == Code::kConflict) {
    std::string what = actions.size() == 1 ? actions[0]->ref.ToString() : std::to_string(actions.size()) + " objects";
    return Status::Conflict("another source started managing " + what +
                            " while this sync ran: nothing of it was applied; plan again to see which");
  }
  return st;
}

Status InventoryRecorder::OperationStarted(const Action& action, const Operation& operation) {
  OperationRecord rec;
  rec.source_id = source_id_;
  rec.cluster = action.ref.key.name;
  rec.id = operation.id;
  rec.kind = operation.kind;
  rec.started_at = env_->NowMillis();
  return store_->operations()->Record(rec);
}

Status InventoryRecorder::OperationFinished(const Operation& operation, const Status& result) {
  return store_->operations()->Finish(source_id_, operation.cluster, operation.id, result.ok() ? "succeeded" : "failed",
                                      result.ok() ? "" : result.message());
}

Status InventoryRecorder::AfterAction(const ActionResult& r, const Json* live) {
  if (r.outcome != ActionOutcome::kSucceeded) return Status::Ok();  // the row stays pending
  const Action& a = r.action;
  bool cluster_gone = false;
  if (a.type == ChangeType::kDelete) {
    batch_.deletes.push_back({source_id_, a.ref});
    if (IsClusterRef(a.ref)) {  // its objects go with it, in the same write
      batch_.delete_clusters.push_back({source_id_, a.ref.key.name});
      cluster_gone = true;
    }
  } else {
    InventoryEntry e;
    e.source_id = source_id_;
    e.ref = a.ref;
    e.api_version = a.api_version;
    e.last_applied = RedactSecret(*a.desired, *secrets_).dump();  // Secret values never reach the store
    e.desired_hash = DesiredHash(*a.desired, *secrets_);
    e.blob_id = a.blob_id;
    e.live_version = live ? ResourceVersionOf(*live) : "";
    HealthStatus h = AssessHealth(live);
    e.health = HealthName(h.health);
    e.health_message = h.message;
    e.updated_at = env_->NowMillis();
    batch_.upserts.push_back(std::move(e));
  }
  if (batch_.upserts.size() + batch_.deletes.size() >= kBatch || cluster_gone) return Flush();
  return Status::Ok();
}

Status InventoryRecorder::Flush() {
  if (batch_.empty()) return Status::Ok();
  InventoryBatch batch = std::move(batch_);
  batch_ = InventoryBatch{};
  return store_->inventory()->Write(batch);
}

Status RunLogRecorder::AfterAction(const ActionResult& r, const Json* live) {
  (void)live;
  ActionRecord rec;
  rec.seq = ++seq_;
  rec.ref = r.action.ref;
  rec.action = ChangeTypeName(r.action.type);
  rec.outcome = ActionOutcomeName(r.outcome);
  rec.message = r.status.ok() ? "" : r.status.message();
  rec.attempts = r.attempts;
  rec.started_at = r.started_at;
  rec.finished_at = r.finished_at;
  pending_.push_back(std::move(rec));
  return Status::Ok();
}

Status RunLogRecorder::Flush() {
  if (pending_.empty()) return Status::Ok();
  Status st = store_->runs()->AppendActions(run_id_, pending_);
  pending_.clear();
  return st;
}

Status EventRecorder::AfterAction(const ActionResult& r, const Json* live) {
  (void)live;
  if (r.outcome != ActionOutcome::kFailed) return Status::Ok();
  pending_.push_back(Event{0, env_->NowMillis(), source_id_, "error", "ActionFailed", r.action.ref.ToString(),
                           r.status.message()});
  return Status::Ok();
}

void EventRecorder::StepFailed(const StepFailure& failure) {
  pending_.push_back(Event{0, env_->NowMillis(), source_id_, "error", "WaitFailed", failure.step,
                           failure.status.message()});
}

Status EventRecorder::Flush() {
  for (const Event& e : pending_) CONVERGE_RETURN_IF_ERROR(store_->events()->Add(e));
  pending_.clear();
  return Status::Ok();
}

void LeaseKeeper::RunStarted(Scheduler* scheduler) {
  scheduler->RunAfter(std::max<int64_t>(ttl_ms_ / 3, 1), [this, scheduler] { Renew(scheduler); });
}

void LeaseKeeper::Renew(Scheduler* scheduler) {
  Result<Lease> renewed = store_->sources()->RenewLease(lease_.source_id, lease_.owner, ttl_ms_, env_->NowMillis());
  if (!renewed.ok()) {
    status_ = renewed.status().WithContext("the lease on this source was lost");
    if (stop_) stop_->store(true);
    return;
  }
  lease_ = std::move(renewed).value();
  scheduler->RunAfter(std::max<int64_t>(ttl_ms_ / 3, 1), [this, scheduler] { Renew(scheduler); });
}

}  // namespace converge
