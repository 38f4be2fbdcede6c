// The small schema language providers check their part of a Cloud spec with
// (CloudProviderFactory::ValidateConfig): known fields with types, unknown fields named with the
// closest known one ("did you mean"), values under secret fields never echoed. Messages read like
// the engine's own spec checks. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "engine/model/object.h"
#include "providers/provider.h"

namespace converge {

enum class ConfigType {
  kAny,                // accepted as it is (e.g. checked by the engine)
  kString,
  kBool,
  kNonNegativeNumber,  // integer or float >= 0
  kObject,             // a map whose keys are `fields`
};

struct ConfigField {
  std::string name;
  ConfigType type = ConfigType::kAny;
  std::vector<ConfigField> fields = {};  // kObject: the keys it may have
  bool secret = false;              // never echo values at or under this field
};

// Checks the members of `object` (at `path` from the document root, e.g. {"spec"}) against
// `fields`, recursively, appending one diagnostic per problem to `out`. `object` not being a map
// is itself a problem.
void CheckConfigObject(const Json& object, const std::vector<std::string>& path, const std::vector<ConfigField>& fields,
                       std::vector<ConfigDiagnostic>* out);

// "spec.simulation.scaleSeconds"; keys with '.', '/', brackets, quotes or spaces as ["a.b"],
// all-digit segments as list indices [0].
std::string ConfigPathText(const std::vector<std::string>& path);

// `string "three"`, `integer 3`, `number 1.5`, `boolean true`, `null`, `a list`, `a map`; with
// `redact`, only the type.
std::string DescribeConfigValue(const Json& value, bool redact);

// The candidate closest to `word` (equal ignoring case, `word` a prefix of it, or within two
// edits), or "" when none is close.
std::string ClosestConfigName(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace converge
