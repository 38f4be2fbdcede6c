// ScopedRegistration: puts a cloud/connector factory pair into a ProviderRegistry under one name
// for the guard's lifetime and puts back whatever it replaced (or nothing) when it goes, as envoy's
// InjectFactory. Either factory may be null (that kind is left alone). One thread at a time.
#pragma once

#include <memory>
#include <string>

#include "providers/provider.h"

namespace converge::testing {

class ScopedRegistration {
 public:
  ScopedRegistration(ProviderRegistry& registry, const std::string& name, std::unique_ptr<CloudProviderFactory> cloud,
                     std::unique_ptr<ConnectorFactory> connector)
      : registry_(&registry), name_(name), has_cloud_(cloud != nullptr), has_connector_(connector != nullptr) {
    if (has_cloud_) previous_cloud_ = registry_->ReplaceCloud(name_, std::move(cloud));
    if (has_connector_) previous_connector_ = registry_->ReplaceConnector(name_, std::move(connector));
  }
  ~ScopedRegistration() {
    if (has_cloud_) registry_->ReplaceCloud(name_, std::move(previous_cloud_));
    if (has_connector_) registry_->ReplaceConnector(name_, std::move(previous_connector_));
  }
  ScopedRegistration(ScopedRegistration&& other) noexcept
      : registry_(other.registry_),
        name_(std::move(other.name_)),
        has_cloud_(other.has_cloud_),
        has_connector_(other.has_connector_),
        previous_cloud_(std::move(other.previous_cloud_)),
        previous_connector_(std::move(other.previous_connector_)) {
    other.has_cloud_ = other.has_connector_ = false;
  }
  ScopedRegistration(const ScopedRegistration&) = delete;
  ScopedRegistration& operator=(const ScopedRegistration&) = delete;
  ScopedRegistration& operator=(ScopedRegistration&&) = delete;

  const std::string& name() const { return name_; }

 private:
  ProviderRegistry* registry_;
  std::string name_;
  bool has_cloud_;
  bool has_connector_;
  std::unique_ptr<CloudProviderFactory> previous_cloud_;
  std::unique_ptr<ConnectorFactory> previous_connector_;
};

}  // namespace converge::testing
