// The sim's side of provider interface v2 over SimState: asynchronous cluster operations whose ids
// carry all a poll needs, endpoints, discovery, the change marker, lists, resourceVersions of many
// keys in one query, and call deadlines.
//
// Operation ids. The sim applies and deletes clusters in one transaction; what takes time is the
// cluster becoming Running, which the world computes from timestamps. So an id names the state
// that ends the operation, and any SimState on the same file (a restarted converge included)
// answers a poll from the world alone:
//   apply/<cluster>/<rv>   rv = the cluster's resourceVersion right after the apply. Succeeded while
//                          the cluster is Running at rv or later (rvs only grow, so a later apply
//                          or even a re-creation also ends it); failed when the cluster is Failed
//                          or gone; running otherwise. The world keeps no history: while a later
//                          apply is in progress, earlier ones read as running again.
//   delete/<cluster>/<uid> succeeded once no cluster of that name with that uid exists.
#include <climits>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/base/env.h"
#include "engine/model/kinds.h"
#include "providers/deadline.h"
#include "providers/sim/sim_state.h"

namespace converge::sim {
namespace {

constexpr const char* kCrdGroup = "apiextensions.k8s.io";
constexpr const char* kCrdKind = "CustomResourceDefinition";

// Splits "kind/cluster/tail"; false when `id` does not have that form.
bool ParseOperationId(const std::string& id, std::string* kind, std::string* cluster, std::string* tail) {
  size_t a = id.find('/');
  if (a == std::string::npos) return false;
  size_t b = id.find('/', a + 1);
  if (b == std::string::npos || b == a + 1 || b + 1 == id.size()) return false;
  *kind = id.substr(0, a);
  *cluster = id.substr(a + 1, b - a - 1);
  *tail = id.substr(b + 1);
  return true;
}

// The version a CustomResourceDefinition serves by preference: its storage version when served,
// else the first served one.
std::string PreferredVersion(const Json& versions) {
  std::string first;
  if (!versions.is_array()) return first;
  for (const Json& v : versions) {
    if (!v.is_object() || !v.value("served", true) || !v.value("name", Json()).is_string()) continue;
    if (first.empty()) first = v["name"].get<std::string>();
    if (v.value("storage", false)) return v["name"].get<std::string>();
  }
  return first;
}

}  // namespace

void SimState::SleepLatency(const std::string& cluster, int64_t latency_ms) {
  int64_t left = call_deadline_ms_ == 0 ? INT64_MAX : call_deadline_ms_ - CallClockMillis(env_);
  if (latency_ms <= left) {
    env_->SleepMillis(latency_ms);
    return;
  }
  if (left > 0) env_->SleepMillis(left);
  Fail(Status::Timeout("cluster " + cluster + ": no answer within the call's deadline (simulated latency of " +
                       std::to_string(latency_ms) + " ms); retry, or heal the cluster"));
}

Result<Operation> SimState::StartApplyCluster(const CloudSpec& provider_cloud, const ClusterSpec& spec) {
  Status st = ApplyCluster(provider_cloud, spec);
  if (!st.ok()) return st;
  return Guard([&]() -> Result<Operation> {
    // Read after the apply's own transaction: an apply by someone else in between only makes the
    // id name a later version, which this apply's outcome is part of.
    ClusterRow c = LoadCluster(spec.name);
    return Operation{"apply/" + c.name + "/" + std::to_string(c.rv), c.name, "apply"};
  });
}

Result<Operation> SimState::StartDeleteCluster(const std::string& cloud, const std::string& name) {
  return Guard([&]() -> Result<Operation> {
    std::string uid = LoadCluster(name, cloud).uid;
    Status st = DeleteCluster(cloud, name);
    if (!st.ok()) return st;
    return Operation{"delete/" + name + "/" + uid, name, "delete"};
  });
}

Result<OperationStatus> SimState::PollOperation(const std::string& cloud, const std::string& id) {
  return Guard([&]() -> Result<OperationStatus> {
    std::string kind, cluster, tail;
    if (!ParseOperationId(id, &kind, &cluster, &tail) || (kind != "apply" && kind != "delete")) {
      return Status::NotFound("sim: no operation \"" + id + "\": ids are apply/<cluster>/<rv> or delete/<cluster>/<uid>");
    }
    std::optional<ClusterRow> c = FindCluster(cluster);
    if (c && !cloud.empty() && c->cloud != cloud) c.reset();
    if (kind == "delete") {
      if (!c || c->uid != tail) return OperationStatus{OperationState::kSucceeded, "cluster " + cluster + " is deleted"};
      return OperationStatus{OperationState::kRunning, "deleting cluster " + cluster};
    }
    char* end = nullptr;
    long long rv = std::strtoll(tail.c_str(), &end, 10);
    if (tail.empty() || *end != '\0') return Status::NotFound("sim: no operation \"" + id + "\": bad resourceVersion");
    if (!c) {
      return OperationStatus{OperationState::kFailed,
                             "cluster " + cluster + " no longer exists in the simulated world: apply its Cluster again"};
    }
    Json status = ClusterJson(*c, Now())["status"];
    std::string phase = status.value("phase", "");
    std::string message = status.value("message", "");
    if (phase == "Failed") return OperationStatus{OperationState::kFailed, "cluster " + cluster + " failed: " + message};
    if (phase == "Running" && c->rv >= rv) return OperationStatus{OperationState::kSucceeded, "cluster " + cluster + " is Running"};
    return OperationStatus{OperationState::kRunning, phase + (message.empty() ? "" : ": " + message)};
  });
}

Result<ClusterEndpoint> SimState::Endpoint(const std::string& cloud, const std::string& cluster) {
  return Guard([&]() -> Result<ClusterEndpoint> {
    ClusterRow c = LoadCluster(cluster, cloud);
    return ClusterEndpoint{"sim", c.name, "sim://" + c.name, {}};
  });
}

Result<std::vector<ApiResource>> SimState::Discover(const std::string& cluster) {
  return Guard([&]() -> Result<std::vector<ApiResource>> {
    Preflight(cluster);
    std::vector<ApiResource> out;
    for (const BuiltinKind& k : BuiltinKinds()) out.push_back(ApiResource{k.group, k.version, k.kind, k.plural, k.namespaced});
    Stmt q = db_->Prepare("SELECT body FROM sim_objects WHERE cluster = ? AND grp = ? AND kind = ? ORDER BY name");
    q.Bind(1, cluster).Bind(2, std::string(kCrdGroup)).Bind(3, std::string(kCrdKind));
    while (q.Step()) {
      Json crd = Json::parse(q.Text(0));
      const Json spec = crd.value("spec", Json::object());
      const Json names = spec.value("names", Json::object());
      if (!spec.value("group", Json()).is_string() || !names.value("kind", Json()).is_string()) continue;
      ApiResource r;
      r.group = spec["group"].get<std::string>();
      r.kind = names["kind"].get<std::string>();
      r.plural = names.value("plural", Lower(r.kind) + "s");
      r.version = PreferredVersion(spec.value("versions", Json::array()));
      r.namespaced = spec.value("scope", "Namespaced") != "Cluster";
      out.push_back(std::move(r));
    }
    return out;
  });
}

// The marker is the cluster's uid and its objects_rv (see below): it changes whenever an object
// of the cluster is written or deleted, and never repeats.
std::string SimState::MarkerLocked(const std::string& cluster) {
  // objects_rv counts every insert, update and delete of the cluster's objects (triggers, sim
  // migration 2), so it cannot repeat while the cluster lives; the uid tells a cluster deleted
  // and created again apart. One indexed lookup, whatever the cluster holds.
  Stmt q = db_->Prepare("SELECT uid, objects_rv FROM sim_clusters WHERE name = ?");
  q.Bind(1, cluster);
  if (!q.Step()) return "";
  return q.Text(0) + "." + std::to_string(q.Int(1));
}

Result<std::string> SimState::ChangeMarker(const std::string& cluster) {
  return Guard([&]() -> Result<std::string> {
    ClusterRow c = Preflight(cluster);
    AdvanceIfDue(c);
    return MarkerLocked(cluster);
  });
}

Result<ObjectList> SimState::ListObjects(const std::string& cluster, const std::string& group, const std::string& kind,
                                         const std::string& ns) {
  return Guard([&]() -> Result<ObjectList> {
    ClusterRow c = Preflight(cluster);
    AdvanceIfDue(c);
    ObjectList out;
    // The marker first: should a writer slip in between, the version is older than the items,
    // and whoever lists again from it sees that change once more rather than never.
    out.version = MarkerLocked(cluster);
    std::string sql = "SELECT body FROM sim_objects WHERE cluster = ? AND grp = ? AND kind = ?";
    if (!ns.empty()) sql += " AND namespace = ?";
    Stmt q = db_->Prepare(sql + " ORDER BY namespace, name");
    q.Bind(1, cluster).Bind(2, group).Bind(3, kind);
    if (!ns.empty()) q.Bind(4, ns);
    while (q.Step()) out.items.push_back(Json::parse(q.Text(0)));
    return out;
  });
}

Result<std::vector<std::string>> SimState::ResourceVersions(const std::string& cluster,
                                                            const std::vector<ObjectKey>& keys) {
  return Guard([&]() -> Result<std::vector<std::string>> {
    ClusterRow c = Preflight(cluster);
    AdvanceIfDue(c);
    std::vector<std::string> out(keys.size());
    if (keys.empty()) return out;
    // One statement for every key: the keys go in as one JSON array and each is looked up through
    // the unique index on (cluster, grp, kind, namespace, name). CROSS JOIN keeps the keys the outer
    // loop: with a plain JOIN SQLite scans the cluster's rows and probes the array for each.
    Json list = Json::array();
    for (const ObjectKey& key : keys) {
      ObjectKey k = NormalizeKey(key);
      list.push_back(Json::array({k.group, k.kind, k.ns, k.name}));
    }
    Stmt q = db_->Prepare(
        "SELECT k.key, o.rv FROM json_each(?) AS k CROSS JOIN sim_objects AS o ON o.cluster = ? AND "
        "o.grp = k.value ->> 0 AND o.kind = k.value ->> 1 AND o.namespace = k.value ->> 2 AND o.name = k.value ->> 3");
    q.Bind(1, list.dump(-1, ' ', false, Json::error_handler_t::replace)).Bind(2, cluster);
    while (q.Step()) {
      int64_t i = q.Int(0);
      if (i >= 0 && static_cast<size_t>(i) < out.size()) out[static_cast<size_t>(i)] = std::to_string(q.Int(1));
    }
    return out;
  });
}

}  // namespace converge::sim
