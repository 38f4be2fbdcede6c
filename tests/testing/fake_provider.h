// FakeProvider: an in-memory cloud for tests of the registry, the recorder and the reconciler. One
// FakeProvider is one world; its CloudProviderFactory and ConnectorFactory (both named name())
// create providers and connectors that share it. The world holds clusters whose phase the test
// sets, objects with a world-wide resourceVersion counter and server-side apply (engine/diff's
// ApplyMerge with the last-applied object), and operations that stay Running until the test
// completes them. Every call is logged (method, cluster, key) and any method can be made to fail.
// Thread-safe: one mutex over the world.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "providers/provider.h"
#include "tests/testing/scoped_registration.h"

namespace converge::testing {

// One call a fake provider, connector or factory answered.
struct FakeCall {
  std::string method;  // the interface method: "StartApplyCluster", "Apply", "Connect", ...
  std::string cluster;
  std::string key;          // ObjectKey::ToString() for object calls, the id for PollOperation
  int64_t deadline_ms = 0;  // CallOptions::deadline_ms of the call
};

class FakeProvider {
 public:
  explicit FakeProvider(std::string name = "fake");
  ~FakeProvider();
  FakeProvider(const FakeProvider&) = delete;
  FakeProvider& operator=(const FakeProvider&) = delete;

  const std::string& name() const { return name_; }

  // Factories over this world, for a registry.
  std::unique_ptr<CloudProviderFactory> NewCloudFactory() const;
  std::unique_ptr<ConnectorFactory> NewConnectorFactory() const;
  // Both factories in `registry` under name() until the guard goes.
  ScopedRegistration Install(ProviderRegistry& registry) const;

  // --- clusters. Endpoints are {name(), cluster, "fake://<cluster>"}.
  // Adds (or resets) a cluster in `phase`, without an operation.
  void AddCluster(const std::string& cluster, const std::string& phase = "Running", const std::string& version = "1.29");
  void SetPhase(const std::string& cluster, const std::string& phase);
  // "" when the cluster does not exist.
  std::string Phase(const std::string& cluster) const;

  // --- objects
  std::optional<Json> Object(const std::string& cluster, const ObjectKey& key) const;
  // Writes an object as another actor would: a new resourceVersion, converge's last-applied kept.
  void PutObject(const std::string& cluster, Json object);
  void RemoveObject(const std::string& cluster, const ObjectKey& key);
  size_t ObjectCount(const std::string& cluster) const;

  // --- operations ("apply/<cluster>/<n>", "delete/<cluster>/<n>"), Running until completed.
  std::vector<Operation> Operations() const;
  // Ends an operation. Succeeded: an apply leaves the cluster Running at the spec's version, a
  // delete removes it and its objects. Failed: an apply leaves it Failed, a delete as it was.
  void CompleteOperation(const std::string& id, OperationState state = OperationState::kSucceeded,
                         const std::string& message = "");
  void CompleteAll();
  // With true, operations complete as they start.
  void set_auto_complete(bool on);

  // --- faults: the next `times` calls of `method` fail with `status` (times < 0: every call).
  void FailNext(const std::string& method, Status status, int times = 1);
  void ClearFailures();
  // Problems ValidateConfig reports for every Cloud (default: none).
  void SetConfigDiagnostics(std::vector<ConfigDiagnostic> diagnostics);

  // --- the call log, in call order
  std::vector<FakeCall> Calls() const;
  std::vector<FakeCall> Calls(const std::string& method) const;
  int CallCount(const std::string& method) const;
  void ClearCalls();

  struct World;  // public for the implementation's classes; opaque to tests

 private:
  std::string name_;
  std::shared_ptr<World> world_;
};

}  // namespace converge::testing
