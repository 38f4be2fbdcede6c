// The Kubernetes API as its published OpenAPI document describes it, for the version the sim speaks
// (kKubernetesVersion): every served (group, version, kind) with its scope and definition, and every
// definition's fields with their types. The tables are generated at build time from
// data/openapi/swagger.json by scripts/gen_openapi_tables.py (descriptions dropped), so nothing is
// parsed at run time. Immutable static data; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace converge::k8s {

// The Kubernetes minor version of data/openapi/swagger.json, which the sim claims to be.
inline constexpr const char* kKubernetesVersion = "1.30";

// What a value must be. kObject refers to a definition; kArray and kMap to their element node.
enum class SchemaType : uint8_t {
  kAny,          // anything (RawExtension, JSON, preserve-unknown-fields)
  kObject,       // a map with the fields of a definition
  kString,
  kBytes,        // a base64-encoded string
  kDateTime,     // an RFC 3339 string
  kInt32,
  kInt64,
  kNumber,
  kBoolean,
  kArray,
  kMap,          // string keys, values of one node
  kIntOrString,  // an int32 or a string
  kQuantity,     // "250m", "1Gi", or a number
};

struct SchemaNode {
  SchemaType type;
  int32_t def;   // definition index for kObject, else -1
  int32_t elem;  // element node for kArray and kMap, else -1
};

struct SchemaField {
  const char* name;
  int32_t node;
  bool required;
};

struct SchemaDefinition {
  const char* name;  // short name, e.g. "DeploymentSpec"
  int32_t first_field;
  int32_t field_count;  // fields sorted by name
};

struct SchemaKind {
  const char* group;  // "" for the core group
  const char* version;
  const char* kind;
  const char* plural;
  bool namespaced;
  bool appliable;  // the API server takes a PATCH of one object (reviews and ComponentStatus do not)
  bool alpha;      // an alpha version: off by default on real clusters, not served by the sim
  int32_t def;
};

// Every (group, version, kind) the document serves, sorted by group, version, kind.
std::span<const SchemaKind> Kinds();
// Null when the document does not serve that group/version/kind.
const SchemaKind* FindKind(std::string_view group, std::string_view version, std::string_view kind);
// The non-alpha versions serving `kind` in `group`, preferred first (GA before beta, higher first).
std::vector<const SchemaKind*> ServedVersions(std::string_view group, std::string_view kind);
// Served non-alpha kinds named `kind` in any group, preferred version of each group.
std::vector<const SchemaKind*> KindsNamed(std::string_view kind);
// True for "" and every group the document serves (apps, batch, networking.k8s.io, ...).
bool IsBuiltinGroup(std::string_view group);
// Names of every kind served in `group` (non-alpha), for suggestions.
std::vector<std::string> KindNamesInGroup(std::string_view group);
// "apps/v1" or "v1".
std::string ApiVersionOf(const SchemaKind& k);

const SchemaNode& Node(int32_t index);
const SchemaDefinition& Definition(int32_t index);
std::span<const SchemaField> Fields(const SchemaDefinition& def);
// Null when `def` has no such field.
const SchemaField* FindField(const SchemaDefinition& def, std::string_view name);
// Index of a definition by full name ("io.k8s.api.apps.v1.DeploymentSpec"), or -1.
int32_t FindDefinition(std::string_view full_name);

}  // namespace converge::k8s
