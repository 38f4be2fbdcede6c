// Reconciler: the thin glue that runs one source through the pipeline
//   source -> spec -> place -> observe -> diff -> plan -> apply -> record
// Each stage is a call into its own folder; this file only wires them and keeps the no-op path
// cheap: when the commit is the one last applied and no live resourceVersion moved, nothing is
// parsed or diffed (see docs/architecture.md, "The no-op path").
// A Reconciler is used by one thread at a time (apply fans out to worker threads internally).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/apply/apply.h"
#include "engine/base/status.h"
#include "engine/model/fleet.h"
#include "engine/plan/plan.h"
#include "engine/source/source.h"
#include "engine/store/store.h"

namespace converge {

class Env;
class Store;
class ProviderRegistry;

struct SyncRequest {
  SourceSpec source;
  bool prune = true;           // delete objects converge created that Git no longer has
  bool allow_destroy = false;  // allow deleting Clusters
  ApplyOptions apply;
};

struct ValidateResult {
  std::string commit;
  SpecSet specs;
  int placed_objects = 0;
  std::vector<Diagnostic> warnings;
};

struct PlanResult {
  std::string url, ref, path, commit;
  int64_t source_id = 0;
  Plan plan;
  std::vector<Diagnostic> warnings;
  std::vector<std::string> unreachable_clusters;  // not observed; their objects are not planned
  bool fast_path = false;                         // the no-op path was taken
  // Clusters Git no longer declares that were kept (no --allow-destroy). While there are any, the
  // inventory is not exactly the commit's desired state, so the no-op path is not taken.
  std::vector<std::string> kept_clusters;
  // Objects that need no action but whose inventory row is missing, pending or records another
  // desired state (e.g. live drift that Git then adopted, or a row left by a killed apply). Apply
  // records them; plan never writes last-applied.
  std::vector<InventoryEntry> adopt;
};

struct ApplyOutcome {
  PlanResult planned;
  ApplyReport report;
  int64_t run_id = 0;
  Status status;  // ok when every action succeeded, every wait held and every cluster was reachable
};

// Live state of the fleet as `converge status` shows it.
struct FleetStatus {
  struct ClusterRow {
    std::string name, cloud, phase, version, message;
    int nodes = 0, ready_nodes = 0;
  };
  struct ObjectRow {
    std::string cluster, api_version, kind, ns, name, health, message;
    bool drift = false;
  };
  std::vector<ClusterRow> clusters;
  std::vector<ObjectRow> objects;
  struct LastSync {
    std::string url, commit, result;
    int64_t finished_at = 0;
  };
  std::vector<LastSync> sources;
};

class Reconciler {
 public:
  Reconciler(Env* env, Store* store, ProviderRegistry* registry, std::string state_dir);
  ~Reconciler();

  // Fetches, parses, validates and places; no provider calls.
  Result<ValidateResult> Validate(const SourceSpec& source);
  // Computes the plan. Changes nothing but the store's cache of live versions and drift flags.
  Result<PlanResult> ComputePlan(const SyncRequest& request);
  // Plans and applies, recording the run in the history.
  Result<ApplyOutcome> Apply(const SyncRequest& request, ApplyObserver* observer);
  // Clusters and managed objects with live health and drift.
  Result<FleetStatus> CurrentStatus();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace converge
