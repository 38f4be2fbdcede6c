// ProviderRegistry: two maps of factories by name under one mutex. Providers add themselves from
// their own .cc files (CONVERGE_REGISTER_*), so this file names none of them.
#include <map>
#include <mutex>

#include "providers/provider.h"

namespace converge {
namespace {

template <typename Map>
std::vector<std::string> NamesOf(const Map& factories) {
  std::vector<std::string> out;
  out.reserve(factories.size());
  for (const auto& [name, f] : factories) out.push_back(name);
  return out;
}

std::string JoinNames(const std::vector<std::string>& names) {
  if (names.empty()) return "none registered";
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

template <typename Factory>
Status Insert(std::map<std::string, std::unique_ptr<Factory>>* factories, std::unique_ptr<Factory> factory,
              const char* what) {
  if (!factory) return Status::Invalid(std::string("cannot register a null ") + what + " factory");
  std::string name = factory->name();
  if (name.empty()) return Status::Invalid(std::string("cannot register a ") + what + " factory without a name");
  if (factories->count(name)) {
    return Status::AlreadyExists(std::string(what) + " \"" + name +
                                 "\" is already registered: two factories claim the name; rename one");
  }
  (*factories)[name] = std::move(factory);
  return Status::Ok();
}

template <typename Factory>
std::unique_ptr<Factory> Swap(std::map<std::string, std::unique_ptr<Factory>>* factories, const std::string& name,
                              std::unique_ptr<Factory> factory) {
  std::unique_ptr<Factory> old;
  if (auto it = factories->find(name); it != factories->end()) {
    old = std::move(it->second);
    factories->erase(it);
  }
  if (factory) (*factories)[name] = std::move(factory);
  return old;
}

// Problems of the registration macros, which only ever register into Global().
struct StartupErrors {
  std::mutex mu;
  std::vector<Status> errors;
};

StartupErrors& TheStartupErrors() {
  static StartupErrors* errors = new StartupErrors();
  return *errors;
}

bool NoteStartupError(const Status& st) {
  if (st.ok()) return true;
  StartupErrors& e = TheStartupErrors();
  std::lock_guard<std::mutex> lock(e.mu);
  e.errors.push_back(st);
  return false;
}

}  // namespace

struct ProviderRegistry::Impl {
  mutable std::mutex mu;
  std::map<std::string, std::unique_ptr<CloudProviderFactory>> clouds;
  std::map<std::string, std::unique_ptr<ConnectorFactory>> connectors;
};

ProviderRegistry::ProviderRegistry() : impl_(std::make_unique<Impl>()) {}
ProviderRegistry::~ProviderRegistry() = default;

ProviderRegistry& ProviderRegistry::Global() {
  // Never destroyed: registrars run during static initialization of other files, and providers may
  // still be used by static destructors.
  static ProviderRegistry* registry = new ProviderRegistry();
  return *registry;
}

Status ProviderRegistry::RegisterCloud(std::unique_ptr<CloudProviderFactory> factory) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return Insert(&impl_->clouds, std::move(factory), "cloud provider");
}

Status ProviderRegistry::RegisterConnector(std::unique_ptr<ConnectorFactory> factory) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return Insert(&impl_->connectors, std::move(factory), "connector");
}

std::unique_ptr<CloudProviderFactory> ProviderRegistry::ReplaceCloud(const std::string& name,
                                                                     std::unique_ptr<CloudProviderFactory> factory) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return Swap(&impl_->clouds, name, std::move(factory));
}

std::unique_ptr<ConnectorFactory> ProviderRegistry::ReplaceConnector(const std::string& name,
                                                                     std::unique_ptr<ConnectorFactory> factory) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return Swap(&impl_->connectors, name, std::move(factory));
}

const CloudProviderFactory* ProviderRegistry::Cloud(const std::string& name) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->clouds.find(name);
  return it == impl_->clouds.end() ? nullptr : it->second.get();
}

const ConnectorFactory* ProviderRegistry::Connector(const std::string& name) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->connectors.find(name);
  return it == impl_->connectors.end() ? nullptr : it->second.get();
}

std::vector<std::string> ProviderRegistry::CloudNames() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return NamesOf(impl_->clouds);
}

std::vector<std::string> ProviderRegistry::ConnectorNames() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return NamesOf(impl_->connectors);
}

Result<std::unique_ptr<CloudProvider>> ProviderRegistry::CreateCloud(const CloudSpec& cloud,
                                                                     const ProviderContext& ctx) const {
  const CloudProviderFactory* factory = Cloud(cloud.provider);
  if (factory == nullptr) {
    return Status::NotFound("Cloud \"" + cloud.name + "\": unknown provider \"" + cloud.provider +
                            "\" (known: " + JoinNames(CloudNames()) + ")");
  }
  return factory->Create(cloud, ctx);
}

Result<std::unique_ptr<ClusterConnector>> ProviderRegistry::Connect(const ClusterEndpoint& endpoint,
                                                                    const ProviderContext& ctx) const {
  const ConnectorFactory* factory = Connector(endpoint.connector);
  if (factory == nullptr) {
    return Status::NotFound("cluster \"" + endpoint.cluster + "\" (" + endpoint.server + "): unknown connector \"" +
                            endpoint.connector + "\" (known: " + JoinNames(ConnectorNames()) + ")");
  }
  return factory->Connect(endpoint, ctx);
}

std::vector<Status> ProviderRegistry::RegistrationErrors() const {
  if (this != &Global()) return {};
  StartupErrors& e = TheStartupErrors();
  std::lock_guard<std::mutex> lock(e.mu);
  return e.errors;
}

namespace provider_internal {

bool RegisterCloudAtStartup(std::unique_ptr<CloudProviderFactory> factory) {
  return NoteStartupError(ProviderRegistry::Global().RegisterCloud(std::move(factory)));
}

bool RegisterConnectorAtStartup(std::unique_ptr<ConnectorFactory> factory) {
  return NoteStartupError(ProviderRegistry::Global().RegisterConnector(std::move(factory)));
}

}  // namespace provider_internal

}  // namespace converge
