// Graph: the steps of one run and the edges between them, as ninja's State holds edges. A step has
// a name (for messages), the pools whose slots it takes while it runs, whether it runs on the loop
// thread, and a priority (lower first among ready steps, so a plan's order is kept where nothing
// else decides). Two kinds of edge:
//   Needs(step, prerequisite)  step runs only once prerequisite succeeded; when prerequisite fails
//                              or is skipped, step is skipped, naming the failure it waited on.
//   After(step, predecessor)   step runs only once predecessor ended, whatever its outcome.
// Shared by apply (engine/apply) and the workflow runner. Plain value, thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "engine/base/status.h"

namespace converge::dag {

using StepId = int;
inline constexpr StepId kNoStep = -1;

struct StepSpec {
  std::string name;                // e.g. "prod-1: Deployment/web/api"
  std::vector<std::string> pools;  // a slot of each is held while the step runs
  bool on_loop_thread = false;     // runs on the loop thread (quick, non-blocking work such as a
                                   // store write), takes no pool slot
  int priority = 0;                // lower runs first among ready steps; ties by StepId
};

enum class EdgeKind { kNeeds, kAfter };

struct Edge {
  StepId other = kNoStep;  // the prerequisite (in prerequisites()) or the dependent (in dependents())
  EdgeKind kind = EdgeKind::kNeeds;
};

class Graph {
 public:
  // Adds a step; ids are 0, 1, 2... in order of addition.
  StepId Add(StepSpec spec);
  void Needs(StepId step, StepId prerequisite) { AddEdge(step, prerequisite, EdgeKind::kNeeds); }
  void After(StepId step, StepId predecessor) { AddEdge(step, predecessor, EdgeKind::kAfter); }

  size_t size() const { return steps_.size(); }
  const StepSpec& spec(StepId id) const { return steps_[static_cast<size_t>(id)].spec; }
  const std::string& name(StepId id) const { return spec(id).name; }
  const std::vector<Edge>& prerequisites(StepId id) const { return steps_[static_cast<size_t>(id)].prerequisites; }
  const std::vector<Edge>& dependents(StepId id) const { return steps_[static_cast<size_t>(id)].dependents; }

  // Ok when the edges form no cycle; otherwise Invalid naming one: "dependency cycle: a -> b -> a".
  Status CheckAcyclic() const;

 private:
  void AddEdge(StepId step, StepId other, EdgeKind kind);

  struct Node {
    StepSpec spec;
    std::vector<Edge> prerequisites;
    std::vector<Edge> dependents;
  };
  std::vector<Node> steps_;
};

}  // namespace converge::dag
