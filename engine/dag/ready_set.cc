#include "engine/dag/ready_set.h"

#include <algorithm>

namespace converge::dag {

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPending: return "pending";
    case Outcome::kRunning: return "running";
    case Outcome::kSucceeded: return "succeeded";
    case Outcome::kFailed: return "failed";
    case Outcome::kSkipped: return "skipped";
    case Outcome::kNotRun: return "not run";
  }
  return "unknown";
}

ReadySet::ReadySet(const Graph& graph, std::map<std::string, int> pool_capacity)
    : graph_(graph), state_(graph.size()) {
  // Only bounded pools matter; each gets an id.
  std::map<std::string, int> pool_id;
  for (const auto& [pool, cap] : pool_capacity) {
    pool_id[pool] = static_cast<int>(capacity_.size());
    capacity_.push_back(std::max(cap, 1));
  }
  used_.assign(capacity_.size(), 0);
  // Steps with the same pools share one ready queue, so FindWork looks at one head per group
  // instead of scanning every ready step that waits for a busy pool.
  std::map<std::vector<int>, int> groups;
  group_of_.resize(graph.size());
  for (StepId id = 0; id < static_cast<StepId>(graph.size()); ++id) {
    std::vector<int> pools;
    if (!graph.spec(id).on_loop_thread) {
      for (const std::string& name : graph.spec(id).pools)
        if (auto it = pool_id.find(name); it != pool_id.end()) pools.push_back(it->second);
    }
    std::sort(pools.begin(), pools.end());
    pools.erase(std::unique(pools.begin(), pools.end()), pools.end());
    auto [it, fresh] = groups.emplace(pools, static_cast<int>(group_pools_.size()));
    if (fresh) group_pools_.push_back(pools);
    group_of_[static_cast<size_t>(id)] = it->second;
  }
  ready_.resize(group_pools_.size());
  for (StepId id = 0; id < static_cast<StepId>(graph.size()); ++id) {
    state_[static_cast<size_t>(id)].waiting_on = static_cast<int>(graph.prerequisites(id).size());
  }
  for (StepId id = 0; id < static_cast<StepId>(graph.size()); ++id) {
    if (state_[static_cast<size_t>(id)].waiting_on == 0) MakeReady(id);
  }
}

bool ReadySet::GroupHasSlots(int group) const {
  for (int pool : group_pools_[static_cast<size_t>(group)]) {
    if (used_[static_cast<size_t>(pool)] >= capacity_[static_cast<size_t>(pool)]) return false;
  }
  return true;
}

void ReadySet::TakeSlots(StepId step) {
  StepState& s = state_[static_cast<size_t>(step)];
  if (s.holds_slots) return;
  for (int pool : group_pools_[static_cast<size_t>(group_of_[static_cast<size_t>(step)])]) used_[static_cast<size_t>(pool)]++;
  s.holds_slots = true;
}

void ReadySet::ReturnSlots(StepId step) {
  StepState& s = state_[static_cast<size_t>(step)];
  if (!s.holds_slots) return;
  for (int pool : group_pools_[static_cast<size_t>(group_of_[static_cast<size_t>(step)])]) used_[static_cast<size_t>(pool)]--;
  s.holds_slots = false;
}

void ReadySet::MakeReady(StepId step) {
  StepState& s = state_[static_cast<size_t>(step)];
  s.ready = true;
  ready_[static_cast<size_t>(group_of_[static_cast<size_t>(step)])].insert({graph_.spec(step).priority, step});
}

std::optional<StepId> ReadySet::FindWork() {
  const std::pair<int, StepId>* best = nullptr;
  int best_group = -1;
  for (size_t g = 0; g < ready_.size(); ++g) {
    if (ready_[g].empty() || !GroupHasSlots(static_cast<int>(g))) continue;
    const auto& head = *ready_[g].begin();
    if (best == nullptr || head < *best) {
      best = &head;
      best_group = static_cast<int>(g);
    }
  }
  if (best == nullptr) return std::nullopt;
  StepId step = best->second;
  ready_[static_cast<size_t>(best_group)].erase(ready_[static_cast<size_t>(best_group)].begin());
  StepState& s = state_[static_cast<size_t>(step)];
  s.ready = false;
  s.suspended = false;
  s.outcome = Outcome::kRunning;
  TakeSlots(step);
  active_++;
  return step;
}

void ReadySet::Suspend(StepId step) {
  StepState& s = state_[static_cast<size_t>(step)];
  if (s.outcome != Outcome::kRunning || s.suspended) return;
  s.suspended = true;
  ReturnSlots(step);
  active_--;
}

void ReadySet::Resume(StepId step) {
  StepState& s = state_[static_cast<size_t>(step)];
  if (s.outcome != Outcome::kRunning || !s.suspended || s.ready) return;
  MakeReady(step);
}

std::vector<StepId> ReadySet::StepFinished(StepId step, Outcome outcome) {
  std::vector<StepId> skipped;
  StepState& s = state_[static_cast<size_t>(step)];
  if (s.outcome != Outcome::kRunning) return skipped;
  if (s.ready) {  // resumed but not picked up again
    ready_[static_cast<size_t>(group_of_[static_cast<size_t>(step)])].erase({graph_.spec(step).priority, step});
    s.ready = false;
  }
  if (!s.suspended) active_--;
  s.suspended = false;
  ReturnSlots(step);
  if (outcome != Outcome::kSucceeded && outcome != Outcome::kNotRun) outcome = Outcome::kFailed;
  End(step, outcome, kNoStep, &skipped);
  std::sort(skipped.begin(), skipped.end());
  return skipped;
}

std::vector<StepId> ReadySet::Abandon() {
  std::vector<StepId> abandoned;
  for (StepId id = 0; id < static_cast<StepId>(state_.size()); ++id) {
    StepState& s = state_[static_cast<size_t>(id)];
    if (s.outcome != Outcome::kPending) continue;
    if (s.ready) {
      ready_[static_cast<size_t>(group_of_[static_cast<size_t>(id)])].erase({graph_.spec(id).priority, id});
      s.ready = false;
    }
    s.outcome = Outcome::kNotRun;
    ended_++;
    abandoned.push_back(id);
  }
  return abandoned;
}

void ReadySet::End(StepId step, Outcome outcome, StepId cause, std::vector<StepId>* skipped) {
  // A worklist rather than recursion: a chain of ten thousand skipped steps must not overflow the
  // stack.
  std::vector<std::pair<StepId, StepId>> work;  // (ended step, root cause if it did not succeed)
  StepState& first = state_[static_cast<size_t>(step)];
  first.outcome = outcome;
  first.cause = cause;
  ended_++;
  work.push_back({step, outcome == Outcome::kSucceeded ? kNoStep : (cause == kNoStep ? step : cause)});
  while (!work.empty()) {
    auto [at, root] = work.back();
    work.pop_back();
    for (const Edge& e : graph_.dependents(at)) {
      StepState& d = state_[static_cast<size_t>(e.other)];
      d.waiting_on--;
      if (d.outcome != Outcome::kPending) continue;  // already skipped through another prerequisite
      if (e.kind == EdgeKind::kNeeds && root != kNoStep) {
        if (d.ready) {
          ready_[static_cast<size_t>(group_of_[static_cast<size_t>(e.other)])].erase(
              {graph_.spec(e.other).priority, e.other});
          d.ready = false;
        }
        d.outcome = Outcome::kSkipped;
        d.cause = root;
        ended_++;
        skipped->push_back(e.other);
        work.push_back({e.other, root});
      } else if (d.waiting_on == 0) {
        MakeReady(e.other);
      }
    }
  }
}

}  // namespace converge::dag
