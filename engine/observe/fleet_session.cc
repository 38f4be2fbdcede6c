#include "engine/observe/fleet_session.h"

namespace converge {

Result<std::unique_ptr<FleetSession>> FleetSession::Create(std::vector<CloudSpec> clouds,
                                                           std::vector<ClusterSpec> clusters,
                                                           std::vector<ClusterSpec> removed,
                                                           const ProviderRegistry* registry, const ProviderContext& ctx) {
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
  for (const ClusterSpec& c : session->removed_) session->by_name_[c.name] = &c;
  for (const ClusterSpec& c : session->clusters_) session->by_name_[c.name] = &c;
  return session;
}

CloudProvider* FleetSession::ProviderOfCloud(const std::string& cloud) const {
  auto it = providers_.find(cloud);
  return it == providers_.end() ? nullptr : it->second.get();
}

const ClusterSpec* FleetSession::Cluster(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

CloudProvider* FleetSession::ProviderOfCluster(const std::string& cluster) const {
  const ClusterSpec* spec = Cluster(cluster);
  return spec ? ProviderOfCloud(spec->cloud) : nullptr;
}

Result<ClusterConnector*> FleetSession::Connector(const std::string& cluster, const CallOptions& options) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = connectors_.find(cluster); it != connectors_.end()) return it->second.get();
  }
  CloudProvider* provider = ProviderOfCluster(cluster);
  if (!provider) return Status::NotFound("cluster " + cluster + " is not declared by any Cloud converge knows");
  Result<ClusterEndpoint> endpoint = provider->Endpoint(cluster, options);
  if (!endpoint.ok()) return endpoint.status();
  Result<std::unique_ptr<ClusterConnector>> conn = registry_->Connect(*endpoint, ctx_);
  if (!conn.ok()) return conn.status();
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, fresh] = connectors_.emplace(cluster, std::move(conn).value());
  return it->second.get();  // a racing Connect of the same cluster: the first one stays
}

}  // namespace converge
