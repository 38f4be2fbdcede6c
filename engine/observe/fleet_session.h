// FleetSession: the providers of one reconcile, one per Cloud, created from the registry, and the
// lookups the stages need: which provider serves a cluster, the typed specs, and a connector per
// cluster, connected on first use through its cloud's Endpoint and the registry's connector
// factory (so imported clusters, later, need no CloudProvider). Lookups are for one thread; Connector() and the providers
// and connectors themselves are thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/model/fleet.h"
#include "providers/provider.h"

namespace converge {

class FleetSession {
 public:
  // Creates a provider for every cloud. `clusters` are the desired ones; `removed` are clusters
  // converge manages that Git no longer declares (reachable for deletes, never waited on).
  // Fails naming the cloud when a provider is unknown.
  static Result<std::unique_ptr<FleetSession>> Create(std::vector<CloudSpec> clouds, std::vector<ClusterSpec> clusters,
                                                      std::vector<ClusterSpec> removed,
                                                      const ProviderRegistry* registry, const ProviderContext& ctx);

  const std::vector<CloudSpec>& clouds() const { return clouds_; }
  const std::vector<ClusterSpec>& clusters() const { return clusters_; }
  const std::vector<ClusterSpec>& removed() const { return removed_; }
  CloudProvider* ProviderOfCloud(const std::string& cloud) const;
  CloudProvider* ProviderOfCluster(const std::string& cluster) const;
  const ClusterSpec* Cluster(const std::string& name) const;
  // The connector for a cluster's objects; NotFound when the cluster is unknown here.
  Result<ClusterConnector*> Connector(const std::string& cluster, const CallOptions& options);

 private:
  std::vector<CloudSpec> clouds_;
  std::vector<ClusterSpec> clusters_;
  std::vector<ClusterSpec> removed_;
  const ProviderRegistry* registry_ = nullptr;
  ProviderContext ctx_;
  std::map<std::string, std::unique_ptr<CloudProvider>> providers_;  // by cloud name
  std::map<std::string, const ClusterSpec*> by_name_;
  std::mutex mu_;  // guards connectors_
  std::map<std::string, std::unique_ptr<ClusterConnector>> connectors_;
};

}  // namespace converge
