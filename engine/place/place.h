// Place: decides which clusters receive each manifest (until Karmada policies arrive, from
// annotations) and produces the per-cluster desired objects.
//   converge.dev/clusters: "a,b"               cluster names
//   converge.dev/cluster-selector: "tier=prod" a Kubernetes label selector over Cluster labels
//                                              (=, ==, !=, in (...), notin (...), key, !key)
// Both may be given (the union). The placement annotations are not delivered to clusters.
// A manifest with neither goes nowhere (a warning); naming a cluster that does not exist, or a
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

// Places every manifest of `specs`; warnings (manifests placed nowhere) go to `warnings`.
// Invalid lists every problem, one per line.
Result<std::vector<PlacedObject>> PlaceManifests(const SpecSet& specs, std::vector<Diagnostic>* warnings);

}  // namespace converge
