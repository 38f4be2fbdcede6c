// FleetSession: the providers of one reconcile, one per Cloud, created from the registry, and the
// lookups the stages need (which provider serves a cluster, a connector to a cluster, the typed
// specs). Internal to engine/reconcile. One thread at a time, except the providers themselves
// (thread-safe).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/apply/apply.h"
#include "engine/model/fleet.h"
#include "providers/provider.h"

namespace converge {

class FleetSession {
 public:
  // Creates a provider for every cloud. `clusters` are the desired ones; `removed` are clusters
  // converge manages that Git no longer declares (reachable for deletes, never waited on).
  // Fails naming the cloud when a provider is unknown.
  static Result<std::unique_ptr<FleetSession>> Create(std::vector<CloudSpec> clouds, std::vector<ClusterSpec> clusters,
                                                      std::vector<ClusterSpec> removed, ProviderRegistry* registry,
                                                      const ProviderContext& ctx);

  const std::vector<CloudSpec>& clouds() const { return clouds_; }
  const std::vector<ClusterSpec>& clusters() const { return clusters_; }
  CloudProvider* ProviderOfCloud(const std::string& cloud) const;
  CloudProvider* ProviderOfCluster(const std::string& cluster) const;
  // A connector to a cluster of the fleet, through its provider's Endpoint and the registry.
  Result<std::unique_ptr<ClusterConnector>> Connect(const std::string& cluster, const CallOptions& options) const;
  const ClusterSpec* Cluster(const std::string& name) const;
  FleetTargets Targets() const;

 private:
  std::vector<CloudSpec> clouds_;
  std::vector<ClusterSpec> clusters_;
  std::vector<ClusterSpec> removed_;
  ProviderRegistry* registry_ = nullptr;
  ProviderContext ctx_;
  std::map<std::string, std::unique_ptr<CloudProvider>> providers_;  // by cloud name
};

}  // namespace converge
