#include "engine/spec/spec.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>

#include <spdlog/spdlog.h>

#include "engine/k8s/openapi.h"
#include "engine/k8s/validate.h"
#include "engine/model/kinds.h"
#include "engine/spec/fleet_schema.h"
#include "engine/spec/yaml_json.h"

namespace converge {
namespace {

using spec_internal::FieldPath;
using spec_internal::Position;
using spec_internal::YamlLocator;

// Bump when the cached form or the per-file rules change, so that old entries are not trusted.
// 2: Clouds carry the positions of every field under spec; provider fields are no longer checked here.
// 3: Kubernetes objects are validated against the OpenAPI schema and the API server's rules.
constexpr int kCacheFormat = 3;

// Fields of a Cluster that cross-object checks point at (recorded while parsing: kRecordedPaths).
const char* const kClusterCloudField = "spec.cloud";
const char* const kClusterRegionField = "spec.region";

// A document that passed the per-file checks: what the parse cache stores.
struct CheckedDoc {
  int line = 0;
  std::shared_ptr<Json> doc;
  // Positions for messages given after parsing, maybe from the cache: a Cluster's kRecordedPaths
  // (for cross-object checks); every field under a Cloud's spec by JSON pointer (for its provider's
  // diagnostics, CloudSpec::positions).
  std::map<std::string, Position> at;
};

const std::string* StringAt(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

// `Deployment "web"`; `object ""` when kind and name are missing.
std::string Label(const Json& doc) {
  const std::string* kind = StringAt(doc, "kind");
  const std::string* name = nullptr;
  if (auto md = doc.find("metadata"); md != doc.end()) name = StringAt(*md, "name");
  // A kind that is not a plain word is quoted, so that no message spans lines.
  bool plain = kind && !kind->empty() && std::all_of(kind->begin(), kind->end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  });
  std::string shown = plain ? *kind : kind && !kind->empty() ? spec_internal::Quote(*kind) : std::string("object");
  return shown + " " + spec_internal::Quote(name ? *name : "");
}

class DocumentChecker {
 public:
  DocumentChecker(const std::string& file, const YamlLocator& locator, std::vector<Diagnostic>* errors)
      : file_(file), locator_(locator), errors_(errors) {}

  void Error(const std::string& label, const FieldPath& path, const std::string& msg, bool at_key = false) {
    Position p = locator_.Find(path, at_key);
    errors_->push_back(Diagnostic{file_, p.line, p.column, label + ": " + msg});
  }

  // What the Kubernetes API server would refuse (engine/k8s/validate.h). False on any problem.
  bool CheckKubernetes(const Json& doc) {
    std::vector<k8s::FieldError> found = k8s::ValidateObject(doc);
    if (found.empty()) return true;
    std::string label = Label(doc);
    for (const k8s::FieldError& e : found) {
      FieldPath path;
      path.reserve(e.path.size());
      for (const k8s::PathStep& s : e.path) path.push_back(spec_internal::PathSegment{s.key, s.index});
      Error(label, path, e.message, e.at_key);
    }
    return false;
  }

  // apiVersion, kind and metadata.name are present; metadata.namespace fits the kind's scope.
  // Defaults metadata.namespace to "default" for known namespaced kinds. False on any problem.
  bool CheckIdentity(Json& doc) {
    size_t before = errors_->size();
    std::string label = Label(doc);
    auto required_string = [&](const char* key) -> const std::string* {
      auto it = doc.find(key);
      if (it == doc.end() || it->is_null() || (it->is_string() && it->get_ref<const std::string&>().empty())) {
        Error(label, {}, std::string(key) + " is required");
        return nullptr;
      }
      if (!it->is_string()) {
        Error(label, {{key}}, std::string(key) + " must be a string, got " + spec_internal::DescribeValue(*it));
        return nullptr;
      }
      return &it->get_ref<const std::string&>();
    };
    const std::string* api_version = required_string("apiVersion");
    const std::string* kind = required_string("kind");

    auto md = doc.find("metadata");
    if (md == doc.end() || md->is_null()) {
      Error(label, {}, "metadata.name is required");
      return false;
    }
    if (!md->is_object()) {
      Error(label, {{"metadata"}}, "metadata must be a map, got " + spec_internal::DescribeValue(*md));
      return false;
    }
    auto name = md->find("name");
    if (name == md->end() || name->is_null() || (name->is_string() && name->get_ref<const std::string&>().empty()))
      Error(label, {{"metadata"}}, "metadata.name is required");
    else if (!name->is_string())
      Error(label, {{"metadata"}, {"name"}},
            "metadata.name must be a string, got " + spec_internal::DescribeValue(*name));

    auto ns = md->find("namespace");
    bool has_ns = ns != md->end() && !ns->is_null() && !(ns->is_string() && ns->get_ref<const std::string&>().empty());
    if (has_ns && !ns->is_string()) {
      Error(label, {{"metadata"}, {"namespace"}},
            "metadata.namespace must be a string, got " + spec_internal::DescribeValue(*ns));
    } else if (api_version && kind) {
      std::string group = GroupOf(*api_version);
      if (has_ns && IsClusterScoped(group, *kind)) {
        Error(label, {{"metadata"}, {"namespace"}},
              "metadata.namespace must not be set: " + *kind + " is cluster-scoped; remove the namespace");
      } else if (!has_ns && IsKnownNamespaced(group, *kind)) {
        (*md)["namespace"] = "default";
      }
    }
    return errors_->size() == before;
  }

  // Strict checks of converge.dev kinds. False on any problem.
  bool CheckConvergeKind(const Json& doc) {
    const std::string& api_version = doc["apiVersion"].get_ref<const std::string&>();
    const std::string& kind = doc["kind"].get_ref<const std::string&>();
    size_t before = errors_->size();
    std::string label = Label(doc);
    if (api_version != kConvergeApiVersion) {
      Error(label, {{"apiVersion"}}, "apiVersion " + api_version + " is not supported; use " + kConvergeApiVersion);
    } else if (kind == "Cloud") {
      spec_internal::CheckCloud(file_, label, doc, locator_, errors_);
    } else if (kind == "Cluster") {
      spec_internal::CheckCluster(file_, label, doc, locator_, errors_);
    } else if (kind == "Workflow" || kind == "Trigger") {
      Error(label, {{"kind"}}, "kind " + kind + " is not supported yet by this version of converge");
    } else {
      std::string msg = "unknown kind " + kind + " in " + kConvergeApiVersion;
      std::string near = spec_internal::ClosestMatch(kind, {"Cloud", "Cluster", "Workflow", "Trigger"});
      if (!near.empty()) msg += " (did you mean " + near + "?)";
      Error(label, {{"kind"}}, msg + "; known kinds: Cloud, Cluster");
    }
    return errors_->size() == before;
  }

 private:
  const std::string& file_;
  const YamlLocator& locator_;
  std::vector<Diagnostic>* errors_;
};

bool IsConvergeKind(const Json& doc, const char* kind) {
  const std::string* api_version = StringAt(doc, "apiVersion");
  const std::string* k = StringAt(doc, "kind");
  return api_version && k && *k == kind && GroupOf(*api_version) == kConvergeGroup;
}

bool IsCustomResourceDoc(const Json& doc) {
  const std::string* api_version = StringAt(doc, "apiVersion");
  const std::string* kind = StringAt(doc, "kind");
  return api_version && kind && k8s::IsCustomResource(GroupOf(*api_version), *kind);
}

// Parses one file and runs the per-file checks; documents with problems are dropped. `strict`
// adds the converge.dev kind checks (LoadSpecs). Names of Cloud documents that failed their
// checks go to `broken_clouds`, so that Clusters naming them are not reported a second time.
std::vector<CheckedDoc> CheckFile(const std::string& file, const std::string& text, bool strict,
                                  std::vector<Diagnostic>* errors, std::set<std::string>* broken_clouds) {
  std::vector<spec_internal::YamlDocument> parsed = spec_internal::ParseYamlDocuments(file, text, errors);
  std::vector<CheckedDoc> out;
  out.reserve(parsed.size());
  for (auto& p : parsed) {
    DocumentChecker checker(file, p.locator, errors);
    Json& doc = *p.doc;
    bool ok = checker.CheckIdentity(doc);
    if (ok && strict) {
      ok = GroupOf(doc["apiVersion"].get<std::string>()) == kConvergeGroup ? checker.CheckConvergeKind(doc)
                                                                            : checker.CheckKubernetes(doc);
    }
    if (!ok) {
      if (broken_clouds && IsConvergeKind(doc, "Cloud") && doc.contains("metadata")) {
        if (const std::string* name = StringAt(doc["metadata"], "name")) broken_clouds->insert(*name);
      }
      continue;
    }
    CheckedDoc checked;
    checked.line = p.start.line;
    checked.doc = std::move(p.doc);
    if (IsConvergeKind(*checked.doc, "Cluster") || IsCustomResourceDoc(*checked.doc)) checked.at = std::move(p.recorded);
    if (strict && IsConvergeKind(*checked.doc, "Cloud")) {
      checked.at = p.fields_recorded ? std::move(p.cloud_fields) : p.locator.FieldPositions({{"spec"}});
    }
    out.push_back(std::move(checked));
  }
  return out;
}

// Nullopt when the documents cannot be stored as JSON text (strings that are not UTF-8): such a
// file is simply parsed every time.
std::optional<std::string> EncodeCacheEntry(const std::vector<CheckedDoc>& docs) {
  Json entry = {{"format", kCacheFormat}, {"docs", Json::array()}};
  auto& list = entry["docs"];
  for (const auto& d : docs) {
    Json item = {{"line", d.line}, {"doc", *d.doc}};
    if (!d.at.empty()) {
      Json at = Json::object();
      for (const auto& [field, pos] : d.at) at[field] = {pos.line, pos.column};
      item["at"] = std::move(at);
    }
    list.push_back(std::move(item));
  }
  try {
    return entry.dump();
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

// Nullopt when the entry is damaged or from another format: the file is then parsed again.
std::optional<std::vector<CheckedDoc>> DecodeCacheEntry(const std::string& text) {
  Json entry = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!entry.is_object() || entry.value("format", 0) != kCacheFormat) return std::nullopt;
  auto list = entry.find("docs");
  if (list == entry.end() || !list->is_array()) return std::nullopt;
  std::vector<CheckedDoc> docs;
  docs.reserve(list->size());
  for (auto& item : *list) {
    if (!item.is_object()) return std::nullopt;
    auto line = item.find("line");
    auto doc = item.find("doc");
    if (line == item.end() || !line->is_number_integer() || doc == item.end() || !doc->is_object()) return std::nullopt;
    CheckedDoc d;
    d.line = line->get<int>();
    if (auto at = item.find("at"); at != item.end()) {
      if (!at->is_object()) return std::nullopt;
      for (const auto& [field, pos] : at->items()) {
        if (!pos.is_array() || pos.size() != 2 || !pos[0].is_number_integer() || !pos[1].is_number_integer())
          return std::nullopt;
        d.at[field] = Position{pos[0].get<int>(), pos[1].get<int>()};
      }
    }
    d.doc = std::make_shared<Json>(std::move(*doc));
    docs.push_back(std::move(d));
  }
  return docs;
}

Manifest ToManifest(const std::string& file, CheckedDoc& d) {
  Manifest m;
  m.key = KeyOf(*d.doc);
  m.api_version = (*d.doc)["apiVersion"].get<std::string>();
  m.file = file;
  m.line = d.line;
  m.body = std::move(d.doc);
  return m;
}

Status ErrorsToStatus(std::vector<Diagnostic> errors) {
  std::stable_sort(errors.begin(), errors.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
  });
  std::string msg;
  std::string previous;
  for (const auto& e : errors) {
    std::string line = e.ToString();
    if (line == previous) continue;
    if (!msg.empty()) msg += "\n";
    msg += line;
    previous = std::move(line);
  }
  return Status::Invalid(std::move(msg));
}

// Collects the documents of all files and runs the checks that span files.
class SpecSetBuilder {
 public:
  explicit SpecSetBuilder(std::vector<Diagnostic>* errors) : errors_(errors) {}

  void Add(const std::string& file, std::vector<CheckedDoc> docs) {
    for (auto& d : docs) {
      std::map<std::string, Position> at = std::move(d.at);
      Manifest m = ToManifest(file, d);
      auto [it, fresh] = seen_.emplace(m.key, m.Where());
      if (!fresh) {
        errors_->push_back(Diagnostic{
            file, m.line, 0,
            m.key.ToString() + " is defined twice: " + it->second + " and " + m.Where() + "; remove one of them"});
        continue;
      }
      if (m.key.group == kConvergeGroup && m.key.kind == "Cloud") {
        CloudSpec cloud = spec_internal::CloudFromJson(*m.body);
        if (auto spec = m.body->find("spec"); spec != m.body->end() && spec->is_object())
          cloud.config = JsonPtr(m.body, &*spec);  // shares the document
        cloud.positions = std::move(at);
        cloud.manifest = std::move(m);
        set_.clouds.push_back(std::move(cloud));
      } else if (m.key.group == kConvergeGroup && m.key.kind == "Cluster") {
        ClusterSpec cluster = spec_internal::ClusterFromJson(*m.body);
        cluster.manifest = std::move(m);
        set_.clusters.push_back(std::move(cluster));
        cluster_positions_.push_back(std::move(at));
      } else {
        if (k8s::IsCustomResource(m.key.group, m.key.kind)) custom_.push_back({set_.manifests.size(), std::move(at)});
        set_.manifests.push_back(std::move(m));
      }
    }
  }

  void AddBrokenCloud(const std::string& name) { broken_clouds_.insert(name); }

  // A custom resource whose CustomResourceDefinition is in the repository is served at one of its
  // versions and takes its scope: a namespaced one without a namespace goes to "default", a
  // cluster-scoped one must have none. One whose kind is built in, under a group no CRD of the
  // repository declares, names the built-in apiVersion. The others need their CRD in the cluster,
  // which plan checks.
  void CheckCustomResources() {
    std::map<std::pair<std::string, std::string>, std::pair<k8s::CustomKind, const Manifest*>> crds;
    for (const Manifest& m : set_.manifests) {
      if (m.key.group != "apiextensions.k8s.io" || m.key.kind != "CustomResourceDefinition") continue;
      k8s::CustomKind ck;
      if (k8s::CustomKindOf(*m.body, &ck)) crds.emplace(std::make_pair(ck.group, ck.kind), std::make_pair(ck, &m));
    }
    for (auto& [index, at] : custom_) {
      Manifest& m = set_.manifests[index];
      std::string label = m.key.kind + " " + spec_internal::Quote(m.key.name);
      auto crd = crds.find({m.key.group, m.key.kind});
      if (crd == crds.end()) {
        std::vector<const k8s::SchemaKind*> builtin = k8s::KindsNamed(m.key.kind);
        if (!builtin.empty()) {
          ErrorAt(m, at, "apiVersion",
                  label + ": apiVersion " + spec_internal::Quote(m.api_version) + " does not serve " + m.key.kind +
                      " (no CustomResourceDefinition in the repository declares it); " + m.key.kind +
                      " is served as apiVersion: " + k8s::ApiVersionOf(*builtin[0]));
        } else {
          needs_cluster_crd_.push_back(index);
        }
        continue;
      }
      const auto& [ck, crd_manifest] = crd->second;
      std::string version = m.api_version.substr(m.api_version.find('/') + 1);
      if (std::find(ck.served_versions.begin(), ck.served_versions.end(), version) == ck.served_versions.end()) {
        std::string served;
        for (const auto& v : ck.served_versions) served += (served.empty() ? "" : ", ") + ck.group + "/" + v;
        ErrorAt(m, at, "apiVersion",
                label + ": apiVersion " + spec_internal::Quote(m.api_version) + " is not served by " +
                    "CustomResourceDefinition " + crd_manifest->key.name + " (" + crd_manifest->Where() +
                    "), which serves " + (served.empty() ? "no version" : served));
        continue;
      }
      if (!ck.namespaced && !m.key.ns.empty()) {
        ErrorAt(m, at, "metadata.namespace",
                label + ": metadata.namespace must not be set: " + m.key.kind + " is cluster-scoped (spec.scope of " +
                    "CustomResourceDefinition " + crd_manifest->key.name + " at " + crd_manifest->Where() +
                    "); remove the namespace");
      } else if (ck.namespaced && m.key.ns.empty()) {
        auto body = std::make_shared<Json>(*m.body);
        (*body)["metadata"]["namespace"] = "default";
        m.body = std::move(body);
        m.key.ns = "default";
      }
    }
  }

  // Cluster.spec.cloud names a Cloud; the region defaults to the cloud's and must be offered by it.
  SpecSet Finish() {
    CheckCustomResources();
    for (size_t index : needs_cluster_crd_) {
      const Manifest& m = set_.manifests[index];
      set_.warnings.push_back(Diagnostic{
          m.file, m.line, 0,
          m.key.kind + " " + spec_internal::Quote(m.key.name) + ": no CustomResourceDefinition in the repository " +
              "declares " + m.key.kind + " (" + m.api_version + "); plan checks that each cluster it goes to serves it"});
    }
    std::unordered_map<std::string, const CloudSpec*> clouds;
    for (const auto& c : set_.clouds) clouds.emplace(c.name, &c);
    for (size_t i = 0; i < set_.clusters.size(); ++i) {
      ClusterSpec& cluster = set_.clusters[i];
      const auto& at = cluster_positions_[i];
      std::string label = cluster.manifest.key.kind + " " + spec_internal::Quote(cluster.name);
      auto cloud = clouds.find(cluster.cloud);
      if (cloud == clouds.end()) {
        if (broken_clouds_.count(cluster.cloud)) continue;  // already reported where the Cloud is
        ErrorAt(cluster, at, kClusterCloudField,
                label + ": spec.cloud " + spec_internal::Quote(cluster.cloud) + " names no Cloud; " + KnownClouds());
        continue;
      }
      const CloudSpec& c = *cloud->second;
      if (cluster.region.empty()) {
        cluster.region = c.region;
        continue;
      }
      const Json* spec = c.manifest.body->contains("spec") ? &(*c.manifest.body)["spec"] : nullptr;
      bool explicit_regions = spec && spec->is_object() && spec->contains("regions");
      if (explicit_regions && std::find(c.regions.begin(), c.regions.end(), cluster.region) == c.regions.end()) {
        std::string offered;
        for (const auto& r : c.regions) offered += (offered.empty() ? "" : ", ") + r;
        ErrorAt(cluster, at, kClusterRegionField,
                label + ": spec.region " + spec_internal::Quote(cluster.region) + " is not offered by Cloud " +
                    spec_internal::Quote(c.name) + " (" + c.manifest.Where() + "), whose regions are: " + offered);
      }
    }
    return std::move(set_);
  }

 private:
  void ErrorAt(const ClusterSpec& cluster, const std::map<std::string, Position>& at, const char* field,
               std::string msg) {
    Position p{cluster.manifest.line, 0};
    if (auto it = at.find(field); it != at.end() && it->second.line > 0) p = it->second;
    errors_->push_back(Diagnostic{cluster.manifest.file, p.line, p.column, std::move(msg)});
  }

  void ErrorAt(const Manifest& m, const std::map<std::string, Position>& at, const char* field, std::string msg) {
    Position p{m.line, 0};
    if (auto it = at.find(field); it != at.end() && it->second.line > 0) p = it->second;
    errors_->push_back(Diagnostic{m.file, p.line, p.column, std::move(msg)});
  }

  std::string KnownClouds() const {
    if (set_.clouds.empty()) return "no Cloud is defined: add a converge.dev/v1alpha1 Cloud document";
    std::string out = "known clouds: ";
    for (size_t i = 0; i < set_.clouds.size(); ++i)
      out += (i ? ", " : "") + set_.clouds[i].name + " (" + set_.clouds[i].manifest.Where() + ")";
    return out;
  }

  std::vector<Diagnostic>* errors_;
  SpecSet set_;
  std::vector<std::map<std::string, Position>> cluster_positions_;  // parallel to set_.clusters
  // Custom resources: index in set_.manifests and recorded positions (apiVersion, namespace).
  std::vector<std::pair<size_t, std::map<std::string, Position>>> custom_;
  std::vector<size_t> needs_cluster_crd_;  // custom resources whose CRD is not in the repository
  std::unordered_map<ObjectKey, std::string, ObjectKeyHash> seen_;  // identity -> "file:line"
  std::set<std::string> broken_clouds_;
};

}  // namespace

Result<SpecSet> LoadSpecs(const std::vector<SpecFile>& files, ParseCache* cache) {
  std::vector<Diagnostic> errors;
  SpecSetBuilder builder(&errors);
  std::set<std::string> broken_clouds;
  for (const auto& file : files) {
    bool cacheable = cache != nullptr && !file.blob_id.empty();
    std::optional<std::vector<CheckedDoc>> docs;
    if (cacheable) {
      if (std::optional<std::string> hit = cache->Get(file.blob_id)) docs = DecodeCacheEntry(*hit);
    }
    if (!docs) {
      Result<std::string> text = file.read ? file.read() : Result<std::string>(Status::Internal("no reader"));
      if (!text.ok()) {
        errors.push_back(Diagnostic{file.path, 0, 0, "cannot read the file: " + text.status().message()});
        continue;
      }
      size_t before = errors.size();
      docs = CheckFile(file.path, *text, /*strict=*/true, &errors, &broken_clouds);
      for (const auto& d : *docs) {
        try {
          (void)d.doc->dump();
        } catch (const Json::exception&) {
          errors.push_back(Diagnostic{file.path, d.line, 0,
                                      "the document holds text that is not valid UTF-8: save the file as UTF-8 "
                                      "(binary data belongs base64-encoded in a Secret's or ConfigMap's binaryData)"});
        }
      }
      // A file holding a Secret is not cached: the store keeps no Secret values.
      bool holds_secret = std::any_of(docs->begin(), docs->end(), [](const CheckedDoc& d) {
        return d.doc && d.doc->is_object() && d.doc->value("apiVersion", Json()) == "v1" &&
               d.doc->value("kind", Json()) == "Secret";
      });
      if (cacheable && errors.size() == before && !holds_secret) {
        if (std::optional<std::string> entry = EncodeCacheEntry(*docs)) {
          // A cache that cannot be written costs a parse next time; it must not fail the load.
          Status put = cache->Put(file.blob_id, *entry);
          if (!put.ok()) spdlog::warn("{}: cannot cache the parsed file: {}", file.path, put.message());
        }
      }
    }
    builder.Add(file.path, std::move(*docs));
  }
  for (const auto& name : broken_clouds) builder.AddBrokenCloud(name);
  SpecSet set = builder.Finish();
  if (!errors.empty()) return ErrorsToStatus(std::move(errors));
  return set;
}

Result<std::vector<Manifest>> ParseYaml(const std::string& file, const std::string& text) {
  std::vector<Diagnostic> errors;
  std::vector<CheckedDoc> docs = CheckFile(file, text, /*strict=*/false, &errors, nullptr);
  if (!errors.empty()) return ErrorsToStatus(std::move(errors));
  std::vector<Manifest> out;
  out.reserve(docs.size());
  for (auto& d : docs) out.push_back(ToManifest(file, d));
  return out;
}

}  // namespace converge
