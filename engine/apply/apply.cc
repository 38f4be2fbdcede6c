#include "engine/apply/apply.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/base/env.h"
#include "engine/health/health.h"
#include "providers/connect.h"
#include "providers/deadline.h"

namespace converge {

Status RetryWithBackoff(const ApplyOptions& options, Env* env, const std::function<Status()>& fn,
                        const std::function<void(const Status&, int, int64_t)>& on_retry) {
  int64_t delay = options.backoff_initial_ms;
  Status st;
  for (int attempt = 1;; attempt++) {
    st = fn();
    if (st.ok() || !st.retryable() || attempt >= options.max_attempts) return st;
    if (on_retry) on_retry(st, attempt, delay);
    env->SleepMillis(delay);
    delay = std::min(delay * 2, options.backoff_max_ms);
  }
}

namespace {

bool IsClusterAction(const Action& a) { return a.ref.cluster.empty() && a.ref.key.kind == "Cluster"; }

// Serializes recorder and observer calls coming from worker threads.
class Reporter {
 public:
  Reporter(InventoryRecorder* recorder, ApplyObserver* observer) : recorder_(recorder), observer_(observer) {}

  Status BeforeAll(const std::vector<const Action*>& actions) {
    std::lock_guard<std::mutex> lock(mu_);
    return recorder_ ? recorder_->BeforeActions(actions) : Status::Ok();
  }
  void Started(const Action& a) {
    std::lock_guard<std::mutex> lock(mu_);
    if (observer_) observer_->ActionStarted(a);
  }
  Status Flush() {
    std::lock_guard<std::mutex> lock(mu_);
    return recorder_ ? recorder_->Flush() : Status::Ok();
  }
  Status After(const Action& a, const Json* live) {
    std::lock_guard<std::mutex> lock(mu_);
    return recorder_ ? recorder_->AfterAction(a, live) : Status::Ok();
  }
  void Finished(const Action& a, const Status& st) {
    std::lock_guard<std::mutex> lock(mu_);
    if (observer_) observer_->ActionFinished(a, st);
  }
  void Waiting(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (observer_) observer_->Waiting(what);
  }
  void Retrying(const Action& a, const Status& st, int attempt, int64_t delay) {
    std::lock_guard<std::mutex> lock(mu_);
    if (observer_) observer_->Retrying(a, st, attempt, delay);
  }

 private:
  std::mutex mu_;
  InventoryRecorder* recorder_;
  ApplyObserver* observer_;
};

class Runner {
 public:
  Runner(const Plan& plan, const FleetTargets& fleet, const ApplyOptions& options, Reporter* reporter, Env* env)
      : plan_(plan), fleet_(fleet), options_(options), reporter_(reporter), env_(env) {
    results_.resize(plan.actions.size());
    for (size_t i = 0; i < plan.actions.size(); i++) {
      results_[i].action = plan.actions[i];
      results_[i].status = Status::Unavailable("not run: an earlier action failed", false);
    }
  }

  ApplyReport Run() {
    std::vector<size_t> cluster_applies, cluster_deletes;
    std::map<std::string, std::vector<size_t>> per_cluster;
    for (size_t i = 0; i < plan_.actions.size(); i++) {
      const Action& a = plan_.actions[i];
      if (IsClusterAction(a)) {
        (a.type == ChangeType::kDelete ? cluster_deletes : cluster_applies).push_back(i);
      } else {
        per_cluster[a.ref.cluster].push_back(i);
      }
    }

    for (size_t i : cluster_applies) RunClusterAction(i);
    RunClusters(per_cluster);
    Status flushed = reporter_->Flush();
    for (size_t i : cluster_deletes) RunClusterAction(i);

    ApplyReport report;
    Status first_failure;
    for (ActionResult& r : results_) {
      if (r.outcome == ActionOutcome::kSucceeded) report.succeeded++;
      if (r.outcome == ActionOutcome::kFailed) {
        report.failed++;
        if (first_failure.ok()) first_failure = r.status.WithContext(r.action.ref.ToString());
      }
      if (r.outcome == ActionOutcome::kSkipped) report.skipped++;
    }
    if (first_failure.ok() && !flushed.ok()) first_failure = flushed.WithContext("recording the inventory");
    if (first_failure.ok() && options_.wait) first_failure = WaitAllHealthy();
    report.status = first_failure;
    report.results = std::move(results_);
    return report;
  }

 private:
  CloudProvider* ProviderOf(const std::string& cluster) const {
    auto it = fleet_.provider_of_cluster.find(cluster);
    return it == fleet_.provider_of_cluster.end() ? nullptr : it->second;
  }

  // Options of one provider call.
  CallOptions Call() const { return CallWithin(env_, options_.call_timeout_ms); }

  Result<std::unique_ptr<ClusterConnector>> Connect(const std::string& cluster) const {
    CloudProvider* provider = ProviderOf(cluster);
    if (!provider) return Status::NotFound("cluster " + cluster + " is not declared");
    const ProviderRegistry& registry = fleet_.registry ? *fleet_.registry : ProviderRegistry::Global();
    return ConnectToCluster(*provider, registry, fleet_.context, cluster, Call());
  }

  // Polls a cluster operation until it ends.
  Status WaitOperation(CloudProvider* provider, const Operation& op) {
    int64_t deadline = env_->NowMillis() + options_.timeout_ms;
    bool announced = false;
    while (true) {
      Result<OperationStatus> st = provider->PollOperation(op, Call());
      if (st.ok() && st->state == OperationState::kSucceeded) return Status::Ok();
      if (st.ok() && st->state == OperationState::kFailed) {
        return Status::Unavailable(op.kind + " of cluster " + op.cluster + " failed: " + st->message, false);
      }
      if (!st.ok() && !st.status().retryable()) return st.status();
      if (env_->NowMillis() >= deadline) {
        return Status::Timeout("timed out after " + std::to_string(options_.timeout_ms / 1000) + "s waiting for the " +
                               op.kind + " of cluster " + op.cluster +
                               (st.ok() && !st->message.empty() ? " (" + st->message + ")" : ""));
      }
      if (!announced) {
        reporter_->Waiting("the " + op.kind + " of cluster " + op.cluster);
        announced = true;
      }
      env_->SleepMillis(options_.poll_interval_ms);
    }
  }

  void Finish(size_t i, const Status& st) {
    results_[i].status = st;
    results_[i].outcome = st.ok() ? ActionOutcome::kSucceeded : ActionOutcome::kFailed;
    reporter_->Finished(results_[i].action, st);
  }

  Status Retry(const Action& a, const std::function<Status()>& fn) {
    return RetryWithBackoff(options_, env_, fn, [&](const Status& st, int attempt, int64_t delay) {
      reporter_->Retrying(a, st, attempt, delay);
    });
  }

  void RunClusterAction(size_t i) {
    const Action& a = plan_.actions[i];
    const std::string& name = a.ref.key.name;
    CloudProvider* provider = ProviderOf(name);
    if (!provider) {
      Finish(i, Status::Internal("no provider for cluster " + name));
      return;
    }
    Status st = reporter_->BeforeAll({&a});
    reporter_->Started(a);
    if (st.ok()) {
      if (a.type == ChangeType::kDelete) {
        Result<Operation> op = Status::Internal("not started");
        st = Retry(a, [&] {
          op = provider->StartDeleteCluster(name, Call());
          return op.status();
        });
        if (st.ok()) st = WaitOperation(provider, *op);
      } else {
        auto spec = fleet_.clusters.find(name);
        if (spec == fleet_.clusters.end()) {
          st = Status::Internal("no spec for cluster " + name);
        } else {
          st = Retry(a, [&] { return provider->StartApplyCluster(*spec->second, Call()).status(); });
        }
      }
    }
    if (st.ok()) {
      Result<Json> live = provider->GetCluster(name, Call());
      st = reporter_->After(a, live.ok() ? &live.value() : nullptr);
    }
    if (st.ok()) st = reporter_->Flush();
    if (!st.ok()) failed_clusters_.insert(name);
    Finish(i, st);
  }

  // Polls the cluster until it is Running.
  Status WaitClusterRunning(const std::string& cluster) {
    CloudProvider* provider = ProviderOf(cluster);
    if (!provider) return Status::NotFound("cluster " + cluster + " is not declared");
    int64_t deadline = env_->NowMillis() + options_.timeout_ms;
    bool announced = false;
    while (true) {
      Result<Json> live = provider->GetCluster(cluster, Call());
      std::string phase;
      if (live.ok()) {
        HealthStatus h = AssessHealth(&live.value());
        if (h.health == Health::kHealthy) return Status::Ok();
        if (h.health == Health::kDegraded) return Status::Unavailable("cluster " + cluster + " failed: " + h.message, false);
        phase = h.message;
      } else if (!live.status().retryable() && !live.status().IsNotFound()) {
        return live.status();
      }
      if (env_->NowMillis() >= deadline) {
        return Status::Timeout("timed out after " + std::to_string(options_.timeout_ms / 1000) +
                               "s waiting for cluster " + cluster + " to be Running" +
                               (phase.empty() ? "" : " (" + phase + ")"));
      }
      if (!announced) {
        reporter_->Waiting("cluster " + cluster + " to be Running");
        announced = true;
      }
      env_->SleepMillis(options_.poll_interval_ms);
    }
  }

  // Polls until every key is Healthy on the connector.
  Status WaitHealthy(const std::string& cluster, ClusterConnector* conn, const std::vector<ObjectKey>& keys,
                     const std::string& what) {
    if (keys.empty()) return Status::Ok();
    int64_t deadline = env_->NowMillis() + options_.timeout_ms;
    bool announced = false;
    while (true) {
      std::string worst;
      Result<std::vector<std::optional<Json>>> live = conn->GetMany(keys, Call());
      if (live.ok()) {
        for (size_t k = 0; k < keys.size(); k++) {
          const auto& obj = (*live)[k];
          HealthStatus h = AssessHealth(obj ? &*obj : nullptr);
          if (h.health != Health::kHealthy) {
            worst = keys[k].ToString() + " is " + HealthName(h.health) + (h.message.empty() ? "" : ": " + h.message);
            break;
          }
        }
        if (worst.empty()) return Status::Ok();
      } else if (!live.status().retryable()) {
        return live.status().WithContext("cluster " + cluster);
      } else {
        worst = live.status().message();
      }
      if (env_->NowMillis() >= deadline) {
        return Status::Timeout("timed out after " + std::to_string(options_.timeout_ms / 1000) + "s waiting for " +
                               what + " on cluster " + cluster + ": " + worst);
      }
      if (!announced) {
        reporter_->Waiting(what + " on cluster " + cluster + " to be healthy");
        announced = true;
      }
      env_->SleepMillis(options_.poll_interval_ms);
    }
  }

  void SkipAll(const std::vector<size_t>& idx, size_t from, const Status& why) {
    for (size_t k = from; k < idx.size(); k++) {
      results_[idx[k]].outcome = ActionOutcome::kSkipped;
      results_[idx[k]].status = why;
    }
  }

  void RunCluster(const std::string& cluster, const std::vector<size_t>& idx) {
    if (failed_clusters_.count(cluster)) {
      SkipAll(idx, 0, Status::Unavailable("cluster " + cluster + " could not be created or updated", false));
      return;
    }
    // Deletes on a cluster that is going away need no readiness; everything else does.
    Status st = WaitClusterRunning(cluster);
    if (!st.ok()) {
      results_[idx[0]].outcome = ActionOutcome::kFailed;
      results_[idx[0]].status = st;
      reporter_->Finished(results_[idx[0]].action, st);
      SkipAll(idx, 1, Status::Unavailable("cluster " + cluster + " is not available", false));
      return;
    }
    Result<std::unique_ptr<ClusterConnector>> conn = Connect(cluster);
    if (!conn.ok()) {
      SkipAll(idx, 1, Status::Unavailable("cluster " + cluster + " is not reachable", false));
      Finish(idx[0], conn.status().ok() ? Status::Internal("no connector") : conn.status());
      return;
    }
    std::vector<const Action*> batch;
    for (size_t i : idx) batch.push_back(&plan_.actions[i]);
    if (Status bs = reporter_->BeforeAll(batch); !bs.ok()) {
      SkipAll(idx, 0, bs);
      return;
    }
    std::vector<ObjectKey> wave_keys;
    int current_wave = 0;
    bool first = true;
    for (size_t k = 0; k < idx.size(); k++) {
      const Action& a = plan_.actions[idx[k]];
      if (a.type != ChangeType::kDelete) {
        if (!first && a.wave != current_wave) {
          Status hs = WaitHealthy(cluster, conn->get(), wave_keys, "sync wave " + std::to_string(current_wave));
          if (!hs.ok()) {
            results_[idx[k]].outcome = ActionOutcome::kFailed;
            results_[idx[k]].status = hs;
            reporter_->Finished(a, hs);
            SkipAll(idx, k + 1, Status::Unavailable("an earlier sync wave did not become healthy", false));
            return;
          }
          wave_keys.clear();
        }
        first = false;
        current_wave = a.wave;
      }
      reporter_->Started(a);
      Status s;
      Result<Json> live = Status::Ok();
      {
        if (a.type == ChangeType::kDelete) {
          s = Retry(a, [&] { return (*conn)->Delete(a.ref.key, Call()); });
        } else {
          s = Retry(a, [&] {
            live = (*conn)->Apply(*a.desired, Call());
            return live.status();
          });
        }
      }
      if (s.ok()) s = reporter_->After(a, a.type == ChangeType::kDelete || !live.ok() ? nullptr : &live.value());
      Finish(idx[k], s);
      if (!s.ok()) {
        SkipAll(idx, k + 1, Status::Unavailable("not run: " + a.ref.ToString() + " failed before it", false));
        return;
      }
      if (a.type != ChangeType::kDelete) {
        wave_keys.push_back(a.ref.key);
        std::lock_guard<std::mutex> lock(applied_mu_);
        applied_[cluster].push_back(a.ref.key);
      }
    }
  }

  void RunClusters(const std::map<std::string, std::vector<size_t>>& per_cluster) {
    std::vector<const std::pair<const std::string, std::vector<size_t>>*> work;
    for (const auto& entry : per_cluster) work.push_back(&entry);
    std::atomic<size_t> next{0};
    auto worker = [&] {
      while (true) {
        size_t w = next++;
        if (w >= work.size()) return;
        RunCluster(work[w]->first, work[w]->second);
      }
    };
    int n = std::max(1, std::min<int>(options_.parallelism, static_cast<int>(work.size())));
    std::vector<std::thread> threads;
    for (int t = 1; t < n; t++) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
  }

  Status WaitAllHealthy() {
    for (const auto& [name, spec] : fleet_.clusters) {
      (void)spec;
      Status st = WaitClusterRunning(name);
      if (!st.ok()) return st;
    }
    for (const auto& [cluster, keys] : applied_) {
      Result<std::unique_ptr<ClusterConnector>> conn = Connect(cluster);
      if (!conn.ok()) return conn.status();
      Status st = WaitHealthy(cluster, conn->get(), keys, "applied objects");
      if (!st.ok()) return st;
    }
    return Status::Ok();
  }

  const Plan& plan_;
  const FleetTargets& fleet_;
  const ApplyOptions& options_;
  Reporter* reporter_;
  Env* env_;
  std::vector<ActionResult> results_;
  std::set<std::string> failed_clusters_;
  std::mutex applied_mu_;
  std::map<std::string, std::vector<ObjectKey>> applied_;
};

}  // namespace

ApplyReport ExecutePlan(const Plan& plan, const FleetTargets& fleet, const ApplyOptions& options,
                        InventoryRecorder* recorder, ApplyObserver* observer, Env* env) {
  Reporter reporter(recorder, observer);
  Runner runner(plan, fleet, options, &reporter, env);
  return runner.Run();
}

}  // namespace converge
