#include <mutex>

#include "providers/provider.h"
#include "providers/sim/sim_provider.h"

namespace converge {

struct ProviderRegistry::Impl {
  mutable std::mutex mu;
  std::map<std::string, CloudProviderFactory> factories;
};

ProviderRegistry::ProviderRegistry() : impl_(std::make_unique<Impl>()) {}
ProviderRegistry::~ProviderRegistry() = default;

ProviderRegistry& ProviderRegistry::Global() {
  static ProviderRegistry* registry = [] {
    auto* r = new ProviderRegistry();
    (void)r->Register("sim", &CreateSimProvider);
    return r;
  }();
  return *registry;
}

Status ProviderRegistry::Register(const std::string& name, CloudProviderFactory factory) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->factories.count(name)) return Status::AlreadyExists("provider \"" + name + "\" is already registered");
  impl_->factories[name] = std::move(factory);
  return Status::Ok();
}

CloudProviderFactory ProviderRegistry::Replace(const std::string& name, CloudProviderFactory factory) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  CloudProviderFactory old;
  if (auto it = impl_->factories.find(name); it != impl_->factories.end()) old = std::move(it->second);
  if (factory) {
    impl_->factories[name] = std::move(factory);
  } else {
    impl_->factories.erase(name);
  }
  return old;
}

Result<std::unique_ptr<CloudProvider>> ProviderRegistry::Create(const CloudSpec& cloud,
                                                                const ProviderContext& ctx) const {
  CloudProviderFactory factory;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto it = impl_->factories.find(cloud.provider);
    if (it == impl_->factories.end()) {
      std::string known;
      for (const auto& [n, f] : impl_->factories) known += (known.empty() ? "" : ", ") + n;
      return Status::NotFound("Cloud \"" + cloud.name + "\": unknown provider \"" + cloud.provider +
                              "\" (known: " + known + ")");
    }
    factory = it->second;
  }
  return factory(cloud, ctx);
}

bool ProviderRegistry::Has(const std::string& name) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->factories.count(name) > 0;
}

std::vector<std::string> ProviderRegistry::Names() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<std::string> out;
  for (const auto& [n, f] : impl_->factories) out.push_back(n);
  return out;
}

}  // namespace converge
