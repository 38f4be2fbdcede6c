#include "engine/reconcile/desired_state.h"

#include <nlohmann/json.hpp>

#include "engine/diff/classify.h"
#include "engine/observe/observe.h"
#include "engine/place/place.h"
#include "engine/source/source.h"
#include "engine/spec/spec.h"
#include "engine/store/store.h"
#include "providers/validate.h"

namespace converge {

const ClusterSpec* DesiredState::Cluster(const std::string& name) const {
  for (const ClusterSpec& c : clusters)
    if (c.name == name) return &c;
  return nullptr;
}

Result<DesiredState> ReadDesiredFromGit(const Snapshot& snap, ParseCache* cache, const ProviderRegistry& registry) {
  std::vector<SpecFile> files;
  files.reserve(snap.files().size());
  for (const SourceFile& f : snap.files()) {
    files.push_back(SpecFile{f.path, f.blob_id, [&snap, f] { return snap.Read(f); }});
  }
  Result<SpecSet> specs = LoadSpecs(files, cache);
  if (!specs.ok()) return specs.status();
  CONVERGE_RETURN_IF_ERROR(ValidateClouds(*specs, registry));
  DesiredState out;
  out.commit = snap.commit();
  out.clouds = std::move(specs->clouds);
  out.clusters = std::move(specs->clusters);
  out.manifests = std::move(specs->manifests);
  out.warnings = std::move(specs->warnings);
  return out;
}

Result<DesiredState> ReadDesiredFromInventory(const std::string& commit, const std::vector<InventoryEntry>& rows) {
  std::string text;
  for (const InventoryEntry& e : rows) {
    if (e.last_applied.empty()) continue;
    text += "---\n" + e.last_applied + "\n";
  }
  SpecFile file{kInventoryFile, "", [text] { return Result<std::string>(text); }};
  Result<SpecSet> specs = LoadSpecs({file}, nullptr);
  if (!specs.ok()) return specs.status().WithContext("reading the fleet converge recorded");
  DesiredState out;
  out.commit = commit;
  out.from_inventory = true;
  out.clouds = std::move(specs->clouds);
  out.clusters = std::move(specs->clusters);
  return out;
}

Status Place(DesiredState* desired, const std::map<std::string, ClusterLive>& clusters) {
  (void)clusters;  // annotation placement needs only the Clusters' labels
  desired->objects.clear();
  for (const ClusterSpec& c : desired->clusters) {
    DesiredObject d;
    d.ref = ObjectRef{"", ObjectKey{kConvergeGroup, "Cluster", "", c.name}};
    d.api_version = kConvergeApiVersion;
    d.body = c.manifest.body;
    d.hash = DesiredHash(*d.body);
    d.file = c.manifest.file;
    d.line = c.manifest.line;
    desired->objects.emplace(d.ref, std::move(d));
  }
  if (desired->from_inventory) return Status::Ok();
  SpecSet view;
  view.clusters = desired->clusters;
  view.manifests = desired->manifests;
  Result<std::vector<PlacedObject>> placed = PlaceManifests(view, &desired->warnings);
  if (!placed.ok()) return placed.status();
  for (PlacedObject& p : *placed) {
    DesiredObject d;
    d.ref = ObjectRef{p.cluster, p.manifest.key};
    d.api_version = p.manifest.api_version;
    d.hash = DesiredHash(*p.manifest.body);
    d.body = std::move(p.manifest.body);
    d.file = p.manifest.file;
    d.line = p.manifest.line;
    desired->objects.emplace(d.ref, std::move(d));
  }
  return Status::Ok();
}

}  // namespace converge
