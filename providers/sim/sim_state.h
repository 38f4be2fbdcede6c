// SimState: one connection to the simulated world in <state_dir>/converge.db and every operation
// on it: clouds and clusters (sim_clusters.cc), API objects with server-side apply
// (sim_objects.cc), the workload controllers and the scheduler (sim_workloads.cc), and faults.
// Simulated time is lazy: before a cluster is read or written, its due timers (pods starting,
// nodes becoming ready, progress deadlines) are run up to Env::NowMillis() ("advance"); the check
// is two indexed lookups, the work is proportional to what is due. Each public method is one
// transaction at most (a read that finds due timers first commits the advance). Public methods
// return Status; internals throw SimError (sim_db.h). One thread at a time per SimState: the
// provider and connector objects over it hold a mutex.
// Private to providers/sim (only its .cc files include it, hence the full nlohmann/json.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/base/status.h"
#include "engine/model/fleet.h"
#include "engine/model/object.h"
#include "providers/provider.h"
#include "providers/sim/sim_db.h"
#include "providers/sim/sim_rows.h"

namespace converge {
class Env;
}

namespace converge::sim {

// Timing of a simulated cloud, from its Cloud's `spec.simulation`, in seconds of Env time.
struct SimulationSpec {
  double cluster_create_seconds = 3;
  double pod_start_seconds = 1;
  double upgrade_step_seconds = 1;  // per control plane and per node pool
  double scale_seconds = 1;
};

// --- configuration (sim_config.cc)
// The sim's part of a Cloud spec: ValidateConfig of the "sim" CloudProviderFactory.
std::vector<ConfigDiagnostic> ValidateSimConfig(const Json& cloud_spec);
// `spec.simulation` of a Cloud whose config passed ValidateSimConfig; defaults where absent.
SimulationSpec SimulationOf(const CloudSpec& cloud);

// (kind, namespace, name) of a workload whose status needs recomputing.
using WorkloadRef = std::tuple<std::string, std::string, std::string>;

class SimState {
 public:
  // Opens <state_dir>/converge.db. Seeds the API-error PRNG from CONVERGE_SIM_SEED when set.
  static Result<std::unique_ptr<SimState>> Open(const std::string& state_dir, Env* env);

  // --- CloudProvider (sim_clusters.cc). `cloud` scopes lookups ("" = any cloud).
  Status EnsureCloud(const CloudSpec& cloud);
  Result<Json> GetCluster(const std::string& cloud, const std::string& name);
  Status ApplyCluster(const CloudSpec& provider_cloud, const ClusterSpec& spec);
  Status DeleteCluster(const std::string& cloud, const std::string& name);
  // NotFound when the cluster does not exist (on `cloud`).
  Status CheckCluster(const std::string& cloud, const std::string& name);

  // --- ClusterConnector (sim_objects.cc; ResourceVersions in sim_api.cc); faults and "still
  // creating" apply.
  Result<Json> Get(const std::string& cluster, const ObjectKey& key);
  Result<std::vector<std::optional<Json>>> GetMany(const std::string& cluster, const std::vector<ObjectKey>& keys);
  Result<std::vector<std::string>> ResourceVersions(const std::string& cluster, const std::vector<ObjectKey>& keys);
  Result<Json> Apply(const std::string& cluster, const Json& desired);
  Status Delete(const std::string& cluster, const ObjectKey& key);

  // --- provider v2 (sim_api.cc)
  // The deadline (CallOptions::deadline_ms) of the connector call about to run: a latency fault
  // longer than the time left sleeps until the deadline and fails with Timeout. 0 = none.
  void set_call_deadline(int64_t deadline_ms) { call_deadline_ms_ = deadline_ms; }
  // Starts creating or updating a cluster; the Operation's id is "apply/<cluster>/<resourceVersion
  // after the apply>".
  Result<Operation> StartApplyCluster(const CloudSpec& provider_cloud, const ClusterSpec& spec);
  // Deletes a cluster; the Operation's id is "delete/<cluster>/<uid>".
  Result<Operation> StartDeleteCluster(const std::string& cloud, const std::string& name);
  // Answers from the world's state alone, so any SimState on the same file can poll any operation.
  Result<OperationStatus> PollOperation(const std::string& cloud, const std::string& id);
  Result<ClusterEndpoint> Endpoint(const std::string& cloud, const std::string& cluster);
  // Built-in kinds plus the cluster's CustomResourceDefinitions.
  Result<std::vector<ApiResource>> Discover(const std::string& cluster);
  // "<MAX(rv)>.<COUNT(*)>" of the cluster's objects, after its due timers ran (see sim_api.cc).
  Result<std::string> ChangeMarker(const std::string& cluster);
  // Objects of one kind (`ns` empty: every namespace), with the change marker as the version.
  Result<ObjectList> ListObjects(const std::string& cluster, const std::string& group, const std::string& kind,
                                 const std::string& ns);

  // --- SimWorld (sim_objects.cc, sim_clusters.cc, sim_world.cc); no faults apply.
  Result<Json> List();
  Status Patch(const std::string& cluster, const std::string& kind, const std::string& ns_name,
               const std::string& merge_patch);
  Status DeleteByName(const std::string& cluster, const std::string& kind, const std::string& ns_name);
  Status Fault(const std::string& cluster, const std::string& fault);
  Status Heal(const std::string& cluster);

 private:
  SimState(std::unique_ptr<Db> db, Env* env);

  // Runs `f` in a write transaction (flushing the resourceVersion counter before COMMIT). A
  // returned non-ok Status (or Result) rolls the transaction back, as a thrown SimError does.
  template <typename F>
  auto Write(F&& f) {
    WriteTxn txn(*db_);
    rv_loaded_ = false;
    if constexpr (std::is_void_v<decltype(f())>) {
      f();
      FlushRv();
      txn.Commit();
    } else {
      auto result = f();
      if (!IsOk(result)) {
        rv_loaded_ = false;
        return result;
      }
      FlushRv();
      txn.Commit();
      return result;
    }
  }
  static bool IsOk(const Status& s) { return s.ok(); }
  template <typename T>
  static bool IsOk(const Result<T>& r) { return r.ok(); }
  template <typename T>
  static bool IsOk(const T&) { return true; }

  // --- common (sim_state.cc)
  int64_t Now();
  int64_t NextRv();
  void FlushRv();
  std::string NewUid();
  std::string RandomSuffix(int n);
  std::optional<ClusterRow> FindCluster(const std::string& name);
  ClusterRow LoadCluster(const std::string& name, const std::string& cloud = "");
  // Loads the cluster for a connector call and applies faults and "still creating".
  ClusterRow Preflight(const std::string& cluster);
  // Sleeps a latency fault, within the call's deadline (sim_api.cc).
  void SleepLatency(const std::string& cluster, int64_t latency_ms);
  // The change marker of a cluster whose timers ran (sim_api.cc).
  std::string MarkerLocked(const std::string& cluster);
  bool NeedsAdvance(const ClusterRow& c, int64_t now);
  // Runs due timers of `c` up to now; inside a write transaction.
  void Advance(ClusterRow& c);
  // Commits an advance when one is due (for read paths).
  void AdvanceIfDue(ClusterRow& c);

  // --- clusters (sim_clusters.cc)
  Json ClusterJson(const ClusterRow& c, int64_t now);
  void SettleUpgrade(ClusterRow& c, int64_t now);
  std::string EffectiveVersion(const ClusterRow& c, int64_t now) const;
  std::string PoolVersion(const ClusterRow& c, const std::string& pool, const std::string& stored, int64_t now) const;
  std::optional<CloudRow> FindCloud(const std::string& name);
  // The cluster's node pools in their order.
  std::vector<PoolRow> LoadPools(const std::string& cluster);
  // Inserts the pool's row and its `pool.count` nodes, ready at `ready_at`.
  void AddPool(const ClusterRow& c, const PoolRow& pool, int64_t ready_at);
  // Adds (or replaces) the nodes with indexes [from, to) of `pool`.
  void AddNodes(const ClusterRow& c, const PoolRow& pool, int64_t from, int64_t to, int64_t ready_at);
  void RemoveNode(ClusterRow& c, const std::string& node, std::set<WorkloadRef>* owners);
  void UpdateNextNodeEvent(ClusterRow& c, int64_t now);
  void EnsureCloudLocked(const CloudSpec& cloud);

  // --- objects (sim_objects.cc)
  ObjectKey NormalizeKey(ObjectKey key) const;
  // The key of a custom resource as its CustomResourceDefinition in `cluster` scopes it; fails
  // NotFound when the cluster has no CRD serving its apiVersion and kind.
  ObjectKey CustomResourceKey(const std::string& cluster, const Json& desired, ObjectKey key);
  std::optional<ObjRow> FindObject(const std::string& cluster, const ObjectKey& key, bool with_applied = false);
  std::optional<ObjRow> FindObjectById(int64_t id, bool with_body = true);
  // Inserts `row` (cluster, key, body with uid etc. already set) with a fresh rv; sets row.id/rv.
  void InsertObject(const std::string& cluster, ObjRow& row);
  void CheckNamespace(const std::string& cluster, const std::string& ns);
  void ApplyDefaults(ClusterRow& c, const ObjectKey& key, Json& obj);
  Json ApplyLocked(ClusterRow& c, Json desired);
  // What a real cluster's controllers finish right after a write: a LoadBalancer Service gets an
  // ingress address from the sim's cloud load balancer; a PersistentVolumeClaim binds to the PV
  // it names, or to one provisioned through the default StorageClass the sim ships ("standard").
  // Rewrites `row` (and writes the PV) when anything changed.
  void FinishLocked(ClusterRow& c, ObjRow& row);
  // An object the cluster makes itself (no applied configuration): inserted as it is.
  void InsertSystemObject(ClusterRow& c, const ObjectKey& key, Json body);
  // Writes `row.body` as a new revision: sets metadata.resourceVersion from a fresh rv.
  void WriteBody(ObjRow& row);
  // Records `applied` as converge's last-applied JSON of object `id`.
  void SetApplied(int64_t id, const Json& applied);
  void DeleteLocked(ClusterRow& c, const ObjRow& row);
  // Resolves `kind` (case-insensitive, or lowercase plural) and "ns/name" to a live object.
  ObjRow ResolveByName(const std::string& cluster, const std::string& kind, const std::string& ns_name);

  // --- workloads and scheduling (sim_workloads.cc)
  std::vector<NodeRow> LoadNodes(const std::string& cluster);
  void ReconcileWorkload(ClusterRow& c, const std::string& kind, const std::string& ns, const std::string& name);
  void ReconcileDaemonSets(ClusterRow& c);
  void RefreshStatus(ClusterRow& c, const WorkloadRef& ref);
  void RefreshAll(ClusterRow& c, const std::set<WorkloadRef>& refs);
  void CreatePod(ClusterRow& c, std::vector<NodeRow>& nodes, const Json& owner, const std::string& name,
                 const std::string& revision, const std::string& pin_node, const Json& extra_labels);
  // Picks a node for a pending pod (binding it, starting it at `at` + pod start time, or setting
  // it Running when that is already past); else sets its Unschedulable status. Changes `pod` and
  // the chosen node's allocation, not the pod's row. True when bound; *changed when the body changed.
  bool BindPod(ClusterRow& c, std::vector<NodeRow>& nodes, ObjRow& pod, int64_t at, bool* changed);
  // BindPod on a stored pod, writing it when it changed. True when bound.
  bool SchedulePod(ClusterRow& c, std::vector<NodeRow>& nodes, ObjRow& pod, int64_t at = -1);
  // Retries every pending pod of `c`, oldest first (`at`: when capacity appeared; -1 = now).
  void SchedulePending(ClusterRow& c, std::set<WorkloadRef>* owners, int64_t at = -1);
  void StartPod(ClusterRow& c, ObjRow& pod, int64_t at);
  // Deletes pod rows, returning their requests to their nodes; collects the pods' owners.
  void DeletePods(const std::string& cluster, const std::vector<ObjRow>& pods, std::set<WorkloadRef>* owners);
  std::vector<ObjRow> OwnedPods(const std::string& cluster, const std::string& ns, const std::string& kind,
                                const std::string& name);

  std::unique_ptr<Db> db_;
  Env* env_;
  std::mt19937_64 name_rng_;
  std::mt19937_64 fault_rng_;
  bool rv_loaded_ = false;
  int64_t rv_next_ = 0;
  int64_t rv_stored_ = 0;
  int64_t call_deadline_ms_ = 0;
};

// Helpers shared by the sim's .cc files.
// "SELECT <the sim_objects columns of ObjCodec(with_body, with_applied)> FROM sim_objects ";
// append a WHERE clause, and read the rows with ReadObjRow and the same flags.
const std::string& ObjSelect(bool with_body, bool with_applied);
ObjRow ReadObjRow(const Stmt& q, bool with_body, bool with_applied);
// Sums the containers' resources.requests of a pod spec (malformed or missing = 0).
void PodRequests(const Json& pod_spec, int64_t* cpu_milli, int64_t* mem_bytes);
std::string Rfc3339(int64_t ms);
std::optional<int64_t> ParseRfc3339(const std::string& text);
std::string Lower(std::string s);
// Status guard for public entry points: converts SimError and JSON/std exceptions.
template <typename F>
auto Guard(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const SimError& e) {
    return e.status;
  } catch (const nlohmann::json::exception& e) {
    return Status::Internal(std::string("sim: malformed stored JSON: ") + e.what());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("sim: ") + e.what());
  }
}

}  // namespace converge::sim
