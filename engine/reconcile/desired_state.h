// DesiredState: what one reconcile converges to, from one of two sources (one pipeline):
//   Git            the commit's specs, parsed (cached by blob id), validated, each Cloud's config
//                  checked by its provider; manifests are then placed (Place) once the clusters
//                  have been observed, because placement may depend on their readiness.
//   the inventory  the no-op path: the commit is the one last applied completely, so the desired
//                  state is exactly what the inventory recorded. Only the Clouds and Clusters are
//                  rebuilt (from their recorded manifests); objects stay in the inventory and are
//                  read only when their live version moved. Nothing is fetched from Git or parsed.
// Plain values; thread-compatible.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/model/fleet.h"
#include "engine/model/object.h"

namespace converge {

class ParseCache;
class ProviderRegistry;
class Snapshot;
struct ClusterLive;
struct InventoryEntry;

// One object bound for one place (a cluster, or the fleet for Clusters).
struct DesiredObject {
  ObjectRef ref;
  std::string api_version;
  JsonPtr body;       // as delivered (placement annotations removed)
  std::string hash;   // DesiredHash(*body)
  std::string file;   // where it came from
  int line = 0;
  std::string Where() const { return file + ":" + std::to_string(line); }
};

struct DesiredState {
  std::string commit;
  bool from_inventory = false;
  std::vector<CloudSpec> clouds;
  std::vector<ClusterSpec> clusters;
  std::vector<Manifest> manifests;              // Git: application content, not placed yet
  std::map<ObjectRef, DesiredObject> objects;   // Git, after Place: each placed object and each Cluster
  std::vector<Diagnostic> warnings;

  const ClusterSpec* Cluster(const std::string& name) const;
};

// The specs of `snapshot`: Invalid listing every problem (file:line:col) when any file or any
// Cloud's provider config is wrong.
Result<DesiredState> ReadDesiredFromGit(const Snapshot& snapshot, ParseCache* cache, const ProviderRegistry& registry);

// The Clouds and Clusters recorded in the inventory rows (fleet rows with last-applied bodies).
Result<DesiredState> ReadDesiredFromInventory(const std::string& commit, const std::vector<InventoryEntry>& fleet_rows);

// Places the manifests on clusters (annotations; see engine/place) and fills `objects` with them
// and the Clusters. `clusters` is what was observed (for placement by readiness and capacity).
Status Place(DesiredState* desired, const std::map<std::string, ClusterLive>& clusters);

// The file name of specs read back from the inventory rather than from Git.
inline constexpr const char* kInventoryFile = "<inventory>";

}  // namespace converge
