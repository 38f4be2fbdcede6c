#include "tests/testing/fake_provider.h"

#include <mutex>

#include <nlohmann/json.hpp>

#include "engine/diff/diff.h"
#include "engine/model/kinds.h"

namespace converge::testing {

struct FakeProvider::World {
  struct Obj {
    Json body;
    std::optional<Json> applied;  // what converge last applied
  };
  struct Cluster {
    std::string phase, version, uid;
    Json manifest;
    int64_t rv = 0;
    int64_t marker = 0;  // the rv of the last change to any of its objects
    std::map<ObjectKey, Obj> objects;
  };
  struct Op {
    Operation op;
    OperationState state = OperationState::kRunning;
    std::string message;
    std::string version;  // apply: the spec's version
  };
  struct Failure {
    Status status;
    int times = 1;  // < 0: every call
  };

  explicit World(std::string n) : name(std::move(n)) {}

  const std::string name;
  mutable std::mutex mu;
  int64_t next_rv = 1;
  int next_op = 1;
  bool auto_complete = false;
  std::map<std::string, Cluster> clusters;
  std::vector<Op> ops;
  std::map<std::string, Failure> failures;
  std::vector<ConfigDiagnostic> diagnostics;
  std::vector<FakeCall> calls;

  // Logs a call and returns its injected failure, if any. Holds mu.
  Status Enter(const std::string& method, const std::string& cluster, const std::string& key = "",
               const CallOptions* options = nullptr) {
    calls.push_back(FakeCall{method, cluster, key, options ? options->deadline_ms : 0});
    auto it = failures.find(method);
    if (it == failures.end()) return Status::Ok();
    Status st = it->second.status;
    if (it->second.times > 0 && --it->second.times == 0) failures.erase(it);
    return st;
  }

  Cluster* Find(const std::string& cluster) {
    auto it = clusters.find(cluster);
    return it == clusters.end() ? nullptr : &it->second;
  }

  // The cluster an object call is for; Unavailable (not retryable) when it does not exist.
  Result<Cluster*> Reach(const std::string& cluster) {
    Cluster* c = Find(cluster);
    if (!c) return Status::Unavailable("fake: cluster " + cluster + " does not exist", false);
    return c;
  }

  Cluster& AddCluster(const std::string& cluster, const std::string& phase, const std::string& version) {
    Cluster& c = clusters[cluster];
    c.phase = phase;
    c.version = version;
    c.uid = "uid-" + cluster + "-" + std::to_string(next_rv);
    c.rv = next_rv++;
    return c;
  }

  static ObjectKey Normalize(ObjectKey key) {
    if (IsClusterScoped(key.group, key.kind)) {
      key.ns.clear();
    } else if (key.ns.empty() && IsKnownNamespaced(key.group, key.kind)) {
      key.ns = "default";
    }
    return key;
  }

  // Stores `body` as a new revision of `key`.
  Json& Write(Cluster& c, const ObjectKey& key, Json body) {
    int64_t rv = next_rv++;
    Json& md = body["metadata"];
    md["resourceVersion"] = std::to_string(rv);
    auto it = c.objects.find(key);
    if (it == c.objects.end()) {
      md["uid"] = "uid-" + std::to_string(rv);
      md["generation"] = 1;
      it = c.objects.emplace(key, Obj{}).first;
    }
    it->second.body = std::move(body);
    c.marker = rv;
    return it->second.body;
  }

  Json ClusterJson(const std::string& cluster, const Cluster& c) const {
    Json out = c.manifest.is_object() ? c.manifest
                                      : Json{{"apiVersion", kConvergeApiVersion},
                                             {"kind", "Cluster"},
                                             {"metadata", {{"name", cluster}}},
                                             {"spec", {{"version", c.version}}}};
    out["metadata"]["name"] = cluster;
    out["metadata"]["uid"] = c.uid;
    out["metadata"]["resourceVersion"] = std::to_string(c.rv);
    out["status"] = {{"phase", c.phase}, {"version", c.version}, {"nodes", 0}, {"readyNodes", 0}, {"message", ""}};
    return out;
  }

  void Complete(Op& op, OperationState state, const std::string& message) {
    op.state = state;
    op.message = message;
    Cluster* c = Find(op.op.cluster);
    if (op.op.kind == "apply" && c) {
      c->phase = state == OperationState::kSucceeded ? "Running" : "Failed";
      if (state == OperationState::kSucceeded) c->version = op.version;
      c->rv = next_rv++;
    } else if (op.op.kind == "delete" && c && state == OperationState::kSucceeded) {
      clusters.erase(op.op.cluster);
    } else if (op.op.kind == "delete" && c) {
      c->phase = "Running";
    }
  }

  Operation Start(const std::string& kind, const std::string& cluster, const std::string& version) {
    Op op;
    op.op = Operation{kind + "/" + cluster + "/" + std::to_string(next_op++), cluster, kind};
    op.version = version;
    ops.push_back(op);
    if (auto_complete) Complete(ops.back(), OperationState::kSucceeded, "");
    return op.op;
  }
};

namespace {

using World = FakeProvider::World;

class FakeConnector : public ClusterConnector {
 public:
  FakeConnector(std::shared_ptr<World> world, std::string cluster) : w_(std::move(world)), cluster_(std::move(cluster)) {}

  Result<std::vector<ApiResource>> Discover(const CallOptions& options) override {
    std::lock_guard<std::mutex> lock(w_->mu);
    CONVERGE_RETURN_IF_ERROR(w_->Enter("Discover", cluster_, "", &options));
    Result<World::Cluster*> c = w_->Reach(cluster_);
    if (!c.ok()) return c.status();
    std::vector<ApiResource> out;
    for (const BuiltinKind& k : BuiltinKinds()) out.push_back(ApiResource{k.group, k.version, k.kind, k.plural, k.namespaced});
    return out;
  }

  Result<std::string> ChangeMarker(const CallOptions& options) override {
    std::lock_guard<std::mutex> lock(w_->mu);
    CONVERGE_RETURN_IF_ERROR(w_->Enter("ChangeMarker", cluster_, "", &options));
    Result<World::Cluster*> c = w_->Reach(cluster_);
    if (!c.ok()) return c.status();
    return std::to_string((*c)->marker);
  }

  Result<Json> Get(const ObjectKey& key, const CallOptions& options) override {
    std::lock_guard<std::mutex> lock(w_->mu);
    ObjectKey k = World::Normalize(key);
    CONVERGE_RETURN_IF_ERROR(w_->Enter("Get", cluster_, k.ToString(), &options));
    Result<World::Cluster*> c = w_->Reach(cluster_);
    if (!c.ok()) return c.status();
    auto it = (*c)->objects.find(k);
    if (it == (*c)->objects.end()) return Status::NotFound(k.ToString() + " not found in cluster " + cluster_);
    return it->second.body;
  }

  Result<std::vector<std::optional<Json>>> GetMany(const std::vector<ObjectKey>& keys,
                                                   const CallOptions& options) override {
    std::lock_guard<std::mutex> lock(w_->mu);
    CONVERGE_RETURN_IF_ERROR(w_->Enter("GetMany", cluster_, "", &options));
    Result<World::Cluster*> c = w_->Reach(cluster_);
    if (!c.ok()) return c.status();
    std::vector<std::optional<Json>> out;
    for (const ObjectKey& key : keys) {
      auto it = (*c)->objects.find(World::Normalize(key));
      out.push_back(it == (*c)->objects.end() ? std::nullopt : std::optional<Json>(it->second.body));
    }
    return out;
  }

  Result<std::vector<std::string>> ResourceVersions(const std::vector<ObjectKey>& keys,
                                                    const CallOptions& options) override {
    std::lock_guard<std::mutex> lock(w_->mu);
    CONVERGE_RETURN_IF_ERROR(w_->Enter("ResourceVersions", cluster_, "", &options));
    Result<World::Cluster*> c = w_->Reach(cluster_);
    if (!c.ok()) return c.status();
    std::vector<std::string> out;
    for (const ObjectKey& key : keys) {
      auto it = (*c)->objects.find(World::Normalize(key));
      out.push_back(it == (*c)->objects.end() ? "" : it->second.body["metadata"].value("resourceVersion", ""));
    }
    return out;
  }

  Result<ObjectList> List(const std::string& group, const std::string& kind, const std::string& ns,
                          const CallOptions& options) override {
    std::lock_guard<std::mutex> lock(w_->mu);
    CONVERGE_RETURN_IF_ERROR(w_->Enter("List", cluster_, group.empty() ? kind : kind + "." + group, &options));
    Result<World::Cluster*> c = w_->Reach(cluster_);
    if (!c.ok()) return c.status();
    ObjectList out;
    out.version = std::to_string((*c)->marker);
    for (const auto& [key, obj] : (*c)->objects) {
      if (key.group == group && key.kind == kind && (ns.empty() || key.ns == ns)) out.items.push_back(obj.body);
    }
    return out;
  }

  Result<Json> Apply(const Json& desired, const CallOptions& options) override {
    std::lock_guard<std::mutex> lock(w_->mu);
    ObjectKey key = World::Normalize(KeyOf(desired));
    CONVERGE_RETURN_IF_ERROR(w_->Enter("Apply", cluster_, key.ToString(), &options));
    Result<World::Cluster*> c = w_->Reach(cluster_);
    if (!c.ok()) return c.status();
    if (key.name.empty() || key.kind.empty()) {
      return Status::Invalid("cluster " + cluster_ + ": an object to apply needs apiVersion, kind and metadata.name");
    }
    auto it = (*c)->objects.find(key);
    World::Obj* live = it == (*c)->objects.end() ? nullptr : &it->second;
    Json merged = ApplyMerge(live ? &live->body : nullptr, desired, live && live->applied ? &*live->applied : nullptr);
    if (!key.ns.empty()) merged["metadata"]["namespace"] = key.ns;
    if (live && merged == live->body) {  // no change: keep the resourceVersion
      live->applied = desired;
      return live->body;
    }
    Json out = w_->Write(**c, key, std::move(merged));
    (*c)->objects[key].applied = desired;
    return out;
  }

  Status Delete(const ObjectKey& key, const CallOptions& options) override {
    std::lock_guard<std::mutex> lock(w_->mu);
    ObjectKey k = World::Normalize(key);
    CONVERGE_RETURN_IF_ERROR(w_->Enter("Delete", cluster_, k.ToString(), &options));
    Result<World::Cluster*> c = w_->Reach(cluster_);
    if (!c.ok()) return c.status();
    if ((*c)->objects.erase(k) > 0) (*c)->marker = w_->next_rv++;
    return Status::Ok();
  }

 private:
  std::shared_ptr<World> w_;
  const std::string cluster_;
};

class FakeCloudProvider : public CloudProvider {
 public:
  FakeCloudProvider(std::shared_ptr<World> world, std::string cloud) : w_(std::move(world)), cloud_(std::move(cloud)) {}

  Status EnsureCloud(const CallOptions& options) override {
    std::lock_guard<std::mutex> lock(w_->mu);
    return w_->Enter("EnsureCloud", "", cloud_, &options);
  }

  Result<Json> GetCluster(const std::string& name, const CallOptions& options) override {
    std::lock_guard<std::mutex> lock(w_->mu);
    CONVERGE_RETURN_IF_ERROR(w_->Enter("GetCluster", name, "", &options));
    World::Cluster* c = w_->Find(name);
    if (!c) return Status::NotFound("fake: cluster \"" + name + "\" not found");
    return w_->ClusterJson(name, *c);
  }

  Result<Operation> StartApplyCluster(const ClusterSpec& spec, const CallOptions& options) override {
    std::lock_guard<std::mutex> lock(w_->mu);
    CONVERGE_RETURN_IF_ERROR(w_->Enter("StartApplyCluster", spec.name, "", &options));
    World::Cluster* c = w_->Find(spec.name);
    if (!c) {
      c = &w_->AddCluster(spec.name, "Creating", spec.version);
    } else {
      c->phase = "Updating";
      c->rv = w_->next_rv++;
    }
    if (spec.manifest.body) c->manifest = *spec.manifest.body;
    return w_->Start("apply", spec.name, spec.version);
  }

  Result<Operation> StartDeleteCluster(const std::string& name, const CallOptions& options) override {
    std::lock_guard<std::mutex> lock(w_->mu);
    CONVERGE_RETURN_IF_ERROR(w_->Enter("StartDeleteCluster", name, "", &options));
    World::Cluster* c = w_->Find(name);
    if (!c) return Status::NotFound("fake: cluster \"" + name + "\" not found");
    c->phase = "Deleting";
    return w_->Start("delete", name, "");
  }

  Result<OperationStatus> PollOperation(const Operation& operation, const CallOptions& options) override {
    std::lock_guard<std::mutex> lock(w_->mu);
    CONVERGE_RETURN_IF_ERROR(w_->Enter("PollOperation", operation.cluster, operation.id, &options));
    for (const World::Op& op : w_->ops) {
      if (op.op.id == operation.id) return OperationStatus{op.state, op.message};
    }
    return Status::NotFound("fake: no operation \"" + operation.id + "\"");
  }

  Result<ClusterEndpoint> Endpoint(const std::string& cluster, const CallOptions& options) override {
    std::lock_guard<std::mutex> lock(w_->mu);
    CONVERGE_RETURN_IF_ERROR(w_->Enter("Endpoint", cluster, "", &options));
    if (!w_->Find(cluster)) return Status::NotFound("fake: cluster \"" + cluster + "\" not found");
    return ClusterEndpoint{w_->name, cluster, "fake://" + cluster, {}};
  }

 private:
  std::shared_ptr<World> w_;
  const std::string cloud_;
};

class FakeCloudFactory : public CloudProviderFactory {
 public:
  explicit FakeCloudFactory(std::shared_ptr<World> world) : w_(std::move(world)) {}
  std::string name() const override { return w_->name; }
  std::vector<ConfigDiagnostic> ValidateConfig(const Json&) const override {
    std::lock_guard<std::mutex> lock(w_->mu);
    (void)w_->Enter("ValidateConfig", "");
    return w_->diagnostics;
  }
  Result<std::unique_ptr<CloudProvider>> Create(const CloudSpec& cloud, const ProviderContext&) const override {
    std::lock_guard<std::mutex> lock(w_->mu);
    CONVERGE_RETURN_IF_ERROR(w_->Enter("Create", "", cloud.name));
    return std::unique_ptr<CloudProvider>(new FakeCloudProvider(w_, cloud.name));
  }

 private:
  std::shared_ptr<World> w_;
};

class FakeConnectorFactory : public ConnectorFactory {
 public:
  explicit FakeConnectorFactory(std::shared_ptr<World> world) : w_(std::move(world)) {}
  std::string name() const override { return w_->name; }
  Result<std::unique_ptr<ClusterConnector>> Connect(const ClusterEndpoint& endpoint,
                                                    const ProviderContext&) const override {
    std::lock_guard<std::mutex> lock(w_->mu);
    CONVERGE_RETURN_IF_ERROR(w_->Enter("Connect", endpoint.cluster, endpoint.server));
    const std::string scheme = "fake://";
    if (endpoint.server.compare(0, scheme.size(), scheme) != 0) {
      return Status::Invalid("fake: cannot connect to \"" + endpoint.server + "\"");
    }
    std::string cluster = endpoint.server.substr(scheme.size());
    if (!w_->Find(cluster)) return Status::NotFound("fake: cluster \"" + cluster + "\" not found");
    return std::unique_ptr<ClusterConnector>(new FakeConnector(w_, cluster));
  }

 private:
  std::shared_ptr<World> w_;
};

}  // namespace

FakeProvider::FakeProvider(std::string name) : name_(name), world_(std::make_shared<World>(std::move(name))) {}
FakeProvider::~FakeProvider() = default;

std::unique_ptr<CloudProviderFactory> FakeProvider::NewCloudFactory() const {
  return std::make_unique<FakeCloudFactory>(world_);
}

std::unique_ptr<ConnectorFactory> FakeProvider::NewConnectorFactory() const {
  return std::make_unique<FakeConnectorFactory>(world_);
}

ScopedRegistration FakeProvider::Install(ProviderRegistry& registry) const {
  return ScopedRegistration(registry, name_, NewCloudFactory(), NewConnectorFactory());
}

void FakeProvider::AddCluster(const std::string& cluster, const std::string& phase, const std::string& version) {
  std::lock_guard<std::mutex> lock(world_->mu);
  world_->AddCluster(cluster, phase, version);
}

void FakeProvider::SetPhase(const std::string& cluster, const std::string& phase) {
  std::lock_guard<std::mutex> lock(world_->mu);
  if (World::Cluster* c = world_->Find(cluster)) {
    c->phase = phase;
    c->rv = world_->next_rv++;
  }
}

std::string FakeProvider::Phase(const std::string& cluster) const {
  std::lock_guard<std::mutex> lock(world_->mu);
  World::Cluster* c = world_->Find(cluster);
  return c ? c->phase : "";
}

std::optional<Json> FakeProvider::Object(const std::string& cluster, const ObjectKey& key) const {
  std::lock_guard<std::mutex> lock(world_->mu);
  World::Cluster* c = world_->Find(cluster);
  if (!c) return std::nullopt;
  auto it = c->objects.find(World::Normalize(key));
  if (it == c->objects.end()) return std::nullopt;
  return it->second.body;
}

void FakeProvider::PutObject(const std::string& cluster, Json object) {
  std::lock_guard<std::mutex> lock(world_->mu);
  World::Cluster* c = world_->Find(cluster);
  if (!c) c = &world_->AddCluster(cluster, "Running", "1.29");
  ObjectKey key = World::Normalize(KeyOf(object));
  world_->Write(*c, key, std::move(object));
}

void FakeProvider::RemoveObject(const std::string& cluster, const ObjectKey& key) {
  std::lock_guard<std::mutex> lock(world_->mu);
  World::Cluster* c = world_->Find(cluster);
  if (c && c->objects.erase(World::Normalize(key)) > 0) c->marker = world_->next_rv++;
}

size_t FakeProvider::ObjectCount(const std::string& cluster) const {
  std::lock_guard<std::mutex> lock(world_->mu);
  World::Cluster* c = world_->Find(cluster);
  return c ? c->objects.size() : 0;
}

std::vector<Operation> FakeProvider::Operations() const {
  std::lock_guard<std::mutex> lock(world_->mu);
  std::vector<Operation> out;
  for (const World::Op& op : world_->ops) out.push_back(op.op);
  return out;
}

void FakeProvider::CompleteOperation(const std::string& id, OperationState state, const std::string& message) {
  std::lock_guard<std::mutex> lock(world_->mu);
  for (World::Op& op : world_->ops) {
    if (op.op.id == id && op.state == OperationState::kRunning) world_->Complete(op, state, message);
  }
}

void FakeProvider::CompleteAll() {
  std::lock_guard<std::mutex> lock(world_->mu);
  for (World::Op& op : world_->ops) {
    if (op.state == OperationState::kRunning) world_->Complete(op, OperationState::kSucceeded, "");
  }
}

void FakeProvider::set_auto_complete(bool on) {
  std::lock_guard<std::mutex> lock(world_->mu);
  world_->auto_complete = on;
}

void FakeProvider::FailNext(const std::string& method, Status status, int times) {
  std::lock_guard<std::mutex> lock(world_->mu);
  world_->failures[method] = World::Failure{std::move(status), times};
}

void FakeProvider::ClearFailures() {
  std::lock_guard<std::mutex> lock(world_->mu);
  world_->failures.clear();
}

void FakeProvider::SetConfigDiagnostics(std::vector<ConfigDiagnostic> diagnostics) {
  std::lock_guard<std::mutex> lock(world_->mu);
  world_->diagnostics = std::move(diagnostics);
}

std::vector<FakeCall> FakeProvider::Calls() const {
  std::lock_guard<std::mutex> lock(world_->mu);
  return world_->calls;
}

std::vector<FakeCall> FakeProvider::Calls(const std::string& method) const {
  std::lock_guard<std::mutex> lock(world_->mu);
  std::vector<FakeCall> out;
  for (const FakeCall& c : world_->calls) {
    if (c.method == method) out.push_back(c);
  }
  return out;
}

int FakeProvider::CallCount(const std::string& method) const { return static_cast<int>(Calls(method).size()); }

void FakeProvider::ClearCalls() {
  std::lock_guard<std::mutex> lock(world_->mu);
  world_->calls.clear();
}

}  // namespace converge::testing
