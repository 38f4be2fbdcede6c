// Defaults of the optional parts of the provider interfaces.
#include "providers/provider.h"

namespace converge {

Result<std::unique_ptr<ObjectWatch>> ClusterConnector::Watch(const std::string& group, const std::string& kind,
                                                             const std::string& ns, const std::string& version,
                                                             const CallOptions& options) {
  (void)ns, (void)version, (void)options;
  return Status::Unsupported("this connector cannot watch " + (group.empty() ? kind : kind + "." + group) +
                             ": list it again instead");
}

}  // namespace converge
