// Plan: the ordered list of actions that takes the fleet from live to desired.
//
// Ordering rule (one comparator, OrderBefore, plus dependency edges):
//   1. Fleet infrastructure first: Cloud, then Cluster creates/updates.
//   2. Then, per cluster: Namespaces and CustomResourceDefinitions first, whatever their waves
//      (everything else lives in or is defined by them); then objects by sync wave
//      (converge.dev/sync-wave, else argocd.argoproj.io/sync-wave, default 0; lower first), then
//      kind rank (ServiceAccount/RBAC, ConfigMap/Secret, storage, Service, workloads, everything
//      else), then namespace and name.
//   3. converge.dev/depends-on: "Kind/namespace/name, Kind/name" (same cluster) adds edges: the
//      named object comes first, whatever its wave. A cycle is an error naming the objects in it.
//   4. Deletes (prune) last, in the reverse of that order; Cluster deletes after all object deletes.
// Pure.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/diff/classify.h"
#include "engine/diff/diff.h"
#include "engine/model/object.h"

namespace converge {

struct Action {
  ChangeType type = ChangeType::kCreate;  // create | update | delete (unchanged never in a plan)
  ObjectRef ref;                          // cluster empty for Cloud and Cluster
  std::string api_version;
  JsonPtr desired;                        // null for delete
  std::string diff;                       // unified diff text
  Cause cause = Cause::kGit;              // why a create or update (Git, drift, both, unmanaged)
  int wave = 0;
  std::vector<ObjectKey> depends_on;      // parsed from the annotation, same cluster
  std::string source_file;                // where desired came from, for messages
  std::string blob_id;                    // the git blob of that file ("" when not from Git)
};

struct PlanSummary {
  int create = 0, update = 0, del = 0, unchanged = 0;
};

struct Plan {
  std::vector<Action> actions;  // in execution order
  PlanSummary summary;
  bool empty() const { return actions.empty(); }
};

// The wave of a desired object from its annotations (0 when none). Invalid when not an integer.
Result<int> WaveOf(const Json& object, const std::string& where);
// Parses converge.dev/depends-on. Invalid naming the bad entry.
Result<std::vector<ObjectKey>> DependsOnOf(const Json& object, const std::string& where);

// Kind rank used by the comparator (lower first).
int KindRank(const std::string& kind);

// True when `a` must run before `b` under rules 1, 2 and 4 (dependencies not included).
bool OrderBefore(const Action& a, const Action& b);

// Whether an object a depends-on entry names (group ignored) is declared for a cluster.
using DeclaredFn = std::function<bool(const std::string& cluster, const ObjectKey& key)>;

// Orders `actions` (rules 1-4) and fills wave/depends_on from the desired objects.
// Invalid on a dependency cycle ("dependency cycle: a -> b -> a") or a bad annotation. With
// `declared`, a depends-on entry that names neither an action nor a declared object is Invalid
// too, naming the entry (without it, such an entry is taken to be in place already).
Result<std::vector<Action>> OrderActions(std::vector<Action> actions, const DeclaredFn& declared = nullptr);

}  // namespace converge
