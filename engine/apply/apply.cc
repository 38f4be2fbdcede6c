// ExecutePlan: the plan's DAG (apply_graph.h) run by dag::Executor, with ApplyRunner doing each
// step's provider calls and Reporter turning executor events into ApplyObserver calls.
#include "engine/apply/apply.h"

#include <algorithm>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/apply/apply_graph.h"
#include "engine/base/env.h"
#include "engine/base/scheduler.h"
#include "engine/dag/executor.h"
#include "engine/health/health.h"

namespace converge {

const char* ActionOutcomeName(ActionOutcome outcome) {
  switch (outcome) {
    case ActionOutcome::kSucceeded: return "succeeded";
    case ActionOutcome::kFailed: return "failed";
    case ActionOutcome::kSkipped: return "skipped";
    case ActionOutcome::kNotRun: return "not run";
  }
  return "unknown";
}

namespace {

using apply_internal::ApplyGraph;
using apply_internal::ApplyStep;
using apply_internal::StepKind;
using dag::StepContext;
using dag::StepId;
using dag::StepProgress;

std::string Seconds(int64_t ms) { return std::to_string(ms / 1000) + "s"; }

// Does the work of each step. Run() is called on worker threads; results that later steps or the
// loop thread read are kept per step and handed over through the executor (which synchronizes).
class ApplyRunner : public dag::StepRunner {
 public:
  ApplyRunner(const Plan& plan, const ApplyGraph& graph, const FleetTargets& fleet, const ApplyOptions& options,
              const std::vector<ApplyObserver*>& observers, Scheduler* scheduler)
      : plan_(plan),
        graph_(graph),
        fleet_(fleet),
        options_(options),
        observers_(observers),
        scheduler_(scheduler),
        operations_(graph.steps.size()),
        live_(graph.steps.size()) {}

  StepProgress Run(StepId id, const StepContext& ctx) override {
    const ApplyStep& step = graph_.steps[static_cast<size_t>(id)];
    switch (step.kind) {
      case StepKind::kRecordPending: return RecordPending(step);
      case StepKind::kStartOperation: return StartOperation(id, step, ctx);
      case StepKind::kAwaitOperation: return AwaitOperation(id, step, ctx);
      case StepKind::kClusterReady: return ClusterReady(step, ctx);
      case StepKind::kObjectAction: return ObjectAction(id, step, ctx);
      case StepKind::kWaveHealthy:
      case StepKind::kFinalHealthy: return Healthy(step, ctx);
      case StepKind::kAppliesDone:
      case StepKind::kObjectsDone: return StepProgress::Done(Status::Ok());
    }
    return StepProgress::Done(Status::Internal("unknown apply step"));
  }

  Status Finish(StepId id, const Status& status) override {
    const ApplyStep& step = graph_.steps[static_cast<size_t>(id)];
    if (step.kind == StepKind::kStartOperation && status.ok()) {
      const Action& a = action(step.action);
      for (ApplyObserver* o : observers_) {
        Status st = o->OperationStarted(a, *operations_[static_cast<size_t>(id)]);
        if (!st.ok()) return st.WithContext("recording operation " + operations_[static_cast<size_t>(id)]->id);
      }
      return status;
    }
    if (step.kind == StepKind::kAwaitOperation && step.resume) {
      // An earlier run's operation is over, however it ended: the new one starts after it.
      for (ApplyObserver* o : observers_) {
        Status st = o->OperationFinished(*step.resume, status);
        if (!st.ok()) return st.WithContext("recording the end of operation " + step.resume->id);
      }
      if (!status.ok()) {
        for (ApplyObserver* o : observers_) o->Waiting("cluster " + step.cluster + ": " + status.message());
      }
      return Status::Ok();
    }
    if (step.kind == StepKind::kAwaitOperation) {
      const Operation& op = *operations_[static_cast<size_t>(step.start)];
      for (ApplyObserver* o : observers_) {
        Status st = o->OperationFinished(op, status);
        if (!st.ok()) return st.WithContext("recording the end of operation " + op.id);
      }
    }
    if (step.action >= 0 && graph_.action_end[static_cast<size_t>(step.action)] == id) {
      return FinishAction(id, step, status);
    }
    return status;
  }

  // The result of an action whose last step ended with `status` (filled in by the Reporter).
  std::vector<ActionResult> results;

 private:
  const Action& action(int index) const { return plan_.actions[static_cast<size_t>(index)]; }

  CallOptions Call() const {
    CallOptions o;
    if (options_.call_timeout_ms > 0) o.deadline_ms = scheduler_->Now() + options_.call_timeout_ms;
    return o;
  }

  // The progress of an attempt that failed with `st`: retry later when it may succeed.
  StepProgress RetryOrFail(const Status& st, const StepContext& ctx) const {
    if (st.retryable() && ctx.attempt < options_.max_attempts) {
      return StepProgress::AgainAt(ctx.now + BackoffDelay(options_.retry(), ctx.attempt), st);
    }
    return StepProgress::Done(st);
  }

  // A wait that is not over: check again after the poll interval, or time out.
  StepProgress WaitOrTimeout(const StepContext& ctx, const std::string& what, const std::string& detail) const {
    if (ctx.now - ctx.first_started_at >= options_.timeout_ms) {
      return StepProgress::Done(Status::Timeout("timed out after " + Seconds(options_.timeout_ms) + " waiting for " + what +
                                                (detail.empty() ? "" : ": " + detail)));
    }
    return StepProgress::AgainAt(ctx.now + options_.poll_interval_ms,
                                 Status::Unavailable(detail.empty() ? what : detail));
  }

  CloudProvider* ProviderOf(const std::string& cluster) const {
    auto it = fleet_.provider_of_cluster.find(cluster);
    return it == fleet_.provider_of_cluster.end() ? nullptr : it->second;
  }

  StepProgress RecordPending(const ApplyStep& step) {
    std::vector<const Action*> actions;
    for (int i : step.actions) actions.push_back(&action(i));
    for (ApplyObserver* o : observers_) {
      Status st = o->BeforeActions(actions);
      if (!st.ok()) return StepProgress::Done(st.WithContext("recording the inventory before cluster " + step.cluster));
    }
    return StepProgress::Done(Status::Ok());
  }

  StepProgress StartOperation(StepId id, const ApplyStep& step, const StepContext& ctx) {
    const Action& a = action(step.action);
    CloudProvider* provider = ProviderOf(step.cluster);
    if (!provider) return StepProgress::Done(Status::Internal("no provider for cluster " + step.cluster));
    Result<Operation> op = Status::Internal("not started");
    if (a.type == ChangeType::kDelete) {
      op = provider->StartDeleteCluster(step.cluster, Call());
    } else {
      auto spec = fleet_.clusters.find(step.cluster);
      if (spec == fleet_.clusters.end()) return StepProgress::Done(Status::Internal("no spec for cluster " + step.cluster));
      op = provider->StartApplyCluster(*spec->second, Call());
    }
    if (!op.ok()) return RetryOrFail(op.status(), ctx);
    operations_[static_cast<size_t>(id)] = std::move(op).value();
    return StepProgress::Done(Status::Ok());
  }

  StepProgress AwaitOperation(StepId id, const ApplyStep& step, const StepContext& ctx) {
    CloudProvider* provider = ProviderOf(step.cluster);
    if (!provider) return StepProgress::Done(Status::Internal("no provider for cluster " + step.cluster));
    const Operation& op = step.resume ? *step.resume : *operations_[static_cast<size_t>(step.start)];
    std::string what = "cluster " + step.cluster + " (" + op.kind + " operation " + op.id + ")";
    Result<OperationStatus> st = provider->PollOperation(op, Call());
    if (!st.ok()) {
      if (st.status().IsNotFound() && step.resume) return StepProgress::Done(Status::Ok());  // long forgotten
      if (!st.status().retryable()) return StepProgress::Done(st.status().WithContext(what));
      return WaitOrTimeout(ctx, what, st.status().message());
    }
    if (st->state == OperationState::kRunning) return WaitOrTimeout(ctx, what, st->message);
    if (st->state == OperationState::kFailed) {
      return StepProgress::Done(Status::Unavailable(what + " failed" + (st->message.empty() ? "" : ": " + st->message), false));
    }
    if (op.kind != "delete" && !step.resume) {
      Result<Json> live = provider->GetCluster(step.cluster, Call());
      if (live.ok()) live_[static_cast<size_t>(id)] = std::make_shared<Json>(std::move(live).value());
    }
    return StepProgress::Done(Status::Ok());
  }

  StepProgress ClusterReady(const ApplyStep& step, const StepContext& ctx) {
    CloudProvider* provider = ProviderOf(step.cluster);
    if (!provider) return StepProgress::Done(Status::NotFound("cluster " + step.cluster + " is not declared"));
    std::string what = "cluster " + step.cluster + " to be Running";
    Result<Json> live = provider->GetCluster(step.cluster, Call());
    if (!live.ok()) {
      if (!live.status().retryable() && !live.status().IsNotFound()) return StepProgress::Done(live.status());
      return WaitOrTimeout(ctx, what, live.status().message());
    }
    HealthStatus h = AssessHealth(&live.value());
    if (h.health == Health::kHealthy) return StepProgress::Done(Status::Ok());
    if (h.health == Health::kDegraded) {
      return StepProgress::Done(Status::Unavailable("cluster " + step.cluster + " failed: " + h.message, false));
    }
    return WaitOrTimeout(ctx, what, h.message);
  }

  StepProgress ObjectAction(StepId id, const ApplyStep& step, const StepContext& ctx) {
    const Action& a = action(step.action);
    Result<ClusterConnector*> conn = fleet_.connect ? fleet_.connect(step.cluster, Call())
                                                    : Result<ClusterConnector*>(Status::Internal("no connector"));
    if (!conn.ok()) return RetryOrFail(conn.status().WithContext("cluster " + step.cluster), ctx);
    if (a.type == ChangeType::kDelete) {
      Status st = (*conn)->Delete(a.ref.key, Call());
      return st.ok() ? StepProgress::Done(st) : RetryOrFail(st, ctx);
    }
    Result<Json> live = (*conn)->Apply(*a.desired, Call());
    if (!live.ok()) return RetryOrFail(live.status(), ctx);
    live_[static_cast<size_t>(id)] = std::make_shared<Json>(std::move(live).value());
    return StepProgress::Done(Status::Ok());
  }

  StepProgress Healthy(const ApplyStep& step, const StepContext& ctx) {
    if (step.keys.empty()) return StepProgress::Done(Status::Ok());
    Result<ClusterConnector*> conn = fleet_.connect ? fleet_.connect(step.cluster, Call())
                                                    : Result<ClusterConnector*>(Status::Internal("no connector"));
    if (!conn.ok()) {
      if (!conn.status().retryable()) return StepProgress::Done(conn.status().WithContext("cluster " + step.cluster));
      return WaitOrTimeout(ctx, step.what, conn.status().message());
    }
    Result<std::vector<std::optional<Json>>> live = (*conn)->GetMany(step.keys, Call());
    if (!live.ok()) {
      if (!live.status().retryable()) return StepProgress::Done(live.status().WithContext("cluster " + step.cluster));
      return WaitOrTimeout(ctx, step.what, live.status().message());
    }
    for (size_t k = 0; k < step.keys.size(); k++) {
      const auto& obj = (*live)[k];
      HealthStatus h = AssessHealth(obj ? &*obj : nullptr);
      if (h.health != Health::kHealthy) {
        return WaitOrTimeout(ctx, step.what,
                             step.keys[k].ToString() + " is " + HealthName(h.health) +
                                 (h.message.empty() ? "" : ": " + h.message));
      }
    }
    return StepProgress::Done(Status::Ok());
  }

  Status FinishAction(StepId id, const ApplyStep& step, const Status& status) {
    ActionResult& r = results[static_cast<size_t>(step.action)];
    r.outcome = status.ok() ? ActionOutcome::kSucceeded : ActionOutcome::kFailed;
    r.status = status;
    const Json* live = live_[static_cast<size_t>(id)].get();
    for (ApplyObserver* o : observers_) {
      Status st = o->AfterAction(r, status.ok() ? live : nullptr);
      if (!st.ok() && status.ok()) {
        r.outcome = ActionOutcome::kFailed;
        r.status = st.WithContext("recording the inventory");
        return r.status;
      }
    }
    return status;
  }

  const Plan& plan_;
  const ApplyGraph& graph_;
  const FleetTargets& fleet_;
  const ApplyOptions& options_;
  const std::vector<ApplyObserver*>& observers_;
  Scheduler* scheduler_;
  std::vector<std::optional<Operation>> operations_;  // by kStartOperation step
  std::vector<std::shared_ptr<Json>> live_;           // by step: the live object after it
};

// Executor events -> ApplyObserver calls and the report's bookkeeping. Loop thread only.
class Reporter : public dag::ExecutionObserver {
 public:
  Reporter(const Plan& plan, const ApplyGraph& graph, ApplyRunner* runner, const std::vector<ApplyObserver*>& observers,
           Env* env, Scheduler* scheduler)
      : plan_(plan), graph_(graph), runner_(runner), observers_(observers), env_(env), scheduler_(scheduler) {}

  void StepStarted(StepId id, const StepContext& ctx) override {
    const ApplyStep& step = graph_.steps[static_cast<size_t>(id)];
    if (step.action < 0 || graph_.action_start[static_cast<size_t>(step.action)] != id || ctx.attempt != 1) return;
    ActionResult& r = runner_->results[static_cast<size_t>(step.action)];
    r.started_at = env_->NowMillis();
    for (ApplyObserver* o : observers_) o->ActionStarted(r.action);
  }

  void StepWaiting(StepId id, const Status& why, int64_t until) override {
    const ApplyStep& step = graph_.steps[static_cast<size_t>(id)];
    bool retry = step.kind == StepKind::kObjectAction || step.kind == StepKind::kStartOperation;
    if (retry) {
      int failed_attempt = ++failed_attempts_[id];
      for (ApplyObserver* o : observers_)
        o->Retrying(plan_.actions[static_cast<size_t>(step.action)], why, failed_attempt, until - scheduler_->Now());
      return;
    }
    if (announced_.insert(id).second) {
      for (ApplyObserver* o : observers_) o->Waiting(step.what);
    }
  }

  void StepFinished(StepId id, const dag::StepResult& result) override {
    const ApplyStep& step = graph_.steps[static_cast<size_t>(id)];
    bool ends_action = step.action >= 0 && graph_.action_end[static_cast<size_t>(step.action)] == id;
    if (ends_action) {
      ActionResult& r = runner_->results[static_cast<size_t>(step.action)];
      r.finished_at = env_->NowMillis();
      if (r.outcome == ActionOutcome::kFailed && result.outcome == dag::Outcome::kSkipped) return;  // its start failed
      r.attempts = result.attempts;
      if (result.outcome == dag::Outcome::kSkipped || result.outcome == dag::Outcome::kNotRun) {
        r.outcome = result.outcome == dag::Outcome::kSkipped ? ActionOutcome::kSkipped : ActionOutcome::kNotRun;
        r.status = result.status;
        for (ApplyObserver* o : observers_) {
          Status st = o->AfterAction(r, nullptr);
          if (!st.ok()) AddFailure({"recording " + r.action.ref.ToString(), st}, false);
        }
      }
      if (r.outcome == ActionOutcome::kFailed) AddFailure({r.action.ref.ToString(), r.status}, false);
      return;
    }
    // A step that is not an action's end: an operation start, a wait, a recording.
    if (result.outcome == dag::Outcome::kFailed) {
      if (step.action >= 0) {  // the start of a Cluster action: the action fails with it
        ActionResult& r = runner_->results[static_cast<size_t>(step.action)];
        r.outcome = ActionOutcome::kFailed;
        r.status = result.status;
        r.attempts = result.attempts;
        for (ApplyObserver* o : observers_) {
          Status st = o->AfterAction(r, nullptr);
          if (!st.ok()) AddFailure({"recording " + r.action.ref.ToString(), st}, false);
        }
        AddFailure({r.action.ref.ToString(), r.status}, false);
        return;
      }
      AddFailure({step.what, result.status}, true);
    }
  }

  void AddFailure(StepFailure failure, bool tell) {
    if (tell) {
      for (ApplyObserver* o : observers_) o->StepFailed(failure);
    }
    failures.push_back(std::move(failure));
  }

  std::vector<StepFailure> failures;

 private:
  const Plan& plan_;
  const ApplyGraph& graph_;
  ApplyRunner* runner_;
  const std::vector<ApplyObserver*>& observers_;
  Env* env_;
  Scheduler* scheduler_;
  std::set<StepId> announced_;
  std::map<StepId, int> failed_attempts_;
};

}  // namespace

ApplyReport ExecutePlan(const Plan& plan, const FleetTargets& fleet, const ApplyOptions& options,
                        const std::vector<ApplyObserver*>& observers, Env* env) {
  ApplyReport report;
  ApplyGraph graph = apply_internal::BuildApplyGraph(plan, fleet, options);
  for (const Action& a : plan.actions) {
    ActionResult r;
    r.action = a;
    r.status = Status::Unavailable("not run", false);
    report.results.push_back(std::move(r));
  }
  if (Status acyclic = graph.graph.CheckAcyclic(); !acyclic.ok()) {
    report.status = acyclic;
    report.not_run = static_cast<int>(plan.actions.size());
    return report;
  }
  std::unique_ptr<Scheduler> scheduler = env->NewScheduler(std::max(1, options.parallelism));
  ApplyRunner runner(plan, graph, fleet, options, observers, scheduler.get());
  runner.results = report.results;
  Reporter reporter(plan, graph, &runner, observers, env, scheduler.get());
  dag::Executor executor(graph.graph, &runner, scheduler.get(), dag::ExecutorOptions{graph.pool_capacity, options.stop});
  for (ApplyObserver* o : observers) o->PlanStarting(plan);
  for (ApplyObserver* o : observers) o->RunStarted(scheduler.get());
  executor.Run(&reporter);

  for (ApplyObserver* o : observers) {
    Status st = o->Flush();
    if (!st.ok()) reporter.AddFailure({"recording the run", st}, true);
  }
  report.results = std::move(runner.results);
  report.failures = std::move(reporter.failures);
  report.interrupted = executor.stopped();
  for (const ActionResult& r : report.results) {
    switch (r.outcome) {
      case ActionOutcome::kSucceeded: report.succeeded++; break;
      case ActionOutcome::kFailed: report.failed++; break;
      case ActionOutcome::kSkipped: report.skipped++; break;
      case ActionOutcome::kNotRun: report.not_run++; break;
    }
  }
  if (report.interrupted) {
    report.status = Status::Unavailable("interrupted: " + std::to_string(report.succeeded + report.failed) + " of " +
                                            std::to_string(report.results.size()) + " actions ran, " +
                                            std::to_string(report.not_run) + " were not started",
                                        false);
  } else if (!report.failures.empty()) {
    report.status = report.failures.front().status.WithContext(report.failures.front().step);
  }
  return report;
}

}  // namespace converge
