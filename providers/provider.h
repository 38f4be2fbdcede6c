// The two provider interfaces and their registry.
//   CloudProvider    cluster lifecycle on one cloud account (create, scale, upgrade, delete).
//   ClusterConnector objects inside one cluster (get, apply with server-side-apply semantics under
//                    field manager "converge", delete).
// Errors are Status values; Status::retryable() says whether the same call may succeed later.
// Implementations must be safe to call from several threads at once (apply runs clusters in
// parallel); one connector is used by one thread at a time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/model/fleet.h"
#include "engine/model/object.h"

namespace converge {

class Env;

// The field manager converge applies as.
inline constexpr const char* kFieldManager = "converge";

class ClusterConnector {
 public:
  virtual ~ClusterConnector() = default;

  // The live object, or NotFound.
  virtual Result<Json> Get(const ObjectKey& key) = 0;
  // Live objects for many keys at once; nullopt where an object does not exist.
  virtual Result<std::vector<std::optional<Json>>> GetMany(const std::vector<ObjectKey>& keys) = 0;
  // resourceVersion for each key ("" where missing): the cheap check a no-op plan relies on.
  virtual Result<std::vector<std::string>> ResourceVersions(const std::vector<ObjectKey>& keys) = 0;
  // Server-side apply: creates or updates; fields converge applied before and no longer sends
  // are removed, fields owned by others are kept. Returns the live object after the apply.
  virtual Result<Json> Apply(const Json& desired) = 0;
  // Deletes the object; NotFound counts as success.
  virtual Status Delete(const ObjectKey& key) = 0;
};

class CloudProvider {
 public:
  virtual ~CloudProvider() = default;

  // Makes sure the cloud account exists and is usable (the sim creates it).
  virtual Status EnsureCloud(const CloudSpec& cloud) = 0;
  // Live view of a cluster in the shape of its Cluster manifest (apiVersion, kind, metadata,
  // spec) plus `status` {phase, version, nodes, readyNodes, message}. NotFound when absent.
  // phase is one of Creating, Running, Updating, Upgrading, Deleting, Failed.
  virtual Result<Json> GetCluster(const std::string& name) = 0;
  // Creates the cluster, or updates it (node pool scale, version upgrade) to match `spec`.
  // Long operations continue asynchronously; poll GetCluster for phase Running.
  virtual Status ApplyCluster(const ClusterSpec& spec) = 0;
  // Deletes the cluster. Refused (Conflict) while the live cluster has deletionProtection.
  virtual Status DeleteCluster(const std::string& name) = 0;
  // A connector for objects inside a cluster of this cloud.
  virtual Result<std::unique_ptr<ClusterConnector>> Connect(const std::string& cluster) = 0;
};

// What a provider factory gets: the process environment and the state directory (the sim keeps
// its world in <state_dir>/converge.db).
struct ProviderContext {
  Env* env = nullptr;
  std::string state_dir;
};

using CloudProviderFactory =
    std::function<Result<std::unique_ptr<CloudProvider>>(const CloudSpec&, const ProviderContext&)>;

// Provider factories by name. Registering a name twice is an error; tests may Replace an entry and
// restore the old one. Thread-safe.
class ProviderRegistry {
 public:
  ProviderRegistry();
  ~ProviderRegistry();
  ProviderRegistry(const ProviderRegistry&) = delete;
  ProviderRegistry& operator=(const ProviderRegistry&) = delete;

  // The process-wide registry, with the built-in providers (sim) registered.
  static ProviderRegistry& Global();

  // AlreadyExists when `name` is registered.
  Status Register(const std::string& name, CloudProviderFactory factory);
  // Swaps in `factory` and returns the previous one (empty if none).
  CloudProviderFactory Replace(const std::string& name, CloudProviderFactory factory);
  // NotFound naming the known providers when cloud.provider is unknown.
  Result<std::unique_ptr<CloudProvider>> Create(const CloudSpec& cloud, const ProviderContext& ctx) const;
  bool Has(const std::string& name) const;
  std::vector<std::string> Names() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace converge
