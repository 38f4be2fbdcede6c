// Apply: runs a Plan through the providers.
//   - Cluster creates/updates first (started on the provider, which finishes them asynchronously),
//     then each cluster's objects on a worker (at most `parallelism` clusters at once), in plan
//     order; a cluster's objects wait for the cluster to be Running within the same apply; between
//     sync waves the previous wave must be healthy; then deletes (prune), Cluster deletes last (each
//     waited for until its operation ends).
//   - Every provider call has a deadline of call_timeout_ms (CallOptions).
//   - Retryable provider errors are retried with exponential backoff (Env clock, so tests use a
//     fake clock); other errors fail that action and the rest of that cluster's actions are skipped.
//   - Every action is announced to the InventoryRecorder before its effect (one batch per cluster)
//     and after it, so the store knows about an object before it exists live.
// ExecutePlan is called from one thread; it calls the recorder and observer from worker threads,
// serialized (never two calls at once).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/plan/plan.h"
#include "providers/provider.h"

namespace converge {

class Env;

struct ApplyOptions {
  int parallelism = 4;          // clusters worked on at once
  bool wait = false;            // wait for every applied object (and cluster) to be healthy
  int64_t timeout_ms = 300'000; // for each wait (cluster ready, wave health, final health)
  int max_attempts = 6;         // per provider call, retryable errors only
  int64_t backoff_initial_ms = 200;
  int64_t backoff_max_ms = 5'000;
  int64_t poll_interval_ms = 250;
  int64_t call_timeout_ms = 30'000;  // deadline of each provider call (CallOptions); 0 = none
};

// Told about actions before and after their effect (implemented over the Store).
class InventoryRecorder {
 public:
  virtual ~InventoryRecorder() = default;
  // Called with every action about to run on one cluster (or one fleet-level action), before the
  // first of them takes effect; must be durable when it returns.
  virtual Status BeforeActions(const std::vector<const Action*>& actions) = 0;
  // `live` is the object after apply (null for deletes). May be buffered until Flush: the rows were
  // made durable by BeforeActions, so a crash before Flush loses nothing the next run cannot see.
  virtual Status AfterAction(const Action& action, const Json* live) = 0;
  virtual Status Flush() { return Status::Ok(); }
};

// Progress of a run (terminal printer, history). Calls are serialized.
class ApplyObserver {
 public:
  virtual ~ApplyObserver() = default;
  virtual void ActionStarted(const Action& action) { (void)action; }
  virtual void ActionFinished(const Action& action, const Status& status) { (void)action, (void)status; }
  virtual void Waiting(const std::string& what) { (void)what; }
  virtual void Retrying(const Action& action, const Status& status, int attempt, int64_t delay_ms) {
    (void)action, (void)status, (void)attempt, (void)delay_ms;
  }
};

// Where actions go: the provider of each cluster's cloud, the typed specs, and the registry whose
// connectors reach the clusters' endpoints.
struct FleetTargets {
  std::map<std::string, CloudProvider*> provider_of_cluster;  // Cluster name -> its cloud's provider
  std::map<std::string, const ClusterSpec*> clusters;         // Cluster name -> spec (desired ones)
  const ProviderRegistry* registry = nullptr;                 // null: ProviderRegistry::Global()
  ProviderContext context;                                    // for ProviderRegistry::Connect
};

enum class ActionOutcome { kSucceeded, kFailed, kSkipped };

struct ActionResult {
  Action action;
  ActionOutcome outcome = ActionOutcome::kSkipped;
  Status status;
};

struct ApplyReport {
  std::vector<ActionResult> results;  // in plan order
  int succeeded = 0, failed = 0, skipped = 0;
  Status status;                      // first failure, or a wait timeout; ok when all succeeded
};

// Runs `plan`. Never throws; failures are in the report.
ApplyReport ExecutePlan(const Plan& plan, const FleetTargets& fleet, const ApplyOptions& options,
                        InventoryRecorder* recorder, ApplyObserver* observer, Env* env);

// Calls `fn` until it succeeds, fails with a non-retryable error, or max_attempts is reached,
// sleeping with exponential backoff (initial, doubling, capped) on the Env between attempts.
Status RetryWithBackoff(const ApplyOptions& options, Env* env, const std::function<Status()>& fn,
                        const std::function<void(const Status&, int, int64_t)>& on_retry = nullptr);

}  // namespace converge
