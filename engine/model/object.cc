#include "engine/model/object.h"

#include <functional>

#include <nlohmann/json.hpp>

namespace converge {

std::string ObjectKey::ToString() const {
  std::string out = kind;
  if (!ns.empty()) out += "/" + ns;
  out += "/" + name;
  return out;
}

std::string ObjectRef::ToString() const {
  if (cluster.empty()) return key.ToString();
  return cluster + ": " + key.ToString();
}

static size_t Combine(size_t h, const std::string& s) {
  return h ^ (std::hash<std::string>()(s) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

size_t ObjectKeyHash::operator()(const ObjectKey& k) const {
  size_t h = 0;
  h = Combine(h, k.group);
  h = Combine(h, k.kind);
  h = Combine(h, k.ns);
  return Combine(h, k.name);
}

size_t ObjectRefHash::operator()(const ObjectRef& r) const {
  return Combine(ObjectKeyHash()(r.key), r.cluster);
}

std::string GroupOf(const std::string& api_version) {
  auto slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

ObjectKey KeyOf(const Json& object) {
  ObjectKey key;
  if (!object.is_object()) return key;
  if (auto it = object.find("apiVersion"); it != object.end() && it->is_string())
    key.group = GroupOf(it->get<std::string>());
  if (auto it = object.find("kind"); it != object.end() && it->is_string())
    key.kind = it->get<std::string>();
  if (auto md = object.find("metadata"); md != object.end() && md->is_object()) {
    if (auto it = md->find("namespace"); it != md->end() && it->is_string()) key.ns = it->get<std::string>();
    if (auto it = md->find("name"); it != md->end() && it->is_string()) key.name = it->get<std::string>();
  }
  return key;
}

}  // namespace converge
