#include "engine/spec/fleet_schema.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace converge::spec_internal {
namespace {

enum class Type {
  kChecked,  // accepted here, checked elsewhere (apiVersion, kind, metadata.name/namespace)
  kString,
  kBool,
  kCount,              // integer 0 .. INT_MAX
  kNonNegativeNumber,  // integer or float >= 0
  kStringList,
  kStringMap,
  kObject,      // `fields` lists its keys
  kObjectList,  // a list of kObject
};

struct Field {
  std::string_view name;
  Type type;
  bool required = false;
  const std::vector<Field>* fields = nullptr;
  bool secret_context = false;  // never echo values under this field
  bool open = false;            // kObject: keys not in `fields` are someone else's to check
};

const std::vector<Field> kMetadataFields = {
    {"name", Type::kChecked},
    {"namespace", Type::kChecked},
    {"labels", Type::kStringMap},
    {"annotations", Type::kStringMap},
};

// The fields every Cloud has. Any other field under a Cloud's spec belongs to its provider, which
// checks it (CloudProviderFactory::ValidateConfig): the provider's credential keys included.
const std::vector<Field> kCloudSpecFields = {
    {"provider", Type::kString, true},
    {"region", Type::kString, true},
    {"regions", Type::kStringList},
    {"endpoint", Type::kString},
    {"credentials", Type::kStringMap, false, nullptr, true},
};

const std::vector<Field> kCloudFields = {
    {"apiVersion", Type::kChecked},
    {"kind", Type::kChecked},
    {"metadata", Type::kObject, false, &kMetadataFields},
    {"spec", Type::kObject, true, &kCloudSpecFields, false, /*open=*/true},
};

const std::vector<Field> kNetworkFields = {
    {"vpc", Type::kString},
    {"subnet", Type::kString},
    {"podCIDR", Type::kString},
    {"serviceCIDR", Type::kString},
};

const std::vector<Field> kNodePoolFields = {
    {"name", Type::kString, true}, {"flavor", Type::kString, true}, {"arch", Type::kString},
    {"count", Type::kCount},       {"min", Type::kCount},           {"max", Type::kCount},
};

const std::vector<Field> kClusterSpecFields = {
    {"cloud", Type::kString, true},
    {"version", Type::kString, true},
    {"region", Type::kString},
    {"zone", Type::kString},
    {"network", Type::kObject, false, &kNetworkFields},
    {"nodePools", Type::kObjectList, true, &kNodePoolFields},
    {"deletionProtection", Type::kBool},
};

const std::vector<Field> kClusterFields = {
    {"apiVersion", Type::kChecked},
    {"kind", Type::kChecked},
    {"metadata", Type::kObject, false, &kMetadataFields},
    {"spec", Type::kObject, true, &kClusterSpecFields},
};

const char* Expected(Type type) {
  switch (type) {
    case Type::kChecked:
      return "a value";
    case Type::kString:
      return "a string";
    case Type::kBool:
      return "a boolean (true or false)";
    case Type::kCount:
      return "an integer";
    case Type::kNonNegativeNumber:
      return "a number";
    case Type::kStringList:
      return "a list of strings";
    case Type::kStringMap:
      return "a map of strings";
    case Type::kObject:
      return "a map";
    case Type::kObjectList:
      return "a list";
  }
  return "a value";
}

FieldPath Append(const FieldPath& path, std::string key) {
  FieldPath out = path;
  out.push_back(PathSegment{std::move(key), -1});
  return out;
}
FieldPath Append(const FieldPath& path, int index) {
  FieldPath out = path;
  out.push_back(PathSegment{"", index});
  return out;
}

bool IsDnsLabel(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return s.front() != '-' && s.back() != '-';
}

// A DNS-1123 subdomain: DNS labels joined by dots, at most 253 characters.
bool IsDnsName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    if (!IsDnsLabel(s.substr(start, dot == std::string::npos ? std::string::npos : dot - start))) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

bool IsEnvVarName(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// "1.29" or "v1.29".
bool IsMinorVersion(const std::string& s) {
  size_t i = (!s.empty() && s[0] == 'v') ? 1 : 0;
  size_t dot = s.find('.', i);
  if (dot == std::string::npos || dot == i || dot + 1 == s.size()) return false;
  for (size_t j = i; j < s.size(); ++j)
    if (j != dot && !std::isdigit(static_cast<unsigned char>(s[j]))) return false;
  return true;
}

class Checker {
 public:
  Checker(const std::string& file, const std::string& label, const YamlLocator& locator,
          std::vector<Diagnostic>* errors)
      : file_(file), label_(label), locator_(locator), errors_(errors) {}

  void Error(const FieldPath& path, bool at_key, const std::string& msg) {
    Position p = locator_.Find(path, at_key);
    errors_->push_back(Diagnostic{file_, p.line, p.column, label_ + ": " + msg});
  }

  void TypeError(const FieldPath& path, Type expected, const Json& got, bool redact) {
    std::string msg = PathToString(path) + " must be " + Expected(expected) + ", got " + DescribeValue(got, redact);
    if (expected == Type::kString && (got.is_number() || got.is_boolean()))
      msg += " (quote the value to keep it a string, e.g. \"1.30\")";
    Error(path, false, msg);
  }

  // Checks the keys of `obj` (a JSON object) against `fields`, recursively; with `open`, keys not in
  // `fields` are let through (someone else checks them).
  void CheckObject(const Json& obj, const FieldPath& path, const std::vector<Field>& fields, bool redact,
                   bool open = false) {
    if (!open) ReportUnknownKeys(obj, path, fields);
    for (const auto& f : fields) {
      FieldPath at = Append(path, std::string(f.name));
      auto it = obj.find(f.name);
      if (it == obj.end() || it->is_null()) {
        if (f.required) Error(path, false, PathToString(at) + " is required");
        continue;
      }
      CheckValue(*it, at, f, redact || f.secret_context);
    }
  }

  void ReportUnknownKeys(const Json& obj, const FieldPath& path, const std::vector<Field>& fields) {
    for (const auto& [key, value] : obj.items()) {
      auto f = std::find_if(fields.begin(), fields.end(), [&](const Field& x) { return x.name == key; });
      if (f != fields.end()) continue;
      std::vector<std::string> names;
      for (const auto& x : fields) names.emplace_back(x.name);
      FieldPath at = Append(path, key);
      std::string msg = "unknown field " + PathToString(at);
      if (std::string near = ClosestMatch(key, names); !near.empty())
        msg += " (did you mean " + PathToString(Append(path, near)) + "?)";
      else
        msg += "; known fields: " + Join(names);
      Error(at, true, msg);
    }
  }

  void CheckValue(const Json& v, const FieldPath& path, const Field& f, bool redact) {
    switch (f.type) {
      case Type::kChecked:
        return;
      case Type::kString:
        if (!v.is_string()) TypeError(path, f.type, v, redact);
        return;
      case Type::kBool:
        if (!v.is_boolean()) TypeError(path, f.type, v, redact);
        return;
      case Type::kCount:
        if (!v.is_number_integer()) return TypeError(path, f.type, v, redact);
        if (v.is_number_unsigned() ? v.get<uint64_t>() > static_cast<uint64_t>(INT_MAX) : v.get<int64_t>() > INT_MAX)
          return Error(path, false, PathToString(path) + " is too large, got " + DescribeValue(v, redact));
        if (v.get<int64_t>() < 0)
          Error(path, false, PathToString(path) + " must be >= 0, got " + DescribeValue(v, redact));
        return;
      case Type::kNonNegativeNumber:
        if (!v.is_number()) return TypeError(path, f.type, v, redact);
        if (v.get<double>() < 0)
          Error(path, false, PathToString(path) + " must be >= 0, got " + DescribeValue(v, redact));
        return;
      case Type::kStringList:
        if (!v.is_array()) return TypeError(path, f.type, v, redact);
        for (size_t i = 0; i < v.size(); ++i)
          if (!v[i].is_string()) TypeError(Append(path, static_cast<int>(i)), Type::kString, v[i], redact);
        return;
      case Type::kStringMap:
        if (!v.is_object()) return TypeError(path, f.type, v, redact);
        for (const auto& [key, value] : v.items())
          if (!value.is_string()) TypeError(Append(path, key), Type::kString, value, redact);
        return;
      case Type::kObject:
        if (!v.is_object()) return TypeError(path, f.type, v, redact);
        CheckObject(v, path, *f.fields, redact, f.open);
        return;
      case Type::kObjectList:
        if (!v.is_array()) return TypeError(path, f.type, v, redact);
        for (size_t i = 0; i < v.size(); ++i) {
          FieldPath at = Append(path, static_cast<int>(i));
          if (!v[i].is_object())
            TypeError(at, Type::kObject, v[i], redact);
          else
            CheckObject(v[i], at, *f.fields, redact);
        }
        return;
    }
  }

  static std::string Join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  }

 private:
  const std::string& file_;
  const std::string& label_;
  const YamlLocator& locator_;
  std::vector<Diagnostic>* errors_;
};

const Json* Get(const Json& obj, std::initializer_list<const char*> path) {
  const Json* cur = &obj;
  for (const char* key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end() || it->is_null()) return nullptr;
    cur = &*it;
  }
  return cur;
}

const std::string* GetString(const Json& obj, std::initializer_list<const char*> path) {
  const Json* v = Get(obj, path);
  return v && v->is_string() ? &v->get_ref<const std::string&>() : nullptr;
}

void CheckFleetName(Checker& c, const Json& doc) {
  const std::string* name = GetString(doc, {"metadata", "name"});
  if (name && !name->empty() && !IsDnsName(*name))
    c.Error(
        {{"metadata"}, {"name"}}, false,
        "metadata.name " + Quote(*name) +
            " must be a DNS name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit");
}

void CheckNonEmpty(Checker& c, const FieldPath& path, const std::string* value) {
  if (value && value->empty()) c.Error(path, false, PathToString(path) + " must not be empty");
}

void CheckNodePool(Checker& c, const Json& pool, const FieldPath& at, std::map<std::string, int>* names) {
  auto field = [&](const char* key) { return Append(at, std::string(key)); };
  if (const std::string* name = GetString(pool, {"name"})) {
    if (!IsDnsLabel(*name)) {
      c.Error(field("name"), false,
              PathToString(field("name")) + " " + Quote(*name) +
                  " must be a DNS label: at most 63 lowercase letters, digits and '-', starting and ending with a "
                  "letter or digit");
    } else if (auto [it, fresh] = names->emplace(*name, at.back().index); !fresh) {
      c.Error(field("name"), false,
              "node pool name " + Quote(*name) + " is used twice: spec.nodePools[" + std::to_string(it->second) +
                  "] and " + PathToString(at) + "; node pool names must be unique");
    }
  }
  CheckNonEmpty(c, field("flavor"), GetString(pool, {"flavor"}));
  if (const std::string* arch = GetString(pool, {"arch"}); arch && *arch != "x86_64" && *arch != "arm64") {
    std::string msg = PathToString(field("arch")) + " must be \"x86_64\" or \"arm64\", got " + Quote(*arch);
    if (*arch == "amd64" || *arch == "x86-64" || *arch == "x64") msg += " (did you mean \"x86_64\"?)";
    if (*arch == "aarch64" || *arch == "arm") msg += " (did you mean \"arm64\"?)";
    c.Error(field("arch"), false, msg);
  }
  auto count_of = [&](const char* key) -> std::optional<int64_t> {
    const Json* v = Get(pool, {key});
    if (!v || !v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > INT_MAX) return std::nullopt;
    return v->get<int64_t>();
  };
  auto count = count_of("count"), min = count_of("min"), max = count_of("max");
  // The largest managed clusters (CCE cce.s2.xlarge) hold 2000 nodes; a pool beyond that is a typo.
  constexpr int64_t kMaxPoolNodes = 2000;
  for (const char* key : {"count", "min", "max"}) {
    std::optional<int64_t> v = count_of(key);
    if (v && *v > kMaxPoolNodes) {
      c.Error(field(key), false,
              PathToString(field(key)) + " is " + std::to_string(*v) + ", more nodes than a cluster can hold (at most " +
                  std::to_string(kMaxPoolNodes) + " per pool)");
    }
  }
  bool has_min = Get(pool, {"min"}) != nullptr, has_max = Get(pool, {"max"}) != nullptr;
  if (has_min != has_max) {
    const char* missing = has_min ? "max" : "min";
    c.Error(field(has_min ? "min" : "max"), false,
            PathToString(field(missing)) + " is required when " + PathToString(field(has_min ? "min" : "max")) +
                " is given (autoscaling needs both bounds)");
    return;
  }
  if (min && max && *min > *max) {
    c.Error(field("min"), false,
            PathToString(field("min")) + " (" + std::to_string(*min) + ") must be <= " + PathToString(field("max")) +
                " (" + std::to_string(*max) + ")");
    return;
  }
  if (count && min && max && (*count < *min || *count > *max))
    c.Error(field("count"), false,
            PathToString(field("count")) + " (" + std::to_string(*count) + ") must be between min (" +
                std::to_string(*min) + ") and max (" + std::to_string(*max) + ")");
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

std::string DescribeValue(const Json& value, bool redact) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return redact ? "a boolean" : std::string("boolean ") + (value.get<bool>() ? "true" : "false");
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return redact ? "an integer" : "integer " + value.dump();
    case Json::value_t::number_float:
      return redact ? "a number" : "number " + value.dump();
    case Json::value_t::string: {
      if (redact) return "a string";
      const auto& s = value.get_ref<const std::string&>();
      return "string " + Quote(s.size() > 60 ? s.substr(0, 57) + "..." : s);
    }
    case Json::value_t::array:
      return "a list";
    case Json::value_t::object:
      return "a map";
    default:
      return "a value";
  }
}

std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 3;  // suggest only within two edits
  std::string lower = Lower(word);
  for (const auto& c : candidates) {
    if (Lower(c) == lower) return c;
    if (word.size() >= 4 && c.size() > word.size() && c.compare(0, word.size(), word) == 0) return c;  // a prefix
    size_t d = EditDistance(word, c);
    if (d < best_distance && d < std::max<size_t>(word.size(), 2)) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

void CheckCloud(const std::string& file, const std::string& label, const Json& doc, const YamlLocator& locator,
                std::vector<Diagnostic>* errors) {
  Checker c(file, label, locator, errors);
  c.CheckObject(doc, {}, kCloudFields, false);
  CheckFleetName(c, doc);
  CheckNonEmpty(c, {{"spec"}, {"provider"}}, GetString(doc, {"spec", "provider"}));
  const std::string* region = GetString(doc, {"spec", "region"});
  CheckNonEmpty(c, {{"spec"}, {"region"}}, region);
  if (const Json* regions = Get(doc, {"spec", "regions"}); regions && regions->is_array()) {
    if (regions->empty()) {
      c.Error({{"spec"}, {"regions"}}, false, "spec.regions must list at least one region when given");
    } else if (region && !region->empty() &&
               std::find(regions->begin(), regions->end(), Json(*region)) == regions->end()) {
      c.Error({{"spec"}, {"region"}}, false,
              "spec.region " + Quote(*region) + " is not one of spec.regions " +
                  regions->dump(-1, ' ', false, Json::error_handler_t::replace));
    }
  }
  if (const Json* creds = Get(doc, {"spec", "credentials"}); creds && creds->is_object()) {
    for (const auto& [key, value] : creds->items()) {
      bool env = key.size() > 3 && key.compare(key.size() - 3, 3, "Env") == 0;
      if (!env || !value.is_string() || IsEnvVarName(value.get<std::string>())) continue;
      // Never echo the value: it may be the secret itself.
      c.Error({{"spec"}, {"credentials"}, {key}}, false,
              "spec.credentials." + key +
                  " must name an environment variable (letters, digits and '_'); put the secret in that "
                  "variable, never in Git");
    }
  }
}

void CheckCluster(const std::string& file, const std::string& label, const Json& doc, const YamlLocator& locator,
                  std::vector<Diagnostic>* errors) {
  Checker c(file, label, locator, errors);
  c.CheckObject(doc, {}, kClusterFields, false);
  CheckFleetName(c, doc);
  CheckNonEmpty(c, {{"spec"}, {"cloud"}}, GetString(doc, {"spec", "cloud"}));
  CheckNonEmpty(c, {{"spec"}, {"region"}}, GetString(doc, {"spec", "region"}));
  if (const std::string* version = GetString(doc, {"spec", "version"}); version && !IsMinorVersion(*version))
    c.Error({{"spec"}, {"version"}}, false,
            "spec.version " + Quote(*version) + " must be a Kubernetes minor version like \"1.29\" or \"v1.29\"");
  if (const Json* pools = Get(doc, {"spec", "nodePools"}); pools && pools->is_array()) {
    if (pools->empty()) c.Error({{"spec"}, {"nodePools"}}, false, "spec.nodePools must list at least one node pool");
    std::map<std::string, int> names;
    for (size_t i = 0; i < pools->size(); ++i)
      if ((*pools)[i].is_object())
        CheckNodePool(c, (*pools)[i], {{"spec"}, {"nodePools"}, {"", static_cast<int>(i)}}, &names);
  }
}

namespace {

std::string StringOr(const Json& doc, std::initializer_list<const char*> path, std::string fallback = "") {
  const std::string* s = GetString(doc, path);
  return s ? *s : fallback;
}

std::map<std::string, std::string> StringMap(const Json* v) {
  std::map<std::string, std::string> out;
  if (v && v->is_object())
    for (const auto& [key, value] : v->items())
      if (value.is_string()) out.emplace(key, value.get<std::string>());
  return out;
}

}  // namespace

CloudSpec CloudFromJson(const Json& doc) {
  CloudSpec cloud;
  cloud.name = StringOr(doc, {"metadata", "name"});
  cloud.provider = StringOr(doc, {"spec", "provider"});
  cloud.region = StringOr(doc, {"spec", "region"});
  if (const Json* regions = Get(doc, {"spec", "regions"}); regions && regions->is_array()) {
    for (const auto& r : *regions)
      if (r.is_string()) cloud.regions.push_back(r.get<std::string>());
  }
  if (cloud.regions.empty()) cloud.regions.push_back(cloud.region);
  cloud.endpoint = StringOr(doc, {"spec", "endpoint"});
  cloud.credentials = StringMap(Get(doc, {"spec", "credentials"}));
  return cloud;
}

ClusterSpec ClusterFromJson(const Json& doc) {
  ClusterSpec cluster;
  cluster.name = StringOr(doc, {"metadata", "name"});
  cluster.labels = StringMap(Get(doc, {"metadata", "labels"}));
  cluster.cloud = StringOr(doc, {"spec", "cloud"});
  cluster.version = StringOr(doc, {"spec", "version"});
  cluster.region = StringOr(doc, {"spec", "region"});
  cluster.zone = StringOr(doc, {"spec", "zone"});
  cluster.network = StringMap(Get(doc, {"spec", "network"}));
  if (const Json* dp = Get(doc, {"spec", "deletionProtection"}); dp && dp->is_boolean())
    cluster.deletion_protection = dp->get<bool>();
  if (const Json* pools = Get(doc, {"spec", "nodePools"}); pools && pools->is_array()) {
    for (const auto& p : *pools) {
      if (!p.is_object()) continue;
      NodePoolSpec pool;
      pool.name = StringOr(p, {"name"});
      pool.flavor = StringOr(p, {"flavor"});
      pool.arch = StringOr(p, {"arch"}, "x86_64");
      auto integer = [&](const char* key) -> std::optional<int> {
        const Json* v = Get(p, {key});
        if (!v || !v->is_number_integer()) return std::nullopt;
        return static_cast<int>(v->get<int64_t>());
      };
      pool.min = integer("min").value_or(0);
      pool.max = integer("max").value_or(0);
      pool.count = integer("count").value_or(integer("min").value_or(1));
      cluster.node_pools.push_back(std::move(pool));
    }
  }
  return cluster;
}

}  // namespace converge::spec_internal
