// Apply: runs a Plan through the providers as a DAG on the shared executor (engine/dag).
// The plan becomes steps and edges (apply_graph.h says exactly which):
//   - a Cluster create/update starts a cloud operation (its id recorded by the observers) and
//     polls it; the cluster's objects wait for it to be Running;
//   - before a cluster's first object action, its inventory rows are recorded pending (one
//     durable batch), so the store knows about an object before it exists live;
//   - Namespaces and CRDs precede the objects that live in or are defined by them, depends-on
//     adds edges, and each sync wave waits for the previous one to be healthy;
//   - prune deletes follow the cluster's applies, Namespaces and CRDs last; Cluster deletes run
//     after every object step;
//   - at most `parallelism` provider calls run at once across the fleet, and at most
//     `cluster_parallelism` per cluster; a cluster's steps start in plan order.
// Waits (cluster Running, wave health, --wait) and retries with exponential backoff are timers
// on the scheduler, not sleeping threads. A failure skips only what depends on it; each skipped
// action says which failure it waited on. When `stop` is set (SIGINT/SIGTERM) nothing new
// starts, running calls finish, and the report says what ran.
// ExecutePlan is called from one thread; observers are called on that thread, one at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/base/retry.h"
#include "engine/base/status.h"
#include "engine/plan/plan.h"
#include "providers/provider.h"

namespace converge {

class Env;
class Scheduler;

struct ApplyOptions {
  int parallelism = 4;             // provider calls in flight across the fleet
  int cluster_parallelism = 1;     // provider calls in flight per cluster
  bool wait = false;               // wait for every applied object (and cluster) to be healthy
  int64_t timeout_ms = 300'000;    // for each wait (operation, cluster Running, wave health, final health)
  int max_attempts = 6;            // per provider call, retryable errors only
  int64_t backoff_initial_ms = 200;
  int64_t backoff_max_ms = 5'000;
  int64_t poll_interval_ms = 250;  // between checks of a wait
  int64_t call_timeout_ms = 30'000;  // deadline of each provider call
  std::atomic<bool>* stop = nullptr;  // set to stop starting new steps (signals, a lost lease)

  RetryPolicy retry() const { return RetryPolicy{max_attempts, backoff_initial_ms, backoff_max_ms}; }
};

enum class ActionOutcome { kSucceeded, kFailed, kSkipped, kNotRun };

const char* ActionOutcomeName(ActionOutcome outcome);  // "succeeded", "failed", "skipped", "not run"

struct ActionResult {
  Action action;
  ActionOutcome outcome = ActionOutcome::kNotRun;
  Status status;            // failed: the error; skipped: the failure it waited on; not run: why
  int attempts = 0;
  int64_t started_at = 0;   // wall-clock ms; 0 when it never started
  int64_t finished_at = 0;
};

// A step that failed: an action, or a wait no action owns (a sync wave's health, a cluster that
// never became Running, --wait).
struct StepFailure {
  std::string step;  // e.g. "prod-1: Deployment/web/api", "sync wave 1 on cluster prod-1 to be healthy"
  Status status;
};

struct ApplyReport {
  std::vector<ActionResult> results;  // in plan order
  int succeeded = 0, failed = 0, skipped = 0, not_run = 0;
  std::vector<StepFailure> failures;  // in the order they happened
  bool interrupted = false;           // `stop` cut the run short
  Status status;  // the first failure (naming its step), else ok; Unavailable when interrupted
};

// Observes a run: the inventory recorder, the run log, events and the progress printer are
// observers. The Status-returning hooks are durable: a failure fails the action (before its
// effect, or when its result cannot be recorded) and is shown to the user. Calls come from the
// thread that runs ExecutePlan, one at a time.
class ApplyObserver {
 public:
  virtual ~ApplyObserver() = default;
  // The run is about to start on `scheduler` (e.g. to renew a lease on a timer). Timers left
  // pending when the run ends are dropped.
  virtual void RunStarted(Scheduler* scheduler) { (void)scheduler; }
  // The plan the run executes, just before RunStarted (e.g. for a progress total).
  virtual void PlanStarting(const Plan& plan) { (void)plan; }
  // Every action about to run on one cluster (or one fleet-level action), before the first of
  // them takes effect; must be durable when it returns.
  virtual Status BeforeActions(const std::vector<const Action*>& actions) {
    (void)actions;
    return Status::Ok();
  }
  // A cloud operation started for a Cluster action; its id must be durable when this returns.
  virtual Status OperationStarted(const Action& action, const Operation& operation) {
    (void)action, (void)operation;
    return Status::Ok();
  }
  // A cloud operation ended (`result` ok when it succeeded), including one an earlier run started.
  virtual Status OperationFinished(const Operation& operation, const Status& result) {
    (void)operation, (void)result;
    return Status::Ok();
  }
  // The end of every action, whatever its outcome. `live` is the object after a successful
  // apply (null otherwise). May buffer until Flush.
  virtual Status AfterAction(const ActionResult& result, const Json* live) {
    (void)result, (void)live;
    return Status::Ok();
  }
  // The end of the run: write what was buffered.
  virtual Status Flush() { return Status::Ok(); }

  virtual void ActionStarted(const Action& action) { (void)action; }
  virtual void Retrying(const Action& action, const Status& status, int attempt, int64_t delay_ms) {
    (void)action, (void)status, (void)attempt, (void)delay_ms;
  }
  virtual void Waiting(const std::string& what) { (void)what; }
  virtual void StepFailed(const StepFailure& failure) { (void)failure; }
};

// Where actions go.
struct FleetTargets {
  std::map<std::string, CloudProvider*> provider_of_cluster;  // Cluster name -> its cloud's provider
  std::map<std::string, const ClusterSpec*> clusters;         // desired Clusters
  // A connector for a cluster's objects (cached by the caller); called from worker threads. The
  // options carry the deadline of the call that needs it.
  std::function<Result<ClusterConnector*>(const std::string& cluster, const CallOptions& options)> connect;
  // Cloud operations a previous run started and did not see finish, per cluster: polled to their
  // end before anything new starts on that cluster.
  std::map<std::string, std::vector<Operation>> unfinished_operations;
};

// Runs `plan`. Never throws; failures are in the report.
ApplyReport ExecutePlan(const Plan& plan, const FleetTargets& fleet, const ApplyOptions& options,
                        const std::vector<ApplyObserver*>& observers, Env* env);


}  // namespace converge
