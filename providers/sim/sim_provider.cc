// The sim's CloudProviderFactory and CloudProvider over SimState. A provider serializes its calls
// on its one SQLite connection with a mutex; cluster operations finish in simulated time, which the
// world computes from timestamps, so they are polled, never waited on here.
#include "providers/sim/sim_provider.h"

#include <mutex>

#include "engine/base/env.h"
#include "providers/deadline.h"
#include "providers/sim/sim_state.h"

namespace converge {
namespace {

// Timeout when the call's deadline passed before it could start.
Status CheckDeadline(Env* env, const CallOptions& options, const std::string& what) {
  if (TimeLeftMillis(env, options) > 0) return Status::Ok();
  return Status::Timeout("sim: the deadline passed before " + what + " could start; retry with more time");
}

class SimCloudProvider : public CloudProvider {
 public:
  SimCloudProvider(CloudSpec cloud, Env* env, std::unique_ptr<sim::SimState> state)
      : cloud_(std::move(cloud)), env_(env), state_(std::move(state)) {}

  Status EnsureCloud(const CallOptions& options) override {
    CONVERGE_RETURN_IF_ERROR(CheckDeadline(env_, options, "ensuring cloud " + cloud_.name));
    std::lock_guard<std::mutex> lock(mu_);
    return state_->EnsureCloud(cloud_);
  }
  Result<Json> GetCluster(const std::string& name, const CallOptions& options) override {
    CONVERGE_RETURN_IF_ERROR(CheckDeadline(env_, options, "reading cluster " + name));
    std::lock_guard<std::mutex> lock(mu_);
    return state_->GetCluster(cloud_.name, name);
  }
  Result<Operation> StartApplyCluster(const ClusterSpec& spec, const CallOptions& options) override {
    CONVERGE_RETURN_IF_ERROR(CheckDeadline(env_, options, "applying cluster " + spec.name));
    std::lock_guard<std::mutex> lock(mu_);
    return state_->StartApplyCluster(cloud_, spec);
  }
  Result<Operation> StartDeleteCluster(const std::string& name, const CallOptions& options) override {
    CONVERGE_RETURN_IF_ERROR(CheckDeadline(env_, options, "deleting cluster " + name));
    std::lock_guard<std::mutex> lock(mu_);
    return state_->StartDeleteCluster(cloud_.name, name);
  }
  Result<OperationStatus> PollOperation(const Operation& operation, const CallOptions& options) override {
    CONVERGE_RETURN_IF_ERROR(CheckDeadline(env_, options, "polling " + operation.id));
    std::lock_guard<std::mutex> lock(mu_);
    return state_->PollOperation(cloud_.name, operation.id);
  }
  Result<ClusterEndpoint> Endpoint(const std::string& cluster, const CallOptions& options) override {
    CONVERGE_RETURN_IF_ERROR(CheckDeadline(env_, options, "looking up cluster " + cluster));
    std::lock_guard<std::mutex> lock(mu_);
    return state_->Endpoint(cloud_.name, cluster);
  }

 private:
  const CloudSpec cloud_;
  Env* const env_;
  std::mutex mu_;
  std::unique_ptr<sim::SimState> state_;
};

class SimCloudFactory : public CloudProviderFactory {
 public:
  std::string name() const override { return kSimProviderName; }
  std::vector<ConfigDiagnostic> ValidateConfig(const Json& cloud_spec) const override {
    return sim::ValidateSimConfig(cloud_spec);
  }
  Result<std::unique_ptr<CloudProvider>> Create(const CloudSpec& cloud, const ProviderContext& ctx) const override {
    Env* env = ctx.env != nullptr ? ctx.env : Env::Default();
    Result<std::unique_ptr<sim::SimState>> state = sim::SimState::Open(ctx.state_dir, env);
    if (!state.ok()) return state.status().WithContext("Cloud \"" + cloud.name + "\" (provider sim)");
    return std::unique_ptr<CloudProvider>(new SimCloudProvider(cloud, env, std::move(state).value()));
  }
};

CONVERGE_REGISTER_CLOUD_PROVIDER(SimCloudFactory);

}  // namespace

std::unique_ptr<CloudProviderFactory> NewSimCloudFactory() { return std::make_unique<SimCloudFactory>(); }

}  // namespace converge
