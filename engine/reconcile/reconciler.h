// Reconciler: the thin glue that runs one source through the pipeline
//   source -> spec -> observe -> place -> diff (classify) -> plan -> apply -> record
// each stage a call into its own folder. ComputePlan returns a PlannedSync value that owns what
// Apply needs; it changes nothing in the fleet, and in the store only the inventory's
// observation cache (live versions, drift flags, rows of objects gone everywhere, change markers),
// and that only while it holds the source's lease. Apply runs a PlannedSync with the inventory
// recorder, the run log and the event log as observers beside the caller's (the progress
// printer). Sync = take the source's lease, ComputePlan, Apply, release.
// The desired state comes from Git, or, when the commit is the one last applied completely, from
// the inventory (the no-op path: see docs/architecture.md).
// One source is synced by one process at a time (a lease in the store, not a file lock); two
// Reconcilers with their own Store connections may sync different sources at once. A Reconciler
// is used by one thread at a time.
#pragma once

#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "engine/apply/apply.h"
#include "engine/base/status.h"
#include "engine/model/fleet.h"
#include "engine/plan/plan.h"
#include "engine/reconcile/planner.h"
#include "engine/source/source.h"
#include "engine/store/store.h"

namespace converge {

class Env;
class FleetSession;
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

// A computed plan and everything needed to apply it. Move-only (it owns the providers).
struct PlannedSync {
  std::string url, ref, path, commit;  // the source as shown (url redacted) and the commit
  int64_t source_id = 0;
  Plan plan;
  std::vector<Diagnostic> warnings;
  std::vector<std::string> unreachable_clusters;  // not observed; their objects are not planned
  // Clusters Git no longer declares that were kept (no --allow-destroy). While there are any, the
  // inventory is not exactly the commit's desired state, so the no-op path is not taken.
  std::vector<std::string> kept_clusters;
  bool fast_path = false;  // the desired state came from the inventory (the no-op path)
  bool delta_read = false; // only the files changed since the last complete apply were read

  // What Apply needs.
  bool prune = true;
  std::unique_ptr<FleetSession> session;
  std::vector<CloudSpec> clouds_from_git;  // recorded before anything runs on them
  // Clouds of other sources' Clusters this one places onto: reached, never ensured or recorded.
  std::set<std::string> others_clouds;
  std::string fleet_digest;                // other sources' Clusters as planned (SourceRecord)
  // Objects that need no action but whose row is missing, pending or records another desired
  // state (drift that Git then adopted, a row left by a killed apply): Apply records them.
  std::vector<InventoryEntry> adopt;
  InventoryBatch cache;                     // written by Apply unless the plan wrote it
  bool cache_written = false;
  std::map<ObjectRef, InventoryEntry> rows;  // the planned objects' rows (without bodies)
  std::map<std::string, std::vector<Operation>> unfinished_operations;

  PlannedSync();
  PlannedSync(PlannedSync&&) noexcept;
  PlannedSync& operator=(PlannedSync&&) noexcept;
  ~PlannedSync();
};

struct ApplyOutcome {
  PlannedSync planned;
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
  Reconciler(Env* env, Store* store, const ProviderRegistry* registry, std::string state_dir);
  ~Reconciler();

  // Fetches, parses, validates (provider configs too) and places; no provider calls.
  Result<ValidateResult> Validate(const SourceSpec& source);
  // Computes the plan (see above for what it writes).
  Result<PlannedSync> ComputePlan(const SyncRequest& request);
  // Applies a plan computed by this Reconciler, recording the run. The caller holds the source's
  // lease (Sync does).
  Result<ApplyOutcome> Apply(PlannedSync planned, const ApplyOptions& options,
                             const std::vector<ApplyObserver*>& observers);
  // Takes the source's lease (Conflict naming the holder when another converge syncs it), plans,
  // applies and releases the lease.
  Result<ApplyOutcome> Sync(const SyncRequest& request, const std::vector<ApplyObserver*>& observers);
  // Clusters and managed objects with live health and drift.
  Result<FleetStatus> CurrentStatus();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace converge
