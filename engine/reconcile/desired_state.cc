#include "engine/reconcile/desired_state.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <tuple>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "engine/diff/classify.h"
#include "engine/observe/observe.h"
#include "engine/source/source.h"
#include "engine/spec/spec.h"
#include "engine/store/store.h"
#include "providers/validate.h"

namespace converge {
namespace {

// The file_results context of summaries; bump when the format or what it is derived from changes.
constexpr const char* kSummaryContext = "summary/1";

SpecFile FileOf(const Snapshot& snap, const SourceFile& f) {
  return SpecFile{f.path, f.blob_id, [&snap, f] { return snap.Read(f); }};
}

// Tab-separated fields with \t, \n and \ escaped.
void Put(std::string* out, const std::string& field) {
  for (char c : field) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\t') {
      *out += "\\t";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      *out += c;
    }
  }
  *out += '\t';
}

bool Split(const std::string& line, std::vector<std::string>* fields) {
  fields->clear();
  std::string cur;
  for (size_t i = 0; i < line.size(); i++) {
    char c = line[i];
    if (c == '\t') {
      fields->push_back(std::move(cur));
      cur.clear();
    } else if (c == '\\') {
      if (++i == line.size()) return false;
      cur += line[i] == 't' ? '\t' : line[i] == 'n' ? '\n' : line[i];
    } else {
      cur += c;
    }
  }
  return cur.empty();  // every field ends with a tab
}

}  // namespace

std::string EncodeSummary(const std::vector<DocSummary>& docs) {
  std::string out = "converge-summary 1\n";
  for (const DocSummary& d : docs) {
    for (const std::string* f : {&d.key.group, &d.key.kind, &d.key.ns, &d.key.name, &d.api_version}) Put(&out, *f);
    Put(&out, std::to_string(d.line));
    const PlacementAnnotations& p = d.placement;
    Put(&out, std::string{p.has_clusters ? '1' : '0', p.clusters_is_string ? '1' : '0', p.has_selector ? '1' : '0',
                          p.selector_is_string ? '1' : '0'});
    Put(&out, p.clusters);
    Put(&out, p.selector);
    Put(&out, d.hash);
    out += '\n';
  }
  return out;
}

std::optional<std::vector<DocSummary>> DecodeSummary(const std::string& text) {
  size_t eol = text.find('\n');
  if (eol == std::string::npos || text.compare(0, eol, "converge-summary 1") != 0) return std::nullopt;
  std::vector<DocSummary> out;
  std::vector<std::string> f;
  size_t at = eol + 1;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) return std::nullopt;
    if (!Split(text.substr(at, end - at), &f) || f.size() != 10 || f[6].size() != 4) return std::nullopt;
    DocSummary d;
    d.key = ObjectKey{f[0], f[1], f[2], f[3]};
    d.api_version = f[4];
    d.line = std::atoi(f[5].c_str());
    d.placement.has_clusters = f[6][0] == '1';
    d.placement.clusters_is_string = f[6][1] == '1';
    d.placement.has_selector = f[6][2] == '1';
    d.placement.selector_is_string = f[6][3] == '1';
    d.placement.clusters = f[7];
    d.placement.selector = f[8];
    d.hash = f[9];
    out.push_back(std::move(d));
    at = end + 1;
  }
  return out;
}

// Reads the delivered bodies of summarized files on demand, a file at a time.
class BodyLoader {
 public:
  BodyLoader(const Snapshot& snap, ParseCache* cache) : snap_(snap), cache_(cache) {
    for (const SourceFile& f : snap.files()) files_[f.blob_id] = f;
  }

  Result<JsonPtr> Load(const DesiredObject& d) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = loaded_.find(d.blob_id);
    if (it == loaded_.end()) {
      CONVERGE_RETURN_IF_ERROR(Read(d.blob_id, &it));
    }
    if (d.doc < 0 || d.doc >= static_cast<int>(it->second.size())) {
      return Status::Internal("document " + std::to_string(d.doc) + " of " + d.file + " is not in its summary");
    }
    return it->second[static_cast<size_t>(d.doc)].second;
  }

  Result<JsonPtr> LoadByKey(const std::string& blob_id, const ObjectKey& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = loaded_.find(blob_id);
    if (it == loaded_.end()) CONVERGE_RETURN_IF_ERROR(Read(blob_id, &it));
    for (const auto& [k, body] : it->second)
      if (k == key) return body;
    return Status::NotFound(key.ToString() + " is not in the file with blob " + blob_id);
  }

 private:
  using Docs = std::vector<std::pair<ObjectKey, JsonPtr>>;

  Status Read(const std::string& blob_id, std::unordered_map<std::string, Docs>::iterator* out) {
    auto file = files_.find(blob_id);
    if (file == files_.end()) return Status::Internal("no file with blob " + blob_id + " in this commit");
    Result<SpecSet> specs = LoadSpecs({FileOf(snap_, file->second)}, cache_);
    if (!specs.ok()) return specs.status();
    Docs docs;
    for (const Manifest& m : specs->manifests) docs.emplace_back(m.key, std::make_shared<const Json>(Delivered(*m.body)));
    *out = loaded_.emplace(blob_id, std::move(docs)).first;
    return Status::Ok();
  }

  const Snapshot& snap_;
  ParseCache* cache_;
  std::mutex mu_;
  std::unordered_map<std::string, SourceFile> files_;
  std::unordered_map<std::string, Docs> loaded_;
};

const ClusterSpec* DesiredState::Cluster(const std::string& name) const {
  for (const ClusterSpec& c : clusters)
    if (c.name == name) return &c;
  for (const ClusterSpec& c : fleet_clusters)
    if (c.name == name) return &c;
  return nullptr;
}

std::vector<ClusterSpec> DesiredState::PlacementClusters() const {
  std::vector<ClusterSpec> out = clusters;
  out.insert(out.end(), fleet_clusters.begin(), fleet_clusters.end());
  return out;
}

Result<JsonPtr> DesiredState::Body(const DesiredObject& object) const {
  if (object.body) return object.body;
  if (!bodies) return Status::Internal("no body for " + object.ref.ToString());
  return bodies->Load(object);
}

Result<JsonPtr> DesiredState::BodyInBlob(const std::string& blob_id, const ObjectKey& key) const {
  if (!bodies) return Status::Internal("no body for " + key.ToString());
  return bodies->LoadByKey(blob_id, key);
}

Result<DesiredState> ReadDesiredFromGit(const Snapshot& snap, ParseCache* cache, FileResults* summaries,
                                        const ProviderRegistry& registry, const SecretKey& secrets,
                                        const std::vector<SourceFile>* previous) {
  DesiredState out;
  out.commit = snap.commit();
  out.bodies = std::make_shared<BodyLoader>(snap, cache);
  for (const SourceFile& f : snap.files()) out.path_of_blob[f.blob_id] = f.path;
  std::set<std::string> before;
  if (previous != nullptr) {
    out.delta = true;
    for (const SourceFile& f : *previous) before.insert(f.blob_id);
    for (const std::string& blob : before)
      if (!out.path_of_blob.count(blob)) out.removed_blobs.insert(blob);
  }
  // Files seen before come from their summaries; the rest (and every file holding a Cloud or a
  // Cluster, which are never summarized) are read, parsed and checked in full. A delta read skips
  // the files the previous commit had (their objects are in the inventory), except fleet files:
  // those have no summary, so they are always read.
  // Which unchanged files are summarized (so hold no Cloud or Cluster): one query.
  std::set<std::string> skippable;
  if (out.delta && summaries != nullptr) {
    std::vector<std::string> candidates;
    for (const SourceFile& f : snap.files())
      if (before.count(f.blob_id)) candidates.push_back(f.blob_id);
    Result<std::set<std::string>> present = summaries->Present(candidates, kSummaryContext);
    if (!present.ok()) return present.status();
    skippable = std::move(present).value();
  }
  std::vector<SpecFile> full;
  for (const SourceFile& f : snap.files()) {
    if (skippable.count(f.blob_id)) {
      out.unchanged_blobs.insert(f.blob_id);  // its objects are in the inventory: not read
      continue;
    }
    if (summaries != nullptr && !f.blob_id.empty()) {
      Result<std::optional<std::string>> hit = summaries->Get(f.blob_id, kSummaryContext);
      if (!hit.ok()) spdlog::warn("cannot read the cached summary of {}: {}", f.path, hit.status().message());
      if (hit.ok() && *hit) {
        if (std::optional<std::vector<DocSummary>> docs = DecodeSummary(**hit)) {
          out.summarized.push_back(FileSummary{f.path, f.blob_id, std::move(*docs)});
          continue;
        }
      }
    }
    full.push_back(FileOf(snap, f));
  }
  Result<SpecSet> specs = LoadSpecs(full, cache);
  if (!specs.ok()) return specs.status();
  CONVERGE_RETURN_IF_ERROR(ValidateClouds(*specs, registry));

  // Summaries of the files just read that hold only application manifests.
  if (summaries != nullptr) {
    std::map<std::string, std::vector<DocSummary>> by_file;
    std::set<std::string> unsummarized;
    for (const CloudSpec& c : specs->clouds) unsummarized.insert(c.manifest.file);
    for (const ClusterSpec& c : specs->clusters) unsummarized.insert(c.manifest.file);
    // Files with a Secret are not summarized either: they are read (and parsed) each time, as
    // the parse cache does not keep them.
    for (const Manifest& m : specs->manifests)
      if (IsSecret(*m.body)) unsummarized.insert(m.file);
    for (const SpecFile& f : full) by_file[f.path];
    for (const Manifest& m : specs->manifests) {
      if (unsummarized.count(m.file)) continue;
      by_file[m.file].push_back(
          DocSummary{m.key, m.api_version, m.line, PlacementOf(*m.body), DesiredHash(Delivered(*m.body), secrets)});
    }
    for (const SpecFile& f : full) {
      if (f.blob_id.empty() || unsummarized.count(f.path)) continue;
      Status put = summaries->Put(f.blob_id, kSummaryContext, EncodeSummary(by_file[f.path]));
      if (!put.ok()) spdlog::warn("cannot cache the summary of {}: {}", f.path, put.message());
    }
  }

  // An identity defined twice across files, when one of them came from a summary.
  if (!out.summarized.empty()) {
    std::unordered_map<ObjectKey, std::string, ObjectKeyHash> seen;
    for (const Manifest& m : specs->manifests) seen.emplace(m.key, m.Where());
    for (const CloudSpec& c : specs->clouds) seen.emplace(c.manifest.key, c.manifest.Where());
    for (const ClusterSpec& c : specs->clusters) seen.emplace(c.manifest.key, c.manifest.Where());
    std::vector<Diagnostic> errors;
    for (const FileSummary& f : out.summarized) {
      for (const DocSummary& d : f.docs) {
        std::string where = f.path + ":" + std::to_string(d.line);
        auto [it, fresh] = seen.emplace(d.key, where);
        if (!fresh) {
          errors.push_back(Diagnostic{f.path, d.line, 0,
                                      d.key.ToString() + " is defined twice: " + it->second + " and " + where +
                                          "; remove one of them"});
        }
      }
    }
    if (!errors.empty()) {
      std::sort(errors.begin(), errors.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::tie(a.file, a.line) < std::tie(b.file, b.line);
      });
      std::string msg;
      for (const Diagnostic& e : errors) msg += (msg.empty() ? "" : "\n") + e.ToString();
      return Status::Invalid(msg);
    }
  }
  out.clouds = std::move(specs->clouds);
  out.clusters = std::move(specs->clusters);
  out.manifests = std::move(specs->manifests);
  out.warnings = std::move(specs->warnings);
  for (const Diagnostic& w : snap.warnings()) out.warnings.push_back(w);
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

Status AddFleetOfOthers(DesiredState* desired, const std::vector<InventoryEntry>& others_fleet) {
  desired->fleet_clusters.clear();
  desired->fleet_clouds.clear();
  if (others_fleet.empty()) return Status::Ok();
  Result<DesiredState> others = ReadDesiredFromInventory("", others_fleet);
  if (!others.ok()) return others.status().WithContext("reading the Clusters other sources declare");
  std::set<std::string> own_clusters, own_clouds, needed_clouds;
  for (const ClusterSpec& c : desired->clusters) own_clusters.insert(c.name);
  for (const CloudSpec& c : desired->clouds) own_clouds.insert(c.name);
  for (ClusterSpec& c : others->clusters) {
    if (own_clusters.count(c.name)) continue;  // declared here too: the ownership check decides
    needed_clouds.insert(c.cloud);
    desired->fleet_clusters.push_back(std::move(c));
  }
  for (CloudSpec& c : others->clouds)
    if (needed_clouds.count(c.name) && !own_clouds.count(c.name)) desired->fleet_clouds.push_back(std::move(c));
  return Status::Ok();
}

Status Place(DesiredState* desired, const std::map<std::string, ClusterLive>& clusters, const SecretKey& secrets) {
  (void)clusters;  // annotation placement needs only the Clusters' labels
  desired->objects.clear();
  const std::vector<ClusterSpec> candidates = desired->PlacementClusters();
  for (const ClusterSpec& c : desired->clusters) {
    DesiredObject d;
    d.ref = ObjectRef{"", ObjectKey{kConvergeGroup, "Cluster", "", c.name}};
    d.api_version = kConvergeApiVersion;
    d.body = c.manifest.body;
    d.hash = DesiredHash(*d.body, secrets);
    d.file = c.manifest.file;
    d.line = c.manifest.line;
    desired->objects.emplace(d.ref, std::move(d));
  }
  if (desired->from_inventory) return Status::Ok();
  std::map<std::string, std::string> blob_of_path;
  for (const auto& [blob, path] : desired->path_of_blob) blob_of_path[path] = blob;
  std::vector<std::string> errors;
  for (const Manifest& m : desired->manifests) {
    std::vector<std::string> targets =
        PlacementTargets(PlacementOf(*m.body), candidates, m.file, m.line, m.key, &errors, &desired->warnings);
    if (targets.empty()) continue;
    auto body = std::make_shared<const Json>(Delivered(*m.body));
    std::string hash = DesiredHash(*body, secrets);
    std::string blob;
    if (auto b = blob_of_path.find(m.file); b != blob_of_path.end()) blob = b->second;
    for (const std::string& cluster : targets) {
      DesiredObject d;
      d.ref = ObjectRef{cluster, m.key};
      d.api_version = m.api_version;
      d.body = body;
      d.hash = hash;
      d.file = m.file;
      d.line = m.line;
      d.blob_id = blob;
      desired->objects.emplace(d.ref, std::move(d));
    }
  }
  for (const FileSummary& f : desired->summarized) {
    for (size_t i = 0; i < f.docs.size(); i++) {
      const DocSummary& s = f.docs[i];
      std::vector<std::string> targets =
          PlacementTargets(s.placement, candidates, f.path, s.line, s.key, &errors, &desired->warnings);
      for (const std::string& cluster : targets) {
        DesiredObject d;
        d.ref = ObjectRef{cluster, s.key};
        d.api_version = s.api_version;
        d.hash = s.hash;
        d.file = f.path;
        d.line = s.line;
        d.blob_id = f.blob_id;
        d.doc = static_cast<int>(i);
        desired->objects.emplace(d.ref, std::move(d));
      }
    }
  }
  std::stable_sort(desired->warnings.begin(), desired->warnings.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.file, a.line) < std::tie(b.file, b.line);
  });
  if (!errors.empty()) {
    std::sort(errors.begin(), errors.end());
    std::string msg;
    for (const auto& e : errors) msg += (msg.empty() ? "" : "\n") + e;
    return Status::Invalid(msg);
  }
  return Status::Ok();
}

}  // namespace converge
