// YAML text -> JSON documents, typed as Kubernetes reads manifests (YAML 1.2 core schema: plain
// true/false, null/~/empty, integers, floats; quoted scalars stay strings), each with a locator
// that maps a field path back to line:column for error messages. Internal to engine/spec; uses
// yaml-cpp behind a pimpl so that this header stays cheap. Thread-compatible.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/model/fleet.h"
#include "engine/model/object.h"

namespace converge::spec_internal {

// One step of a field path: a map key, or a list index when index >= 0.
struct PathSegment {
  std::string key;
  int index = -1;
};
using FieldPath = std::vector<PathSegment>;

// "spec.nodePools[0].count"; keys with dots or slashes as ["a.b/c"].
std::string PathToString(const FieldPath& path);

// `s` in double quotes with JSON escapes, for messages (invalid UTF-8 is replaced, never thrown).
std::string Quote(const std::string& s);

// A 1-based source position; 0 means unknown.
using Position = SourcePosition;

// Maps field paths of one document back to source positions. Cheap to copy. Documents are
// converted straight from parser events, without a YAML tree; the first Find() on any document of
// a file parses that file's text again into a tree (errors are rare, so the fast path never pays
// for positions). A locator and its copies are used by one thread at a time.
class YamlLocator {
 public:
  YamlLocator();
  ~YamlLocator();
  YamlLocator(const YamlLocator&);
  YamlLocator& operator=(const YamlLocator&);

  // The position of the value at `path` (of its key when `at_key`); when the path does not exist,
  // the position of the nearest ancestor that does. The empty path is the document root.
  Position Find(const FieldPath& path, bool at_key = false) const;
  // The position of the field at `path` and of every field under it (the key of a map member, the
  // item of a list), by JSON pointer from the document root; empty when `path` does not exist.
  // At most kMaxFieldPositions entries.
  std::map<std::string, Position> FieldPositions(const FieldPath& path) const;
  static constexpr size_t kMaxFieldPositions = 10'000;

  struct Impl;

 private:
  friend class YamlLocatorAccess;
  std::shared_ptr<const Impl> impl_;
};

// Paths whose value positions are recorded while parsing (for cross-object messages, which
// must not need the YAML text): a Cluster's cloud and region, a custom resource's apiVersion and
// namespace (checked against CustomResourceDefinitions found anywhere in the repository).
inline constexpr const char* kRecordedPaths[] = {"spec.cloud", "spec.region", "apiVersion", "metadata.namespace"};

struct YamlDocument {
  Position start;             // of the document's root node
  std::shared_ptr<Json> doc;  // always a JSON object
  YamlLocator locator;
  std::map<std::string, Position> recorded;  // kRecordedPaths present in the document
  // A Cloud's fields under spec as YamlLocator::FieldPositions gives them, recorded while parsing
  // when `kind: Cloud` comes before `spec` (as converge writes and nearly everyone does);
  // `fields_recorded` is false otherwise, and the locator has them.
  std::map<std::string, Position> cloud_fields;
  bool fields_recorded = false;
};

// Parses every document of a multi-document YAML text. Empty documents (only comments or `---`)
// are skipped. Problems are appended to `errors` as "file:line:col: ...": a syntax error (no
// documents are returned then), a document that is not a map (dropped), a duplicate key (the
// first value is kept).
std::vector<YamlDocument> ParseYamlDocuments(const std::string& file, const std::string& text,
                                             std::vector<Diagnostic>* errors);

}  // namespace converge::spec_internal
