// Planner: desired state x live view x inventory -> the plan and what apply will record. One
// pipeline for both sources of desired state (Git, or the inventory on the no-op path):
//   1. Clusters: each desired Cluster is classified against its live Cluster; Clusters Git no
//      longer declares are kept (and warned about) unless allow_destroy, which plans their delete.
//   2. Objects, cluster by cluster: a cluster whose change marker equals the one recorded when it
//      last matched the inventory is unchanged as a whole on the no-op path (one check, whatever its
//      size), and on a delta read (a new commit, see DesiredState::delta) only the rows of the
//      objects read from changed files and of files that are gone are looked at. Otherwise its
//      rows (without bodies) and desired objects are compared by hash and resourceVersion
//      (QuickClassify), and only those that differ are read (live bodies, last-applied) and
//      classified (Classify). A row from a file the delta read skipped stands for its own desired
//      state (its body read from that file when needed). A cluster being created gets creates
//      without being observed; one that cannot be observed is reported and left out.
//   3. Actions are ordered (engine/plan).
// The planner reads the inventory through InventoryReader and writes nothing: cache updates
// (refreshed versions, drift flags, forgotten rows, markers) are returned for the caller to write.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/observe/observe.h"
#include "engine/plan/plan.h"
#include "engine/reconcile/desired_state.h"
#include "engine/store/store.h"

namespace converge {

class Env;
class FleetSession;
class SecretKey;

// What the planner reads of the inventory beyond the fleet rows.
class InventoryReader {
 public:
  virtual ~InventoryReader() = default;
  // Every row of one cluster, without last-applied bodies.
  virtual Result<std::vector<InventoryEntry>> ClusterRows(const std::string& cluster) = 0;
  // The last-applied text of each ref that has one.
  virtual Result<std::map<ObjectRef, std::string>> LastApplied(const std::vector<ObjectRef>& refs) = 0;
  // The rows of `refs` that exist, and the rows of one cluster from any of `blobs`; no bodies.
  virtual Result<std::vector<InventoryEntry>> RowsOf(const std::vector<ObjectRef>& refs) = 0;
  virtual Result<std::vector<InventoryEntry>> RowsOfBlobs(const std::string& cluster,
                                                          const std::vector<std::string>& blobs) = 0;
};

struct PlannerInput {
  int64_t source_id = 0;
  bool prune = true;
  bool allow_destroy = false;
  const DesiredState* desired = nullptr;
  const std::map<ObjectRef, InventoryEntry>* fleet_rows = nullptr;    // Cloud and Cluster rows
  // Per cluster row counts: every cluster with rows must be listed, except on the no-op path,
  // which may give none and rely on the markers (a marker vouches for its cluster's rows).
  const std::map<std::string, ClusterSummary>* summaries = nullptr;
  const std::map<std::string, ClusterMarker>* markers = nullptr;      // recorded change markers
  const std::map<std::string, ClusterLive>* clusters = nullptr;       // observed
  const std::vector<ClusterSpec>* removed = nullptr;                  // Clusters Git dropped
  const SecretKey* secrets = nullptr;  // the state dir's key of Secret value tags; required
};

struct PlannerOutput {
  Plan plan;
  std::vector<Diagnostic> warnings;
  std::vector<std::string> unreachable_clusters;
  std::vector<std::string> kept_clusters;
  std::vector<InventoryEntry> adopt;         // unchanged objects apply records as converge's own
  // What the plan learned that the inventory should remember, in one transaction: live versions
  // and drift flags of rows (`observed`), rows of objects gone everywhere (`deletes`), and the
  // clusters' change markers (set where a cluster matched the inventory exactly, cleared where it
  // did not).
  InventoryBatch cache;
  std::map<ObjectRef, InventoryEntry> rows;  // rows of the planned actions (for the recorder)
  // The plan must be made again from a full read of Git: on the no-op path a Secret needs
  // correcting (the inventory keeps Secrets redacted) or a cluster is being created; on a delta
  // read a cluster is being created (its unchanged objects were not read).
  bool needs_full_read = false;
};

// Plans. Fails when a cloud cannot say whether a desired cluster exists, or on a dependency cycle.
Result<PlannerOutput> PlanSync(const PlannerInput& input, Observer* observer, FleetSession* session,
                               InventoryReader* inventory, Env* env);

}  // namespace converge
