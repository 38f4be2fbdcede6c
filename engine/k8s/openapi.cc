#include "engine/k8s/openapi.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace converge::k8s {
namespace {

#include "engine/k8s/openapi_schema.inc"  // generated: kNodes, kFields, kDefinitions, kDefinitionNames, kKinds

int VersionRank(std::string_view v) {  // lower is preferred: GA, then beta, then alpha
  if (v.find("alpha") != std::string_view::npos) return 2;
  if (v.find("beta") != std::string_view::npos) return 1;
  return 0;
}

// Kubernetes' version priority: v2 > v1 > v1beta2 > v1beta1 > v1alpha1.
bool Preferred(const SchemaKind* a, const SchemaKind* b) {
  std::string_view va = a->version, vb = b->version;
  int ra = VersionRank(va), rb = VersionRank(vb);
  if (ra != rb) return ra < rb;
  auto numbers = [](std::string_view v) {
    int major = 0, minor = 0;
    size_t i = 1;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') major = major * 10 + (v[i++] - '0');
    while (i < v.size() && (v[i] < '0' || v[i] > '9')) ++i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') minor = minor * 10 + (v[i++] - '0');
    return std::make_pair(major, minor);
  };
  return numbers(va) > numbers(vb);
}

}  // namespace

std::span<const SchemaKind> Kinds() { return kKinds; }

const SchemaKind* FindKind(std::string_view group, std::string_view version, std::string_view kind) {
  auto key = std::make_tuple(group, version, kind);
  auto it = std::lower_bound(std::begin(kKinds), std::end(kKinds), key, [](const SchemaKind& k, const auto& want) {
    return std::make_tuple(std::string_view(k.group), std::string_view(k.version), std::string_view(k.kind)) < want;
  });
  if (it == std::end(kKinds) || it->group != group || it->version != version || it->kind != kind) return nullptr;
  return &*it;
}

std::vector<const SchemaKind*> ServedVersions(std::string_view group, std::string_view kind) {
  std::vector<const SchemaKind*> out;
  for (const SchemaKind& k : kKinds) {
    if (!k.alpha && k.group == group && k.kind == kind) out.push_back(&k);
  }
  std::sort(out.begin(), out.end(), Preferred);
  return out;
}

std::vector<const SchemaKind*> KindsNamed(std::string_view kind) {
  std::vector<const SchemaKind*> out;
  std::set<std::string_view> groups;
  for (const SchemaKind& k : kKinds) {
    if (!k.alpha && k.kind == kind && groups.insert(k.group).second) out.push_back(ServedVersions(k.group, kind)[0]);
  }
  return out;
}

bool IsBuiltinGroup(std::string_view group) {
  if (group.empty()) return true;
  for (const SchemaKind& k : kKinds) {
    if (k.group == group) return true;
  }
  return false;
}

std::vector<std::string> KindNamesInGroup(std::string_view group) {
  std::set<std::string> names;
  for (const SchemaKind& k : kKinds) {
    if (!k.alpha && k.group == group) names.insert(k.kind);
  }
  return {names.begin(), names.end()};
}

std::string ApiVersionOf(const SchemaKind& k) {
  return std::string(k.group).empty() ? std::string(k.version) : std::string(k.group) + "/" + k.version;
}

const SchemaNode& Node(int32_t index) { return kNodes[index]; }
const SchemaDefinition& Definition(int32_t index) { return kDefinitions[index]; }

std::span<const SchemaField> Fields(const SchemaDefinition& def) {
  return std::span<const SchemaField>(kFields + def.first_field, static_cast<size_t>(def.field_count));
}

const SchemaField* FindField(const SchemaDefinition& def, std::string_view name) {
  std::span<const SchemaField> fields = Fields(def);
  auto it = std::lower_bound(fields.begin(), fields.end(), name,
                             [](const SchemaField& f, std::string_view n) { return std::string_view(f.name) < n; });
  if (it == fields.end() || it->name != name) return nullptr;
  return &*it;
}

int32_t FindDefinition(std::string_view full_name) {
  auto it = std::lower_bound(std::begin(kDefinitionNames), std::end(kDefinitionNames), full_name,
                             [](const char* a, std::string_view b) { return std::string_view(a) < b; });
  if (it == std::end(kDefinitionNames) || *it != full_name) return -1;
  return static_cast<int32_t>(it - std::begin(kDefinitionNames));
}

}  // namespace converge::k8s
