// The sim's ConnectorFactory and ClusterConnector over SimState. A connector owns one SQLite
// connection and serializes its calls with a mutex, so several threads may share it; connectors
// to different clusters run in parallel (writes still take turns: one SQLite writer at a time).
#include <mutex>

#include "engine/base/env.h"
#include "providers/deadline.h"
#include "providers/sim/sim_provider.h"
#include "providers/sim/sim_state.h"

namespace converge {
namespace {

constexpr const char* kScheme = "sim://";

class SimConnector : public ClusterConnector {
 public:
  SimConnector(std::unique_ptr<sim::SimState> state, Env* env, std::string cluster)
      : state_(std::move(state)), env_(env), cluster_(std::move(cluster)) {}

  Result<std::vector<ApiResource>> Discover(const CallOptions& options) override {
    return Call(options, [&] { return state_->Discover(cluster_); });
  }
  Result<std::string> ChangeMarker(const CallOptions& options) override {
    return Call(options, [&] { return state_->ChangeMarker(cluster_); });
  }
  Result<Json> Get(const ObjectKey& key, const CallOptions& options) override {
    return Call(options, [&] { return state_->Get(cluster_, key); });
  }
  Result<std::vector<std::optional<Json>>> GetMany(const std::vector<ObjectKey>& keys,
                                                   const CallOptions& options) override {
    return Call(options, [&] { return state_->GetMany(cluster_, keys); });
  }
  Result<std::vector<std::string>> ResourceVersions(const std::vector<ObjectKey>& keys,
                                                    const CallOptions& options) override {
    return Call(options, [&] { return state_->ResourceVersions(cluster_, keys); });
  }
  Result<ObjectList> List(const std::string& group, const std::string& kind, const std::string& ns,
                          const CallOptions& options) override {
    return Call(options, [&] { return state_->ListObjects(cluster_, group, kind, ns); });
  }
  Result<Json> Apply(const Json& desired, const CallOptions& options) override {
    return Call(options, [&] { return state_->Apply(cluster_, desired); });
  }
  Status Delete(const ObjectKey& key, const CallOptions& options) override {
    return Call(options, [&] { return state_->Delete(cluster_, key); });
  }

 private:
  // Runs `f` on the state under the mutex with the call's deadline; Timeout at once when the
  // deadline already passed.
  template <typename F>
  auto Call(const CallOptions& options, F&& f) -> decltype(f()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (TimeLeftMillis(env_, options) <= 0) {
      return Status::Timeout("cluster " + cluster_ + ": the call's deadline passed before it started; retry");
    }
    state_->set_call_deadline(options.deadline_ms);
    auto result = f();
    state_->set_call_deadline(0);
    return result;
  }

  std::mutex mu_;
  std::unique_ptr<sim::SimState> state_;
  Env* const env_;
  const std::string cluster_;
};

class SimConnectorFactory : public ConnectorFactory {
 public:
  std::string name() const override { return kSimProviderName; }
  Result<std::unique_ptr<ClusterConnector>> Connect(const ClusterEndpoint& endpoint,
                                                    const ProviderContext& ctx) const override {
    const std::string& server = endpoint.server;
    if (server.compare(0, std::string(kScheme).size(), kScheme) != 0 || server.size() == std::string(kScheme).size()) {
      return Status::Invalid("cluster \"" + endpoint.cluster + "\": the sim connector reaches servers sim://<cluster>, not \"" +
                             server + "\"");
    }
    std::string cluster = server.substr(std::string(kScheme).size());
    Env* env = ctx.env != nullptr ? ctx.env : Env::Default();
    Result<std::unique_ptr<sim::SimState>> state = sim::SimState::Open(ctx.state_dir, env);
    if (!state.ok()) return state.status();
    Status exists = (*state)->CheckCluster("", cluster);
    if (!exists.ok()) return exists;
    return std::unique_ptr<ClusterConnector>(new SimConnector(std::move(state).value(), env, cluster));
  }
};

CONVERGE_REGISTER_CONNECTOR(SimConnectorFactory);

}  // namespace

std::unique_ptr<ConnectorFactory> NewSimConnectorFactory() { return std::make_unique<SimConnectorFactory>(); }

}  // namespace converge
