// DesiredState: what one reconcile converges to, from one of two sources (one pipeline):
//   Git            the commit's specs, parsed (cached by blob id), validated, each Cloud's config
//                  checked by its provider; manifests are then placed (Place) once the clusters
//                  have been observed, because placement may depend on their readiness. A file of
//                  application manifests seen before (same blob id) is read from its summary in
//                  the store's file_results (identity, line, placement annotations and the hash
//                  of each delivered object): its bodies are decoded only when the plan needs
//                  them (Body), so unchanged files cost nothing.
//   the inventory  the no-op path: the commit is the one last applied completely, so the desired
//                  state is exactly what the inventory recorded. Only the Clouds and Clusters are
//                  rebuilt (from their recorded manifests); objects stay in the inventory and are
//                  read only when their live version moved. Nothing is fetched from Git or parsed.
// Plain values; thread-compatible.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/model/fleet.h"
#include "engine/model/object.h"
#include "engine/place/place.h"

namespace converge {

class FileResults;
class ParseCache;
class ProviderRegistry;
class SecretKey;
class Snapshot;
struct SourceFile;
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
  // When `body` is null: the file's blob and the document's place among its manifests, from
  // which DesiredState::Body reads it.
  std::string blob_id;
  int doc = -1;
  std::string Where() const { return file + ":" + std::to_string(line); }
};

// What planning needs of one application manifest of a file, without its body.
struct DocSummary {
  ObjectKey key;
  std::string api_version;
  int line = 0;
  PlacementAnnotations placement;
  std::string hash;  // DesiredHash of the delivered body
};

// A file read from its cached summary.
struct FileSummary {
  std::string path, blob_id;
  std::vector<DocSummary> docs;
};

class BodyLoader;

struct DesiredState {
  std::string commit;
  bool from_inventory = false;
  std::vector<CloudSpec> clouds;
  std::vector<ClusterSpec> clusters;
  // Clusters (and their Clouds) that other sources declare: this source may place objects onto
  // them but never plans them (clusters are the fleet's; one source owns each). Filled by the
  // reconciler from the inventory (AddFleetOfOthers).
  std::vector<ClusterSpec> fleet_clusters;
  std::vector<CloudSpec> fleet_clouds;
  std::vector<Manifest> manifests;              // Git: application content read in full, not placed yet
  std::vector<FileSummary> summarized;          // Git: files read from their summaries, not placed yet
  // A delta read (ReadDesiredFromGit with `unchanged`): files whose blob the last completely
  // applied commit had too were not read at all; their objects are what the inventory rows of
  // those blobs record. `removed_blobs` are the blobs that commit had and this one has not.
  bool delta = false;
  std::set<std::string> unchanged_blobs, removed_blobs;
  std::map<std::string, std::string> path_of_blob;  // for messages about unread files
  std::map<ObjectRef, DesiredObject> objects;   // Git, after Place: each placed object and each Cluster
  std::vector<Diagnostic> warnings;
  std::shared_ptr<BodyLoader> bodies;           // reads the bodies of summarized objects

  // A cluster objects may be placed on: one of `clusters`, else one of `fleet_clusters`.
  const ClusterSpec* Cluster(const std::string& name) const;
  // `clusters` and then `fleet_clusters`: every cluster placement may choose.
  std::vector<ClusterSpec> PlacementClusters() const;
  // The object's delivered body: `body`, or read from its file (parse cache, else Git). The
  // snapshot the state was read from must still exist.
  Result<JsonPtr> Body(const DesiredObject& object) const;
  // The delivered body of the object `key` of the file with blob `blob_id` (a file a delta read
  // skipped); NotFound when the file does not declare it.
  Result<JsonPtr> BodyInBlob(const std::string& blob_id, const ObjectKey& key) const;
};

// The specs of `snapshot`: Invalid listing every problem (file:line:col) when any file or any
// Cloud's provider config is wrong. `summaries` may be null (every file is then read in full).
// With `previous` (the files of the commit last applied completely), a delta read: files whose
// blob `previous` has too are skipped unless they hold Clouds or Clusters (see `delta` above).
// A file holding a v1 Secret is neither parse-cached nor summarized (the store keeps no Secret
// values, and no hash of one but keyed tags): it is read from Git whenever it is needed.
Result<DesiredState> ReadDesiredFromGit(const Snapshot& snapshot, ParseCache* cache, FileResults* summaries,
                                        const ProviderRegistry& registry, const SecretKey& secrets,
                                        const std::vector<SourceFile>* previous = nullptr);

// The summary format (exposed for tests): nullopt when `text` is not one.
std::string EncodeSummary(const std::vector<DocSummary>& docs);
std::optional<std::vector<DocSummary>> DecodeSummary(const std::string& text);

// The Clouds and Clusters recorded in the inventory rows (fleet rows with last-applied bodies).
Result<DesiredState> ReadDesiredFromInventory(const std::string& commit, const std::vector<InventoryEntry>& fleet_rows);

// Adds the Clusters and Clouds recorded by other sources (their fleet rows) that this state does
// not declare itself, as `fleet_clusters` and `fleet_clouds`. Invalid when those rows cannot be
// read back.
Status AddFleetOfOthers(DesiredState* desired, const std::vector<InventoryEntry>& others_fleet);

// Places the manifests on clusters (annotations; see engine/place) and fills `objects` with them
// and the Clusters. `clusters` is what was observed (for placement by readiness and capacity).
// Hashes are DesiredHash under `secrets`.
Status Place(DesiredState* desired, const std::map<std::string, ClusterLive>& clusters, const SecretKey& secrets);

// The file name of specs read back from the inventory rather than from Git.
inline constexpr const char* kInventoryFile = "<inventory>";

}  // namespace converge
