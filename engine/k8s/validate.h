// Kubernetes' own validation of one object, before anything is applied: what the API server of
// kKubernetesVersion refuses. For built-in kinds:
//   - apiVersion/kind: the kind must be served at that group/version (a kind under the wrong group
//     or a removed version names the apiVersion that serves it);
//   - the OpenAPI schema (engine/k8s/openapi.h): field types and formats (int32 in range, integers
//     not strings or floats, base64 for bytes, quantities, RFC 3339 times), unknown fields (as
//     kubectl's strict field validation), required fields;
//   - the API server's rules the schema does not carry (kApiServerRules in validate.cc): names per
//     kind (DNS-1123 subdomain by default; DNS-1123 label, DNS-1035 label or path segment where the
//     kind says), label keys and values (labels, selectors), annotation keys and total size
//     (256 KiB), non-negative counts and port ranges, ConfigMap and Secret keys and size (1 MiB),
//     workload selectors that match their template, and the object size limit (1.5 MiB of JSON).
// Custom resources get the metadata rules and the size limit (their CRD's schema is not checked).
// The same code runs in `converge validate` and in the sim's object store, so the sim refuses what
// a real API server refuses. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace converge::k8s {

using Json = nlohmann::json;

// The most the API server stores of one object (etcd's request limit), as JSON bytes.
inline constexpr size_t kMaxObjectBytes = 1'572'864;
// The most all annotations of one object may hold (keys and values).
inline constexpr size_t kMaxAnnotationBytes = 256 * 1024;
// The most a ConfigMap's or a Secret's data may hold.
inline constexpr size_t kMaxDataBytes = 1024 * 1024;

// One step of a field path: a map key, or a list index when index >= 0.
struct PathStep {
  std::string key;
  int index = -1;
};

struct FieldError {
  std::vector<PathStep> path;  // where: the field itself, or the nearest part that exists
  std::string message;         // complete, naming the field: "spec.replicas must be 0 or more, got -3"
  bool at_key = false;         // about the key itself (an unknown field, a bad label key), not its value
};

// "spec.template.spec.containers[0].image"; keys with dots or slashes as ["a.b/c"].
std::string PathText(const std::vector<PathStep>& path);

// Every problem of `object` (an API object with apiVersion and kind strings), at most
// `max_errors`. Empty when the API server would accept it. converge.dev and policy.karmada.io
// objects are not Kubernetes API objects and always pass.
std::vector<FieldError> ValidateObject(const Json& object, size_t max_errors = 20);

// True when `api_version` + `kind` name a custom resource: not built in, not converge's own kinds
// and not Karmada's placement policies.
bool IsCustomResource(const std::string& group, const std::string& kind);

// What a CustomResourceDefinition declares: the kind it adds and how it is served.
struct CustomKind {
  std::string group;
  std::string kind;
  std::string plural;
  bool namespaced = true;
  std::vector<std::string> served_versions;
};
// The kind a CRD body declares; false when the body lacks spec.group or spec.names.kind.
bool CustomKindOf(const Json& crd, CustomKind* out);

}  // namespace converge::k8s
