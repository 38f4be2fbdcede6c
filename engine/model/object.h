// The object model shared by every stage: an object's identity (ObjectKey), where it lives
// (ObjectRef = cluster + key) and a desired object read from Git (Manifest).
// Object bodies are nlohmann::json held by shared_ptr<const Json>; this header only forward-declares
// Json so that widely included headers stay cheap to compile. Plain values, thread-compatible.
#pragma once

#include <memory>
#include <string>
#include <tuple>

#include <nlohmann/json_fwd.hpp>

namespace converge {

using Json = nlohmann::json;
using JsonPtr = std::shared_ptr<const Json>;

// The engine's own API group and version.
inline constexpr const char* kConvergeApiVersion = "converge.dev/v1alpha1";
inline constexpr const char* kConvergeGroup = "converge.dev";

// Identity of an object within one cluster: group (empty for the core group), kind, namespace
// (empty for cluster-scoped objects) and name. The version is not part of identity.
struct ObjectKey {
  std::string group;
  std::string kind;
  std::string ns;
  std::string name;

  // "Deployment/guestbook/frontend", "apps" omitted; cluster-scoped: "Namespace/guestbook".
  std::string ToString() const;
  auto Tie() const { return std::tie(group, kind, ns, name); }
  bool operator==(const ObjectKey& o) const { return Tie() == o.Tie(); }
  bool operator<(const ObjectKey& o) const { return Tie() < o.Tie(); }
};

// An object in a cluster. `cluster` is empty for fleet-level objects (Cloud, Cluster).
struct ObjectRef {
  std::string cluster;
  ObjectKey key;

  std::string ToString() const;  // "cluster-a: Deployment/guestbook/frontend"
  auto Tie() const { return std::tie(cluster, key.group, key.kind, key.ns, key.name); }
  bool operator==(const ObjectRef& o) const { return Tie() == o.Tie(); }
  bool operator<(const ObjectRef& o) const { return Tie() < o.Tie(); }
};

struct ObjectKeyHash {
  size_t operator()(const ObjectKey& k) const;
};
struct ObjectRefHash {
  size_t operator()(const ObjectRef& r) const;
};

// The group part of an apiVersion: "apps/v1" -> "apps", "v1" -> "".
std::string GroupOf(const std::string& api_version);

// Builds the key of a JSON object from apiVersion, kind, metadata.namespace and metadata.name.
ObjectKey KeyOf(const Json& object);

// One desired object as read from Git, with where it came from.
struct Manifest {
  ObjectKey key;
  std::string api_version;
  JsonPtr body;      // the whole document as JSON
  std::string file;  // path inside the repository
  int line = 0;      // 1-based line of the document start

  std::string Where() const { return file + ":" + std::to_string(line); }
};

}  // namespace converge
