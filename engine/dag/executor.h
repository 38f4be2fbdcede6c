// Executor: runs a Graph on a Scheduler, as ninja's Builder runs its Plan. The ready set decides
// what may start; a StepRunner does each step's work on a worker thread (or on the loop thread for
// on_loop_thread steps); a step that must wait (a health check to repeat, a retry after backoff)
// returns AgainAt and is re-run by a timer on the scheduler, holding no thread and no pool slot
// meanwhile. A failure skips only the steps that need it, each naming the failure it waited on.
// When `stop` becomes true (SIGINT/SIGTERM) nothing new starts, waiting steps are cancelled, steps
// already running finish, and every step ends with a result.
// Observers and StepRunner::Finish are called on the loop thread, one at a time. An Executor runs
// once, from one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/dag/graph.h"
#include "engine/dag/ready_set.h"

namespace converge {
class Scheduler;
}

namespace converge::dag {

// What a step's runner is told about the attempt it is making.
struct StepContext {
  int attempt = 1;              // 1 on the first run, then 2, 3... after each AgainAt
  int64_t first_started_at = 0; // scheduler (monotonic) time of the first attempt: deadlines start here
  int64_t now = 0;              // scheduler time when this attempt started
};

// What one run of a step returns.
struct StepProgress {
  enum class Kind { kDone, kAgainAt };
  Kind kind = Kind::kDone;
  Status status;   // kDone: the result; kAgainAt: why it is not done yet (shown while it waits)
  int64_t at = 0;  // kAgainAt: the scheduler time at which to run the step again

  static StepProgress Done(Status status) { return StepProgress{Kind::kDone, std::move(status), 0}; }
  static StepProgress AgainAt(int64_t at, Status why) { return StepProgress{Kind::kAgainAt, std::move(why), at}; }
};

class StepRunner {
 public:
  virtual ~StepRunner() = default;
  // One attempt of `step`. Runs on a worker thread, except for on_loop_thread steps; may block on
  // I/O. Must be safe to call for different steps at once.
  virtual StepProgress Run(StepId step, const StepContext& context) = 0;
  // On the loop thread, once Run returned Done and before any dependent is released: the step's
  // final status (e.g. after its effect was recorded durably; a failure to record fails the step).
  virtual Status Finish(StepId step, const Status& status) {
    (void)step;
    return status;
  }
};

struct StepResult {
  Outcome outcome = Outcome::kPending;
  Status status;               // failed: the error; skipped: which failure it waited on; not run: why
  StepId cause = kNoStep;      // skipped: the failed step at the root
  int attempts = 0;
  int64_t started_at = 0;      // scheduler time of the first attempt; 0 if never started
  int64_t finished_at = 0;
};

class ExecutionObserver {
 public:
  virtual ~ExecutionObserver() = default;
  // Each attempt of a step, just before it runs.
  virtual void StepStarted(StepId step, const StepContext& context) {
    (void)step, (void)context;
  }
  // A step returned AgainAt: it waits until `until` because of `why`.
  virtual void StepWaiting(StepId step, const Status& why, int64_t until) {
    (void)step, (void)why, (void)until;
  }
  // Every step's end, including skipped and not-run steps.
  virtual void StepFinished(StepId step, const StepResult& result) {
    (void)step, (void)result;
  }
};

struct ExecutorOptions {
  // Slots per pool (see StepSpec::pools); pools not listed are unbounded.
  std::map<std::string, int> pool_capacity;
  // Set (e.g. from a signal handler) to stop the run; read at least every
  // Scheduler::kMaxBlockMillis of real time.
  const std::atomic<bool>* stop = nullptr;
};

class Executor {
 public:
  Executor(const Graph& graph, StepRunner* runner, Scheduler* scheduler, ExecutorOptions options);

  // Runs the graph to the end and returns every step's result, indexed by StepId. The graph must
  // be acyclic (Graph::CheckAcyclic); steps of a cycle would end as not run.
  std::vector<StepResult> Run(ExecutionObserver* observer = nullptr);
  // Whether `stop` cut the run short.
  bool stopped() const { return stopped_; }

 private:
  void Dispatch();
  void Start(StepId step);
  void OnProgress(StepId step, const StepProgress& progress);
  void Finish(StepId step, Outcome outcome, Status status);
  void Skip(const std::vector<StepId>& skipped);
  void HandleStop();
  bool StopRequested() const;

  const Graph& graph_;
  StepRunner* runner_;
  Scheduler* scheduler_;
  ExecutorOptions options_;
  ReadySet ready_;
  ExecutionObserver* observer_ = nullptr;
  std::vector<StepResult> results_;
  std::map<StepId, uint64_t> timers_;  // suspended step -> its timer
  std::map<StepId, Status> waiting_why_;
  bool stopped_ = false;
};

}  // namespace converge::dag
