// How the engine reaches the objects of a cluster its Cloud's provider manages: the provider says
// where the cluster's API is (Endpoint), the registry's connector for that endpoint connects.
// Thread-safe, as providers and the registry are.
#pragma once

#include <memory>
#include <string>

#include "providers/provider.h"

namespace converge {

// A connector to `cluster` of `provider`'s cloud; the provider's or the connector's error (NotFound
// for a missing cluster or an unknown connector).
inline Result<std::unique_ptr<ClusterConnector>> ConnectToCluster(CloudProvider& provider,
                                                                  const ProviderRegistry& registry,
                                                                  const ProviderContext& ctx,
                                                                  const std::string& cluster,
                                                                  const CallOptions& options) {
  Result<ClusterEndpoint> endpoint = provider.Endpoint(cluster, options);
  if (!endpoint.ok()) return endpoint.status();
  return registry.Connect(*endpoint, ctx);
}

}  // namespace converge
