// ReadySet: which steps of a Graph may run now, as ninja's Plan: FindWork() hands out the ready
// step of lowest priority whose pools all have a free slot, StepFinished() releases its dependents
// (or skips them, naming the failure they waited on). A step that waits (a health check to repeat,
// a retry after backoff) is Suspended: it gives its pool slots back until it is Resumed. Pure
// bookkeeping, no threads and no time: the Executor drives it. Thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/dag/graph.h"

namespace converge::dag {

enum class Outcome {
  kPending,    // not started
  kRunning,    // started (running on a worker, or suspended between attempts)
  kSucceeded,
  kFailed,
  kSkipped,    // a prerequisite it needs failed or was skipped
  kNotRun,     // the run was stopped before it could start or finish waiting
};

const char* OutcomeName(Outcome outcome);  // "pending", "running", "succeeded", ...

class ReadySet {
 public:
  // `pool_capacity`: slots per pool name; a pool not listed has no limit; a capacity below 1
  // counts as 1.
  ReadySet(const Graph& graph, std::map<std::string, int> pool_capacity);

  // A ready step whose pools all have a free slot (lowest priority, then lowest id), now running
  // and holding its slots; nullopt when there is none. Steps that run on the loop thread need no
  // slot.
  std::optional<StepId> FindWork();
  // A running step gives its slots back while it waits; Resume makes it ready again (it keeps its
  // place: running, not pending).
  void Suspend(StepId step);
  void Resume(StepId step);

  // Ends a running or suspended step with kSucceeded, kFailed or kNotRun. Unless it succeeded, the
  // steps that need it are skipped (transitively); they are returned in id order, each one's
  // cause() being the step at the root.
  std::vector<StepId> StepFinished(StepId step, Outcome outcome);
  // Ends every pending step as not run (the run is being stopped) and returns them. Suspended
  // steps stay: the caller ends them (StepFinished) once their timers are cancelled.
  std::vector<StepId> Abandon();

  Outcome outcome(StepId step) const { return state_[static_cast<size_t>(step)].outcome; }
  // For a skipped step: the failed step it waited on; kNoStep otherwise.
  StepId cause(StepId step) const { return state_[static_cast<size_t>(step)].cause; }
  bool suspended(StepId step) const { return state_[static_cast<size_t>(step)].suspended; }
  // True when every step has ended.
  bool done() const { return ended_ == state_.size(); }
  // Steps running on a worker or the loop thread right now (not suspended).
  size_t active() const { return active_; }

 private:
  struct StepState {
    Outcome outcome = Outcome::kPending;
    StepId cause = kNoStep;
    int waiting_on = 0;        // prerequisites not ended yet
    bool ready = false;        // in ready_ (or suspended-then-resumed)
    bool suspended = false;
    bool holds_slots = false;
  };

  bool GroupHasSlots(int group) const;
  void TakeSlots(StepId step);
  void ReturnSlots(StepId step);
  void MakeReady(StepId step);
  void End(StepId step, Outcome outcome, StepId cause, std::vector<StepId>* skipped);

  const Graph& graph_;
  // Pools are interned to small integers: FindWork runs once per step, so its checks must be cheap.
  std::vector<int> capacity_;  // by pool id; 0 = unbounded
  std::vector<int> used_;      // by pool id
  std::vector<StepState> state_;
  // Steps with the same (sorted) pools form a group; each group has its own ready queue of
  // (priority, id).
  std::vector<int> group_of_;
  std::vector<std::vector<int>> group_pools_;  // pool ids of each group
  std::vector<std::set<std::pair<int, StepId>>> ready_;
  size_t ended_ = 0;
  size_t active_ = 0;
};

}  // namespace converge::dag
