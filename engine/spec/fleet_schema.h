// The schema of converge.dev/v1alpha1 Cloud and Cluster: strict checks of one document (unknown
// fields, types, per-object rules; every problem names file:line:col, the object and the field)
// and the typed views built from a checked document. Cross-object rules (a Cluster's cloud and
// region) belong to LoadSpecs. Fields are documented in docs/specs.md. Internal to engine/spec;
// pure, thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "engine/model/fleet.h"
#include "engine/spec/yaml_json.h"

namespace converge::spec_internal {

// Appends every problem of a Cloud document to `errors`; `label` is e.g. `Cloud "hwc"`. Fields of
// the spec other than the shared ones (kCloudSpecFields) are left to the Cloud's provider.
void CheckCloud(const std::string& file, const std::string& label, const Json& doc, const YamlLocator& locator,
                std::vector<Diagnostic>* errors);
// Appends every problem of a Cluster document to `errors`; `label` is e.g. `Cluster "prod"`.
void CheckCluster(const std::string& file, const std::string& label, const Json& doc, const YamlLocator& locator,
                  std::vector<Diagnostic>* errors);

// Typed views of documents that passed CheckCloud / CheckCluster, with defaults applied.
// `manifest`, `config` and `positions` are left empty; ClusterSpec::region stays empty when not given (LoadSpecs defaults it
// to the cloud's region).
CloudSpec CloudFromJson(const Json& doc);
ClusterSpec ClusterFromJson(const Json& doc);

// `string "three"`, `integer 3`, `number 1.3`, `boolean true`, `null`, `a list`, `a map`.
// With `redact`, only the type: for values that may be secrets.
std::string DescribeValue(const Json& value, bool redact = false);

// The candidate closest to `word` by edit distance (or equal ignoring case), or "" if none is close.
std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace converge::spec_internal
