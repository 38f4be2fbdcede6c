// Spec: parse the YAML files of one commit into objects and validate them.
//   - every file is multi-document YAML; each document becomes one JSON object (yaml-cpp);
//   - converge.dev/v1alpha1 Cloud and Cluster are validated strictly (unknown fields and wrong
//     types are errors naming file:line:column and the field); fields are listed in docs/specs.md.
//     A Cloud's spec is checked here only for the fields every provider shares (provider, region,
//     regions, endpoint, credentials as names); the rest goes to its provider as CloudSpec::config,
//     with the positions of its fields (providers/validate.h reports them);
//   - any other document must have apiVersion, kind and metadata.name;
//   - two objects with the same identity are an error naming both files.
// Parsed files are cached by blob id (ParseCache), so an unchanged file is never parsed twice;
// files holding a v1 Secret are not cached (the store keeps no Secret values).
// Pure apart from the cache; thread-compatible.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/model/fleet.h"

namespace converge {

// Stores the parsed, per-file-validated form of a blob (opaque text) by blob id.
class ParseCache {
 public:
  virtual ~ParseCache() = default;
  virtual std::optional<std::string> Get(const std::string& blob_id) = 0;
  // Stores the value; a failure is returned (LoadSpecs logs it and goes on: it only costs a parse).
  virtual Status Put(const std::string& blob_id, const std::string& parsed) = 0;
};

struct SpecFile {
  std::string path;     // path in the repository, used in messages
  std::string blob_id;  // content hash; empty disables caching for this file
  std::function<Result<std::string>()> read;  // called only on a cache miss
};

// Parses and validates all files. On failure returns Invalid whose message lists every problem
// found, one per line, each "file:line:column: message". Warnings go to SpecSet::warnings.
Result<SpecSet> LoadSpecs(const std::vector<SpecFile>& files, ParseCache* cache);

// Parses one YAML text into its documents (used by tests and tools): YAML syntax, maps, duplicate
// keys, apiVersion/kind/metadata.name present, metadata.namespace defaulted to "default" for known
// namespaced kinds and refused on cluster-scoped ones. Kind-specific (Cloud/Cluster) checks are
// LoadSpecs'. Invalid lists every problem, one per line, each naming file:line:col.
Result<std::vector<Manifest>> ParseYaml(const std::string& file, const std::string& text);

}  // namespace converge
