#include "engine/reconcile/fleet_session.h"

#include "providers/connect.h"

namespace converge {

Result<std::unique_ptr<FleetSession>> FleetSession::Create(std::vector<CloudSpec> clouds,
                                                           std::vector<ClusterSpec> clusters,
                                                           std::vector<ClusterSpec> removed,
                                                           ProviderRegistry* registry, const ProviderContext& ctx) {
  auto session = std::make_unique<FleetSession>();
  session->clouds_ = std::move(clouds);
  session->clusters_ = std::move(clusters);
  session->removed_ = std::move(removed);
  session->registry_ = registry;
  session->ctx_ = ctx;
  for (const CloudSpec& cloud : session->clouds_) {
    Result<std::unique_ptr<CloudProvider>> p = registry->CreateCloud(cloud, ctx);
    if (!p.ok()) return p.status();
    session->providers_[cloud.name] = std::move(p).value();
  }
  return session;
}

CloudProvider* FleetSession::ProviderOfCloud(const std::string& cloud) const {
  auto it = providers_.find(cloud);
  return it == providers_.end() ? nullptr : it->second.get();
}

const ClusterSpec* FleetSession::Cluster(const std::string& name) const {
  for (const ClusterSpec& c : clusters_)
    if (c.name == name) return &c;
  for (const ClusterSpec& c : removed_)
    if (c.name == name) return &c;
  return nullptr;
}

CloudProvider* FleetSession::ProviderOfCluster(const std::string& cluster) const {
  const ClusterSpec* spec = Cluster(cluster);
  return spec ? ProviderOfCloud(spec->cloud) : nullptr;
}

Result<std::unique_ptr<ClusterConnector>> FleetSession::Connect(const std::string& cluster,
                                                               const CallOptions& options) const {
  CloudProvider* provider = ProviderOfCluster(cluster);
  if (!provider) return Status::NotFound("cluster " + cluster + " is not declared");
  return ConnectToCluster(*provider, *registry_, ctx_, cluster, options);
}

FleetTargets FleetSession::Targets() const {
  FleetTargets t;
  t.registry = registry_;
  t.context = ctx_;
  for (const ClusterSpec& c : clusters_) {
    t.clusters[c.name] = &c;
    if (CloudProvider* p = ProviderOfCloud(c.cloud)) t.provider_of_cluster[c.name] = p;
  }
  for (const ClusterSpec& c : removed_)
    if (CloudProvider* p = ProviderOfCloud(c.cloud)) t.provider_of_cluster[c.name] = p;
  return t;
}

}  // namespace converge
