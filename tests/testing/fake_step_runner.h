// FakeStepRunner: a dag::StepRunner for tests of the executor and of what runs on it. Each step's
// attempts are scripted by name (done with a status, or again at a later time); the runner records
// the order steps started in, and how many ran at once overall and per pool (a step can be told to
// hold until that many run at once, so concurrency bounds are checked without timing). Thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/dag/executor.h"

namespace converge::testing {

class FakeStepRunner : public dag::StepRunner {
 public:
  struct Attempt {
    bool done = true;
    Status status;       // done: the result; again: why
    int64_t delay = 0;   // again: run again this long after the attempt started
  };

  explicit FakeStepRunner(const dag::Graph& graph) : graph_(graph) {}

  // The attempts of step `name`, in order; once they run out the step succeeds.
  void Script(const std::string& name, std::vector<Attempt> attempts) {
    std::lock_guard<std::mutex> lock(mu_);
    scripts_[name] = std::move(attempts);
  }
  // Every step's first attempt waits until `n` steps run at once (or 10 s pass, which fails the
  // test by leaving max_running() below n). Use only where n steps can indeed run together.
  void HoldUntilRunning(int n) { hold_until_ = n; }
  // Calls `fn` (on the worker) when step `name` starts its first attempt, e.g. to request a stop.
  void OnStart(const std::string& name, std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(mu_);
    on_start_[name] = std::move(fn);
  }

  dag::StepProgress Run(dag::StepId step, const dag::StepContext& ctx) override {
    const std::string& name = graph_.name(step);
    std::function<void()> hook;
    Attempt attempt;
    {
      std::unique_lock<std::mutex> lock(mu_);
      started_.push_back(name);
      attempts_[name]++;
      running_++;
      max_running_ = std::max(max_running_, running_);
      for (const std::string& pool : graph_.spec(step).pools) {
        int& n = pool_running_[pool];
        n++;
        pool_max_[pool] = std::max(pool_max_[pool], n);
      }
      if (ctx.attempt == 1 && on_start_.count(name)) hook = on_start_[name];
      if (hold_until_ > 0 && ctx.attempt == 1) {
        cv_.notify_all();
        cv_.wait_for(lock, std::chrono::seconds(10), [&] { return running_ >= hold_until_ || released_; });
        released_ = true;  // once reached, nobody waits again
        cv_.notify_all();
      }
      auto it = scripts_.find(name);
      if (it != scripts_.end() && !it->second.empty()) {
        attempt = it->second.front();
        it->second.erase(it->second.begin());
      }
    }
    if (hook) hook();
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_--;
      for (const std::string& pool : graph_.spec(step).pools) pool_running_[pool]--;
    }
    if (!attempt.done) return dag::StepProgress::AgainAt(ctx.now + attempt.delay, attempt.status);
    return dag::StepProgress::Done(attempt.status);
  }

  std::vector<std::string> started() const {
    std::lock_guard<std::mutex> lock(mu_);
    return started_;
  }
  int attempts(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = attempts_.find(name);
    return it == attempts_.end() ? 0 : it->second;
  }
  int max_running() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_running_;
  }
  int pool_max(const std::string& pool) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pool_max_.find(pool);
    return it == pool_max_.end() ? 0 : it->second;
  }

 private:
  const dag::Graph& graph_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<Attempt>> scripts_;
  std::map<std::string, std::function<void()>> on_start_;
  std::vector<std::string> started_;
  std::map<std::string, int> attempts_;
  int running_ = 0, max_running_ = 0;
  std::map<std::string, int> pool_running_, pool_max_;
  int hold_until_ = 0;
  bool released_ = false;
};

}  // namespace converge::testing
