// InventoryStore: the managed-object inventory (every object converge applied, per source and
// cluster, with what it last applied and what it last saw) and per-cluster change markers.
// Abstract so that a PostgreSQL store shared by several converge replicas can implement it;
// SqliteInventoryStore is the embedded implementation (one thread at a time, like its Connection).
//
// Tables (created by store migrations, store.cc):
//   inventory(source_id, cluster, grp, kind, namespace, name, api_version, last_applied,
//             desired_hash, live_version, health, health_message, drift, pending, updated_at,
//             PRIMARY KEY (source_id, cluster, grp, kind, namespace, name))   [migration 1]
//             + blob_id, indexed by (source_id, blob_id)                    [migration 4]
//       One row per managed object, rewritten in place (upsert) and deleted when the object is
//       pruned. Rows are written with pending=1 before an object is applied, so a crash never
//       leaves a live object converge does not know it created; pending rows never take the
//       no-op path. last_applied is the large part (the JSON converge applied, Secrets redacted);
//       LoadIndex() reads everything else, LoadLastApplied() just the bodies it is asked for.
//       Every object has one owner (UNIQUE (cluster, grp, kind, namespace, name), migration 5):
//       a row of another source for the same object cannot be written (Conflict), so two sources
//       never overwrite each other's objects, even when their plans race.
//   cluster_markers(source_id, cluster, marker, observed_at,
//                   PRIMARY KEY (source_id, cluster))                             [migration 2]
//                   + rows (how many rows the marker vouches for; -1 unknown)     [migration 3]
//       Per source and cluster, an opaque token a provider gives for the cluster's state (e.g.
//       the highest resourceVersion) as of observed_at: while the live token equals the stored
//       one, nothing in that cluster moved since the rows written with it. Rewritten and cleared
//       in the same transaction as the inventory rows it vouches for, so a crash never leaves a
//       marker newer than its rows.
// Write() is one transaction: all of a batch or none of it. Rows of another source are never
// touched by a batch for this one; the file may be shared with other converge processes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/status.h"
#include "engine/model/object.h"

namespace converge {

class Env;
namespace sqlite {
class Connection;
}

struct InventoryEntry {
  int64_t source_id = 0;
  ObjectRef ref;              // cluster empty for Cloud/Cluster objects
  std::string api_version;
  std::string last_applied;   // JSON text of what converge last applied
  std::string desired_hash;   // hash of the desired object last applied
  std::string live_version;   // resourceVersion after the last apply
  std::string health;         // Healthy | Progressing | Degraded | Missing | Unknown
  std::string health_message;
  bool drift = false;
  bool pending = false;       // written before the apply; cleared when it succeeded
  int64_t updated_at = 0;     // unix ms; 0 on write means now
  std::string blob_id;        // git blob of the file that declared it ("" unknown)
};

struct ClusterMarker {
  int64_t source_id = 0;
  std::string cluster;
  std::string marker;
  int64_t observed_at = 0;  // unix ms; 0 on write means now
  int64_t rows = -1;        // rows of the cluster when the marker was recorded; -1 unknown
};

// A row to mark pending before its object is applied: created when missing (with only its
// identity), otherwise only `pending` (and an empty api_version) change; last-applied and hashes
// stay, so a crash before the result is recorded leaves the previous state to compare against.
struct PendingMark {
  int64_t source_id = 0;
  ObjectRef ref;
  std::string api_version;
};

// What a plan observed of a row: its live version, whether it drifted, and (when not empty) the
// blob of the file that now declares it. Other columns stay.
struct ObservedUpdate {
  int64_t source_id = 0;
  ObjectRef ref;
  std::string live_version;
  bool drift = false;
  std::string blob_id;
};

// Per cluster: how many rows the inventory holds for a source, and how many are pending or drifted.
struct ClusterSummary {
  int rows = 0, pending = 0, drift = 0;
};

// One transaction's worth of inventory changes.
struct InventoryBatch {
  InventoryBatch() = default;
  // Rows to write and rows to remove, the common case: Write({upserts, deletes}).
  InventoryBatch(std::vector<InventoryEntry> up, std::vector<std::pair<int64_t, ObjectRef>> del = {})
      : upserts(std::move(up)), deletes(std::move(del)) {}

  std::vector<InventoryEntry> upserts;
  std::vector<std::pair<int64_t, ObjectRef>> deletes;        // (source_id, ref); absent rows are fine
  std::vector<ClusterMarker> set_markers;
  std::vector<std::pair<int64_t, std::string>> clear_markers;  // (source_id, cluster)
  std::vector<PendingMark> pending;
  std::vector<ObservedUpdate> observed;                         // rows that do not exist are skipped
  std::vector<std::pair<int64_t, std::string>> delete_clusters;  // every row (and marker) of a cluster

  bool empty() const {
    return upserts.empty() && deletes.empty() && set_markers.empty() && clear_markers.empty() && pending.empty() &&
           observed.empty() && delete_clusters.empty();
  }
};

class InventoryStore {
 public:
  virtual ~InventoryStore() = default;

  // Every row of one source (source_id 0: every source), ordered by source and identity.
  virtual Result<std::vector<InventoryEntry>> Load(int64_t source_id) = 0;
  // The same rows without last_applied (left empty): what a no-op plan compares.
  virtual Result<std::vector<InventoryEntry>> LoadIndex(int64_t source_id) = 0;
  // The rows of one cluster of one source without last_applied.
  virtual Result<std::vector<InventoryEntry>> LoadClusterIndex(int64_t source_id, const std::string& cluster) = 0;
  // The fleet-level rows (Clouds and Clusters: cluster "") of one source, with last_applied.
  virtual Result<std::vector<InventoryEntry>> LoadFleet(int64_t source_id) = 0;
  // Per cluster of one source (fleet rows not included): rows, pending rows, drifted rows. Reads
  // every row's key: for the plans that look at every row anyway.
  virtual Result<std::map<std::string, ClusterSummary>> Summaries(int64_t source_id) = 0;
  // Whether any row of the source is pending: one index lookup.
  virtual Result<bool> HasPending(int64_t source_id) = 0;
  // Whether any object row (cluster not "") of the source has no blob id: one index lookup.
  virtual Result<bool> HasRowsWithoutBlob(int64_t source_id) = 0;
  // The rows of one cluster that came from any of `blobs`, without last_applied.
  virtual Result<std::vector<InventoryEntry>> LoadByBlobs(int64_t source_id, const std::string& cluster,
                                                          const std::vector<std::string>& blobs) = 0;
  // The rows of `refs` that exist, without last_applied.
  virtual Result<std::vector<InventoryEntry>> LoadRefs(int64_t source_id, const std::vector<ObjectRef>& refs) = 0;
  // last_applied of exactly the rows of `refs` that exist (one snapshot), by ref.
  virtual Result<std::map<ObjectRef, std::string>> LoadLastApplied(int64_t source_id,
                                                                   const std::vector<ObjectRef>& refs) = 0;
  // Applies the batch in one transaction (nothing when it is empty). NotFound, with nothing
  // written, when a row or marker names a source that is not in the store.
  virtual Status Write(const InventoryBatch& batch) = 0;
  // The markers of one source, by cluster.
  virtual Result<std::vector<ClusterMarker>> LoadMarkers(int64_t source_id) = 0;
  // The source owning each of `refs` that some source other than `source_id` has a row of (one
  // snapshot; an index lookup per ref).
  virtual Result<std::map<ObjectRef, int64_t>> OwnersElsewhere(int64_t source_id, const std::vector<ObjectRef>& refs) = 0;
  // The Clouds and Clusters (fleet rows with last-applied bodies, not pending) of every source
  // but `source_id`: the fleet this source may place onto.
  virtual Result<std::vector<InventoryEntry>> LoadOthersFleet(int64_t source_id) = 0;

  // Shorthands for a batch of one kind.
  Status SetMarker(const ClusterMarker& marker) {
    InventoryBatch b;
    b.set_markers.push_back(marker);
    return Write(b);
  }
  Status ClearMarker(int64_t source_id, const std::string& cluster) {
    InventoryBatch b;
    b.clear_markers.emplace_back(source_id, cluster);
    return Write(b);
  }
};

class SqliteInventoryStore : public InventoryStore {
 public:
  SqliteInventoryStore(sqlite::Connection& conn, Env* env) : conn_(conn), env_(env) {}

  Result<std::vector<InventoryEntry>> Load(int64_t source_id) override;
  Result<std::vector<InventoryEntry>> LoadIndex(int64_t source_id) override;
  Result<std::vector<InventoryEntry>> LoadClusterIndex(int64_t source_id, const std::string& cluster) override;
  Result<std::vector<InventoryEntry>> LoadFleet(int64_t source_id) override;
  Result<std::map<std::string, ClusterSummary>> Summaries(int64_t source_id) override;
  Result<bool> HasPending(int64_t source_id) override;
  Result<bool> HasRowsWithoutBlob(int64_t source_id) override;
  Result<std::vector<InventoryEntry>> LoadByBlobs(int64_t source_id, const std::string& cluster,
                                                  const std::vector<std::string>& blobs) override;
  Result<std::vector<InventoryEntry>> LoadRefs(int64_t source_id, const std::vector<ObjectRef>& refs) override;
  Result<std::map<ObjectRef, std::string>> LoadLastApplied(int64_t source_id,
                                                           const std::vector<ObjectRef>& refs) override;
  Status Write(const InventoryBatch& batch) override;
  Result<std::vector<ClusterMarker>> LoadMarkers(int64_t source_id) override;
  Result<std::map<ObjectRef, int64_t>> OwnersElsewhere(int64_t source_id, const std::vector<ObjectRef>& refs) override;
  Result<std::vector<InventoryEntry>> LoadOthersFleet(int64_t source_id) override;

 private:
  sqlite::Connection& conn_;
  Env* env_;
};

}  // namespace converge
