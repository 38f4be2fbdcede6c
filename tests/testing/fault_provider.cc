#include "tests/testing/fault_provider.h"

#include <unistd.h>

#include <cstdio>

#include <nlohmann/json.hpp>

namespace converge::testing {
namespace {

// Runs `call` with the injector's decision for `method` around it.
template <typename F>
auto Around(FaultInjector& injector, const char* method, F&& call) -> decltype(call()) {
  FaultInjector::Decision d = injector.OnCall(method);
  auto hit = [&] {
    if (d.rule.exit_code >= 0) {
      std::fflush(nullptr);
      _exit(d.rule.exit_code);
    }
  };
  if (d.hit && d.rule.timing == FaultTiming::kBeforeCall) {
    hit();
    return d.rule.status;
  }
  auto result = call();
  if (d.hit && d.rule.timing == FaultTiming::kAfterCall) {
    hit();
    return d.rule.status;
  }
  return result;
}

class FaultConnector : public ClusterConnector {
 public:
  FaultConnector(std::shared_ptr<FaultInjector> injector, std::unique_ptr<ClusterConnector> inner)
      : injector_(std::move(injector)), inner_(std::move(inner)) {}

  Result<std::vector<ApiResource>> Discover(const CallOptions& o) override {
    return Around(*injector_, "Discover", [&] { return inner_->Discover(o); });
  }
  Result<std::string> ChangeMarker(const CallOptions& o) override {
    return Around(*injector_, "ChangeMarker", [&] { return inner_->ChangeMarker(o); });
  }
  Result<Json> Get(const ObjectKey& key, const CallOptions& o) override {
    return Around(*injector_, "Get", [&] { return inner_->Get(key, o); });
  }
  Result<std::vector<std::optional<Json>>> GetMany(const std::vector<ObjectKey>& keys, const CallOptions& o) override {
    return Around(*injector_, "GetMany", [&] { return inner_->GetMany(keys, o); });
  }
  Result<std::vector<std::string>> ResourceVersions(const std::vector<ObjectKey>& keys, const CallOptions& o) override {
    return Around(*injector_, "ResourceVersions", [&] { return inner_->ResourceVersions(keys, o); });
  }
  Result<ObjectList> List(const std::string& group, const std::string& kind, const std::string& ns,
                          const CallOptions& o) override {
    return Around(*injector_, "List", [&] { return inner_->List(group, kind, ns, o); });
  }
  Result<Json> Apply(const Json& desired, const CallOptions& o) override {
    return Around(*injector_, "Apply", [&] { return inner_->Apply(desired, o); });
  }
  Status Delete(const ObjectKey& key, const CallOptions& o) override {
    return Around(*injector_, "Delete", [&] { return inner_->Delete(key, o); });
  }
  Result<std::unique_ptr<ObjectWatch>> Watch(const std::string& group, const std::string& kind, const std::string& ns,
                                             const std::string& version, const CallOptions& o) override {
    return Around(*injector_, "Watch", [&] { return inner_->Watch(group, kind, ns, version, o); });
  }

 private:
  std::shared_ptr<FaultInjector> injector_;
  std::unique_ptr<ClusterConnector> inner_;
};

class FaultCloudProvider : public CloudProvider {
 public:
  FaultCloudProvider(std::shared_ptr<FaultInjector> injector, std::unique_ptr<CloudProvider> inner)
      : injector_(std::move(injector)), inner_(std::move(inner)) {}

  Status EnsureCloud(const CallOptions& o) override {
    return Around(*injector_, "EnsureCloud", [&] { return inner_->EnsureCloud(o); });
  }
  Result<Json> GetCluster(const std::string& name, const CallOptions& o) override {
    return Around(*injector_, "GetCluster", [&] { return inner_->GetCluster(name, o); });
  }
  Result<Operation> StartApplyCluster(const ClusterSpec& spec, const CallOptions& o) override {
    return Around(*injector_, "StartApplyCluster", [&] { return inner_->StartApplyCluster(spec, o); });
  }
  Result<Operation> StartDeleteCluster(const std::string& name, const CallOptions& o) override {
    return Around(*injector_, "StartDeleteCluster", [&] { return inner_->StartDeleteCluster(name, o); });
  }
  Result<OperationStatus> PollOperation(const Operation& op, const CallOptions& o) override {
    return Around(*injector_, "PollOperation", [&] { return inner_->PollOperation(op, o); });
  }
  Result<ClusterEndpoint> Endpoint(const std::string& cluster, const CallOptions& o) override {
    return Around(*injector_, "Endpoint", [&] { return inner_->Endpoint(cluster, o); });
  }

 private:
  std::shared_ptr<FaultInjector> injector_;
  std::unique_ptr<CloudProvider> inner_;
};

class FaultCloudFactory : public CloudProviderFactory {
 public:
  FaultCloudFactory(std::shared_ptr<FaultInjector> injector, std::unique_ptr<CloudProviderFactory> inner)
      : injector_(std::move(injector)), inner_(std::move(inner)) {}

  std::string name() const override { return inner_->name(); }
  std::vector<ConfigDiagnostic> ValidateConfig(const Json& cloud_spec) const override {
    (void)injector_->OnCall("ValidateConfig");  // counted; a diagnostic list has no Status to fail with
    return inner_->ValidateConfig(cloud_spec);
  }
  Result<std::unique_ptr<CloudProvider>> Create(const CloudSpec& cloud, const ProviderContext& ctx) const override {
    Result<std::unique_ptr<CloudProvider>> made = Around(*injector_, "Create", [&] { return inner_->Create(cloud, ctx); });
    if (!made.ok()) return made.status();
    return std::unique_ptr<CloudProvider>(new FaultCloudProvider(injector_, std::move(made).value()));
  }

 private:
  std::shared_ptr<FaultInjector> injector_;
  std::unique_ptr<CloudProviderFactory> inner_;
};

class FaultConnectorFactory : public ConnectorFactory {
 public:
  FaultConnectorFactory(std::shared_ptr<FaultInjector> injector, std::unique_ptr<ConnectorFactory> inner)
      : injector_(std::move(injector)), inner_(std::move(inner)) {}

  std::string name() const override { return inner_->name(); }
  Result<std::unique_ptr<ClusterConnector>> Connect(const ClusterEndpoint& endpoint,
                                                    const ProviderContext& ctx) const override {
    Result<std::unique_ptr<ClusterConnector>> made =
        Around(*injector_, "Connect", [&] { return inner_->Connect(endpoint, ctx); });
    if (!made.ok()) return made.status();
    return std::unique_ptr<ClusterConnector>(new FaultConnector(injector_, std::move(made).value()));
  }

 private:
  std::shared_ptr<FaultInjector> injector_;
  std::unique_ptr<ConnectorFactory> inner_;
};

}  // namespace

void FaultInjector::AddRule(FaultRule rule) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.push_back(Active{std::move(rule), 0});
}

void FaultInjector::ClearRules() {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.clear();
}

int FaultInjector::Count(const std::string& method) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counts_.find(method);
  return it == counts_.end() ? 0 : it->second;
}

std::map<std::string, int> FaultInjector::Counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

FaultInjector::Decision FaultInjector::OnCall(const std::string& method) {
  std::lock_guard<std::mutex> lock(mu_);
  int n = ++counts_[method];
  for (Active& a : rules_) {
    if (a.rule.method != method || n <= a.rule.after_calls) continue;
    if (a.rule.times >= 0 && a.hits >= a.rule.times) continue;
    a.hits++;
    return Decision{true, a.rule};
  }
  return Decision{};
}

std::unique_ptr<CloudProviderFactory> FaultInjector::Wrap(std::unique_ptr<CloudProviderFactory> inner) {
  return std::make_unique<FaultCloudFactory>(shared_from_this(), std::move(inner));
}

std::unique_ptr<ConnectorFactory> FaultInjector::Wrap(std::unique_ptr<ConnectorFactory> inner) {
  return std::make_unique<FaultConnectorFactory>(shared_from_this(), std::move(inner));
}

ScopedRegistration FaultInjector::Install(ProviderRegistry& registry, std::unique_ptr<CloudProviderFactory> cloud,
                                          std::unique_ptr<ConnectorFactory> connector) {
  std::string name = cloud ? cloud->name() : connector ? connector->name() : "";
  return ScopedRegistration(registry, name, cloud ? Wrap(std::move(cloud)) : nullptr,
                            connector ? Wrap(std::move(connector)) : nullptr);
}

}  // namespace converge::testing
