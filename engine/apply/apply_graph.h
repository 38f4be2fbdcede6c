// The DAG of one apply: which steps a Plan becomes and which edges join them. Internal to
// engine/apply (apply.cc runs it); a separate file so the shape can be tested on its own. Pure.
//
// Steps, per Cluster action (create, update or delete):
//   record pending -> start operation -> await operation          (fleet pool "global")
// and an "await operation" per unfinished operation of an earlier run, which the new start
// follows (After). Per cluster with object actions:
//   cluster Running -> record pending -> object actions; then "applies done" and, with --wait,
//   "final health"; deletes need "applies done".
// Edges among a cluster's object actions (all Needs unless said):
//   - an object needs the Namespace it lives in and the CRD that defines its kind, when those are
//     applied in this plan;
//   - converge.dev/depends-on: an object needs the actions of the objects it names;
//   - sync waves: "wave W healthy" needs every apply of wave W (and the previous gate); every
//     apply of the next wave needs it. Namespaces and CRDs stand outside waves;
//   - deletes need "applies done"; a Namespace's delete comes After the deletes of the objects in
//     it, a CRD's After the cluster's other deletes.
// Every Cluster delete comes After "objects done", which comes After every object step.
// Pools: "global" (capacity `parallelism`) and "cluster/<name>" (capacity `cluster_parallelism`).
// Priorities follow the plan's order, so with one slot per cluster its steps run in plan order.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/apply/apply.h"
#include "engine/dag/graph.h"

namespace converge::apply_internal {

enum class StepKind {
  kRecordPending,    // observers' BeforeActions for `actions` (loop thread)
  kStartOperation,   // StartApplyCluster / StartDeleteCluster for the Cluster action `action`
  kAwaitOperation,   // polls the operation `start` began, or `resume` from an earlier run
  kClusterReady,     // the cluster is Running
  kObjectAction,     // apply or delete of the object action `action`
  kWaveHealthy,      // `keys` are healthy (sync wave `wave`)
  kAppliesDone,      // every apply of `cluster` ended (loop thread)
  kFinalHealthy,     // --wait: `keys` are healthy
  kObjectsDone,      // every object step ended (loop thread)
};

struct ApplyStep {
  StepKind kind = StepKind::kObjectAction;
  std::string cluster;            // the cluster worked on
  int action = -1;                // plan index, for action steps and Cluster operations
  std::vector<int> actions;       // kRecordPending
  int wave = 0;                   // kWaveHealthy
  std::vector<ObjectKey> keys;    // kWaveHealthy, kFinalHealthy
  std::optional<Operation> resume;  // kAwaitOperation of an earlier run's operation
  dag::StepId start = dag::kNoStep; // kAwaitOperation: the kStartOperation step
  std::string what;               // for messages: "sync wave 1 on cluster a to be healthy"
};

struct ApplyGraph {
  dag::Graph graph;
  std::vector<ApplyStep> steps;            // by StepId
  std::vector<dag::StepId> action_end;     // plan index -> the step whose end is the action's end
  std::vector<dag::StepId> action_start;   // plan index -> the step whose start is the action's start
  std::map<std::string, int> pool_capacity;
};

// True for Namespaces and CustomResourceDefinitions, which precede what uses them.
bool IsNamespaceOrCrd(const ObjectRef& ref);

ApplyGraph BuildApplyGraph(const Plan& plan, const FleetTargets& fleet, const ApplyOptions& options);

}  // namespace converge::apply_internal
