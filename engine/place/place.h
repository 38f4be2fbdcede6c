// Place: decides which clusters receive each manifest (until Karmada policies arrive, from
// annotations) and produces the per-cluster desired objects.
//   converge.dev/clusters: "a,b"               cluster names
//   converge.dev/cluster-selector: "tier=prod" a Kubernetes label selector over Cluster labels
//                                              (=, ==, !=, in (...), notin (...), key, !key)
// Both may be given (the union). The placement annotations are not delivered to clusters.
// A manifest with neither goes nowhere (a warning); naming a cluster no source declares, or a
// malformed selector, is an error naming the manifest's file:line. Pure.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/model/fleet.h"

namespace converge {

inline constexpr const char* kClustersAnnotation = "converge.dev/clusters";
inline constexpr const char* kClusterSelectorAnnotation = "converge.dev/cluster-selector";

// One object bound for one cluster.
struct PlacedObject {
  std::string cluster;
  Manifest manifest;  // body without the placement annotations
};

// A parsed label selector.
class LabelSelector {
 public:
  // Invalid with the offending part when `text` is malformed.
  static Result<LabelSelector> Parse(const std::string& text);
  bool Matches(const std::map<std::string, std::string>& labels) const;

 private:
  struct Requirement {
    enum class Op { kEq, kNotEq, kIn, kNotIn, kExists, kNotExists } op;
    std::string key;
    std::vector<std::string> values;
  };
  std::vector<Requirement> reqs_;
};

// A manifest's placement annotations, as written (so placement can be decided again without the
// manifest's body, e.g. from a cached summary of its file).
struct PlacementAnnotations {
  bool has_clusters = false;   // converge.dev/clusters is present
  bool clusters_is_string = true;
  std::string clusters;
  bool has_selector = false;   // converge.dev/cluster-selector is present
  bool selector_is_string = true;
  std::string selector;
};

// The placement annotations of a manifest body.
PlacementAnnotations PlacementOf(const Json& body);
// The body as delivered to clusters: without the placement annotations (and without an
// annotations map left empty by their removal).
Json Delivered(const Json& body);

// The clusters a manifest goes to. `where` ("file:line") and `key` name it in messages; problems
// go to `errors` (one line each), a manifest placed nowhere or a selector matching nothing to
// `warnings` (with `file` and `line`).
std::vector<std::string> PlacementTargets(const PlacementAnnotations& annotations,
                                          const std::vector<ClusterSpec>& clusters, const std::string& file, int line,
                                          const ObjectKey& key, std::vector<std::string>* errors,
                                          std::vector<Diagnostic>* warnings);

// Places every manifest of `specs`; warnings (manifests placed nowhere) go to `warnings`.
// Invalid lists every problem, one per line.
Result<std::vector<PlacedObject>> PlaceManifests(const SpecSet& specs, std::vector<Diagnostic>* warnings);

}  // namespace converge
