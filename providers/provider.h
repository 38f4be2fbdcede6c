// The provider interfaces (v2) and their registry. Depends only on the model and Status.
//   CloudProviderFactory  one per provider name ("sim", "cce", a plugin): validates its own part of
//                         a Cloud spec and creates a CloudProvider for a Cloud.
//   CloudProvider         cluster lifecycle on one cloud account. Long operations are asynchronous:
//                         Start* returns an Operation whose id the engine persists (the store's
//                         operations table) so that a restarted converge resumes polling it.
//                         Endpoint(cluster) says how to reach a cluster's API.
//   ConnectorFactory      one per connector name ("sim", "kubernetes"): connects to a
//                         ClusterEndpoint. Imported clusters need no CloudProvider at all.
//   ClusterConnector      objects inside one cluster: discovery, change marker, reads, server-side
//                         apply under field manager "converge", delete, optional watch.
// Errors are Status values; Status::retryable() says whether the same call may succeed later.
// Every call takes CallOptions with a deadline on the monotonic clock: a call that cannot finish
// by then returns Timeout. Factories, providers and connectors are safe to call from several
// threads at once.
// Providers register themselves from their own .cc file with CONVERGE_REGISTER_CLOUD_PROVIDER /
// CONVERGE_REGISTER_CONNECTOR (envoy's REGISTER_FACTORY); a name registered twice is an error, and
// tests may Replace an entry and restore it.
#pragma once

#include <cstdint>
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

// Limits of one provider call.
struct CallOptions {
  int64_t deadline_ms = 0;  // Env::MonotonicMillis() time by which the call must end; 0 = none
};

// One kind a cluster serves.
struct ApiResource {
  std::string group;    // "" for the core group
  std::string version;  // preferred version, e.g. "v1"
  std::string kind;
  std::string plural;   // e.g. "deployments"
  bool namespaced = true;
};

// How to reach a cluster's API. Holds no secret: credentials are named (environment variables,
// files), as in a Cloud spec.
struct ClusterEndpoint {
  std::string connector;  // name of the ConnectorFactory that can connect to it
  std::string cluster;    // the Cluster's name in converge
  std::string server;     // e.g. "sim://prod-1", "https://10.0.0.1:6443"
  std::map<std::string, std::string> params;  // connector-specific: CA file, credential env names
};

// A list of objects of one kind, with the collection's version (as a Kubernetes list's
// metadata.resourceVersion).
struct ObjectList {
  std::vector<Json> items;
  std::string version;
};

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark };
  Type type = Type::kModified;
  JsonPtr object;  // null for bookmarks
  std::string version;
};

// A stream of changes to one kind, from a collection version on.
class ObjectWatch {
 public:
  virtual ~ObjectWatch() = default;
  // The next events (possibly none when the deadline passes first). Gone (Conflict) when the
  // version is too old: list again.
  virtual Result<std::vector<WatchEvent>> Next(const CallOptions& options) = 0;
};

class ClusterConnector {
 public:
  virtual ~ClusterConnector() = default;

  // The kinds the cluster serves, with their scope.
  virtual Result<std::vector<ApiResource>> Discover(const CallOptions& options) = 0;
  // An opaque marker that changes whenever any object in the cluster may have changed (for the
  // sim, a per-cluster counter; for a watch, the last event's version). "" when the connector
  // cannot tell: the engine then checks objects one by one. An unchanged marker lets a no-op
  // plan skip the cluster with this one call.
  virtual Result<std::string> ChangeMarker(const CallOptions& options) = 0;
  // The live object, or NotFound.
  virtual Result<Json> Get(const ObjectKey& key, const CallOptions& options) = 0;
  // Live objects for many keys at once; nullopt where an object does not exist.
  virtual Result<std::vector<std::optional<Json>>> GetMany(const std::vector<ObjectKey>& keys,
                                                           const CallOptions& options) = 0;
  // resourceVersion for each key ("" where missing), in one round trip.
  virtual Result<std::vector<std::string>> ResourceVersions(const std::vector<ObjectKey>& keys,
                                                            const CallOptions& options) = 0;
  // Every object of one kind (`ns` empty: all namespaces).
  virtual Result<ObjectList> List(const std::string& group, const std::string& kind, const std::string& ns,
                                  const CallOptions& options) = 0;
  // Server-side apply: creates or updates; fields converge applied before and no longer sends are
  // removed, fields owned by others are kept. Returns the live object after the apply.
  virtual Result<Json> Apply(const Json& desired, const CallOptions& options) = 0;
  // Deletes the object; NotFound counts as success.
  virtual Status Delete(const ObjectKey& key, const CallOptions& options) = 0;
  // Changes to one kind after `version`. Optional: Unsupported by default.
  virtual Result<std::unique_ptr<ObjectWatch>> Watch(const std::string& group, const std::string& kind,
                                                     const std::string& ns, const std::string& version,
                                                     const CallOptions& options);
};

// A long-running cloud operation on one cluster.
struct Operation {
  std::string id;       // unique within the provider; opaque to the engine
  std::string cluster;
  std::string kind;     // "apply" | "delete"
};

enum class OperationState { kRunning, kSucceeded, kFailed };

struct OperationStatus {
  OperationState state = OperationState::kRunning;
  std::string message;  // why it failed, or what it is doing
};

class CloudProvider {
 public:
  virtual ~CloudProvider() = default;

  // Makes sure the cloud account (the CloudSpec this provider was created for) exists and is
  // usable; the sim creates its simulated cloud here.
  virtual Status EnsureCloud(const CallOptions& options) = 0;
  // Live view of a cluster in the shape of its Cluster manifest (apiVersion, kind, metadata, spec)
  // plus `status` {phase, version, nodes, readyNodes, message, nodePools}; metadata.resourceVersion
  // changes whenever the cluster does. NotFound when absent. phase is one of Creating, Running,
  // Updating, Upgrading, Deleting, Failed.
  virtual Result<Json> GetCluster(const std::string& name, const CallOptions& options) = 0;
  // Starts creating the cluster, or updating it (node pool scale, version upgrade) to match
  // `spec`. Invalid for a change the cloud cannot make (a downgrade, a region move).
  virtual Result<Operation> StartApplyCluster(const ClusterSpec& spec, const CallOptions& options) = 0;
  // Starts deleting the cluster. Conflict while the live cluster has deletionProtection.
  virtual Result<Operation> StartDeleteCluster(const std::string& name, const CallOptions& options) = 0;
  // Where an operation stands. NotFound when the provider no longer knows it (e.g. expired).
  virtual Result<OperationStatus> PollOperation(const Operation& operation, const CallOptions& options) = 0;
  // How to reach the cluster's API. NotFound when the cluster does not exist.
  virtual Result<ClusterEndpoint> Endpoint(const std::string& cluster, const CallOptions& options) = 0;
};

// What factories get: the process environment and the state directory (the sim keeps its world
// in <state_dir>/converge.db).
struct ProviderContext {
  Env* env = nullptr;
  std::string state_dir;
};

// A problem a provider found in its part of a Cloud spec; `path` names the field from the
// document root, e.g. {"spec", "simulation", "podStartSeconds"}, so the engine can report it
// with file:line:column.
struct ConfigDiagnostic {
  std::vector<std::string> path;
  std::string message;
};

class CloudProviderFactory {
 public:
  virtual ~CloudProviderFactory() = default;
  virtual std::string name() const = 0;
  // Checks the provider's own fields of a Cloud's `spec` (everything but provider, region,
  // regions and endpoint, which the engine checks): unknown fields, types, credential keys.
  // Returns every problem; empty when valid. Pure; never echoes values under credentials.
  virtual std::vector<ConfigDiagnostic> ValidateConfig(const Json& cloud_spec) const = 0;
  // A provider for one Cloud whose config passed ValidateConfig.
  virtual Result<std::unique_ptr<CloudProvider>> Create(const CloudSpec& cloud, const ProviderContext& ctx) const = 0;
};

class ConnectorFactory {
 public:
  virtual ~ConnectorFactory() = default;
  virtual std::string name() const = 0;
  virtual Result<std::unique_ptr<ClusterConnector>> Connect(const ClusterEndpoint& endpoint,
                                                            const ProviderContext& ctx) const = 0;
};

// Factories by name, one map per kind of factory. Thread-safe.
class ProviderRegistry {
 public:
  ProviderRegistry();
  ~ProviderRegistry();
  ProviderRegistry(const ProviderRegistry&) = delete;
  ProviderRegistry& operator=(const ProviderRegistry&) = delete;

  // The process-wide registry, holding every factory registered with the macros below.
  static ProviderRegistry& Global();

  // AlreadyExists when the name is taken.
  Status RegisterCloud(std::unique_ptr<CloudProviderFactory> factory);
  Status RegisterConnector(std::unique_ptr<ConnectorFactory> factory);
  // Swaps in `factory` (null: removes the entry) and returns the previous one, for tests.
  std::unique_ptr<CloudProviderFactory> ReplaceCloud(const std::string& name,
                                                     std::unique_ptr<CloudProviderFactory> factory);
  std::unique_ptr<ConnectorFactory> ReplaceConnector(const std::string& name, std::unique_ptr<ConnectorFactory> factory);

  // Null when unknown. The factory lives until it is replaced.
  const CloudProviderFactory* Cloud(const std::string& name) const;
  const ConnectorFactory* Connector(const std::string& name) const;
  std::vector<std::string> CloudNames() const;
  std::vector<std::string> ConnectorNames() const;

  // Creates the provider for `cloud`; NotFound naming the known providers when unknown.
  Result<std::unique_ptr<CloudProvider>> CreateCloud(const CloudSpec& cloud, const ProviderContext& ctx) const;
  // Connects to `endpoint`; NotFound naming the known connectors when unknown.
  Result<std::unique_ptr<ClusterConnector>> Connect(const ClusterEndpoint& endpoint, const ProviderContext& ctx) const;

  // Problems met by the registration macros (a name registered twice), reported by the CLI at
  // start-up; empty when all is well.
  std::vector<Status> RegistrationErrors() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

namespace provider_internal {
// Called by the macros at static initialization; failures are kept in RegistrationErrors().
bool RegisterCloudAtStartup(std::unique_ptr<CloudProviderFactory> factory);
bool RegisterConnectorAtStartup(std::unique_ptr<ConnectorFactory> factory);
}  // namespace provider_internal

}  // namespace converge

#define CONVERGE_REGISTRATION_CONCAT_(a, b) a##b
#define CONVERGE_REGISTRATION_NAME_(a, b) CONVERGE_REGISTRATION_CONCAT_(a, b)

// In a provider's .cc, at namespace scope: CONVERGE_REGISTER_CLOUD_PROVIDER(SimCloudFactory);
// The library holding it must be linked whole (CMake: converge_providers is WHOLE_ARCHIVE).
#define CONVERGE_REGISTER_CLOUD_PROVIDER(FactoryType)                                      \
  static const bool CONVERGE_REGISTRATION_NAME_(converge_registered_cloud_, __LINE__) = \
      ::converge::provider_internal::RegisterCloudAtStartup(std::make_unique<FactoryType>())
#define CONVERGE_REGISTER_CONNECTOR(FactoryType)                                               \
  static const bool CONVERGE_REGISTRATION_NAME_(converge_registered_connector_, __LINE__) = \
      ::converge::provider_internal::RegisterConnectorAtStartup(std::make_unique<FactoryType>())
