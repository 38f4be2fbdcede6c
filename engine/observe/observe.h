// Observe: the fleet's live state as data, for a plan. Clusters first (whether each exists, its
// phase and nodes, and its change marker), because placement by readiness and capacity needs them;
// then, per cluster, the resourceVersions of the objects the plan looks at and the bodies of
// those that need a diff. Reachability is data: a cluster that cannot be observed says why, and
// the plan neither compares nor applies its objects. Calls retry retryable errors with backoff
// and carry a deadline; clusters are observed in parallel. An Observer is used by one thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/retry.h"
#include "engine/base/status.h"
#include "engine/model/object.h"

namespace converge {

class Env;
class FleetSession;

struct ObserveOptions {
  int parallelism = 4;                // clusters observed at once
  RetryPolicy retry{3, 200, 2'000};   // per call
  int64_t call_timeout_ms = 30'000;   // deadline of each call
};

// One cluster as a plan sees it.
struct ClusterLive {
  std::string name;
  Status reachable;                // ok when the cluster's cloud answered; else why not
  JsonPtr cluster;                 // the live Cluster object; null when the cloud has none
  std::string phase;               // status.phase, "" when missing
  std::string resource_version;    // of the live Cluster object
  int nodes = 0, ready_nodes = 0;
  // The objects' change marker (ClusterConnector::ChangeMarker); "" when unknown, or when the
  // cluster's objects cannot be read (missing, creating, unreachable).
  std::string marker;
  Status objects_reachable;        // ok when the marker (or the connection) could be had

  bool exists() const { return reachable.ok() && cluster != nullptr; }
  // Whether its objects can be read now (it exists and is past Creating).
  bool ready() const { return exists() && phase != "Creating"; }
};

// A kind a cluster serves (ClusterConnector::Discover), as plan needs it for custom resources.
struct ServedKind {
  std::string group;
  std::string kind;
  bool namespaced = true;
};

class Observer {
 public:
  Observer(FleetSession* session, Env* env, ObserveOptions options);

  // The live Cluster of each name (GetCluster) and, with `markers`, the change marker of each
  // that is ready; in parallel. Never fails as a whole: each entry says what it could see.
  std::map<std::string, ClusterLive> Clusters(const std::vector<std::string>& names, bool markers);
  // resourceVersion of each key ("" where missing), in one call.
  Result<std::vector<std::string>> Versions(const std::string& cluster, const std::vector<ObjectKey>& keys);
  // The live objects for `keys` (nullopt where missing), in one call.
  Result<std::vector<std::optional<Json>>> Bodies(const std::string& cluster, const std::vector<ObjectKey>& keys);
  // The kinds the cluster serves (built-in ones and those its CustomResourceDefinitions add).
  Result<std::vector<ServedKind>> Kinds(const std::string& cluster);

 private:
  ClusterLive ObserveOne(const std::string& name, bool marker);

  FleetSession* session_;
  Env* env_;
  ObserveOptions options_;
};

}  // namespace converge
