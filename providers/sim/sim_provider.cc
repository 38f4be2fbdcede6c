// The sim provider: CloudProvider and ClusterConnector over SimState. The provider serializes its
// own calls with a mutex; every connector has its own SQLite connection, so clusters are applied
// in parallel (writes still take turns: one SQLite writer at a time).
#include "providers/sim/sim_provider.h"

#include <mutex>

#include "engine/base/env.h"
#include "providers/sim/sim_state.h"

namespace converge {
namespace {

class SimConnector : public ClusterConnector {
 public:
  SimConnector(std::unique_ptr<sim::SimState> state, std::string cluster)
      : state_(std::move(state)), cluster_(std::move(cluster)) {}

  Result<Json> Get(const ObjectKey& key) override { return state_->Get(cluster_, key); }
  Result<std::vector<std::optional<Json>>> GetMany(const std::vector<ObjectKey>& keys) override {
    return state_->GetMany(cluster_, keys);
  }
  Result<std::vector<std::string>> ResourceVersions(const std::vector<ObjectKey>& keys) override {
    return state_->ResourceVersions(cluster_, keys);
  }
  Result<Json> Apply(const Json& desired) override { return state_->Apply(cluster_, desired); }
  Status Delete(const ObjectKey& key) override { return state_->Delete(cluster_, key); }

 private:
  std::unique_ptr<sim::SimState> state_;
  std::string cluster_;
};

class SimProvider : public CloudProvider {
 public:
  SimProvider(CloudSpec cloud, ProviderContext ctx, std::unique_ptr<sim::SimState> state)
      : cloud_(std::move(cloud)), ctx_(std::move(ctx)), state_(std::move(state)) {}

  Status EnsureCloud(const CloudSpec& cloud) override {
    std::lock_guard<std::mutex> lock(mu_);
    return state_->EnsureCloud(cloud);
  }
  Result<Json> GetCluster(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    return state_->GetCluster(cloud_.name, name);
  }
  Status ApplyCluster(const ClusterSpec& spec) override {
    std::lock_guard<std::mutex> lock(mu_);
    return state_->ApplyCluster(cloud_, spec);
  }
  Status DeleteCluster(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    return state_->DeleteCluster(cloud_.name, name);
  }
  Result<std::unique_ptr<ClusterConnector>> Connect(const std::string& cluster) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      Status exists = state_->CheckCluster(cloud_.name, cluster);
      if (!exists.ok()) return exists;
    }
    Result<std::unique_ptr<sim::SimState>> state = sim::SimState::Open(ctx_.state_dir, ctx_.env);
    if (!state.ok()) return state.status();
    return std::unique_ptr<ClusterConnector>(new SimConnector(std::move(state).value(), cluster));
  }

 private:
  CloudSpec cloud_;
  ProviderContext ctx_;
  std::mutex mu_;
  std::unique_ptr<sim::SimState> state_;
};

}  // namespace

Result<std::unique_ptr<CloudProvider>> CreateSimProvider(const CloudSpec& cloud, const ProviderContext& ctx) {
  ProviderContext c = ctx;
  if (c.env == nullptr) c.env = Env::Default();
  Result<std::unique_ptr<sim::SimState>> state = sim::SimState::Open(c.state_dir, c.env);
  if (!state.ok()) return state.status().WithContext("Cloud \"" + cloud.name + "\" (provider sim)");
  return std::unique_ptr<CloudProvider>(new SimProvider(cloud, c, std::move(state).value()));
}

}  // namespace converge
