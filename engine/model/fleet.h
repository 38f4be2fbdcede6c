// Typed views of the engine's own kinds (converge.dev/v1alpha1 Cloud and Cluster) and the
// validated result of reading one commit (SpecSet). Field meanings are documented in
// docs/specs.md. Plain values, thread-compatible.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/model/object.h"

namespace converge {

// A 1-based line and column in a spec file; 0 means unknown.
struct SourcePosition {
  int line = 0;
  int column = 0;
};

// The engine's view of a Cloud: the fields every provider shares. Everything else under the
// Cloud's `spec` belongs to its provider, which reads (and validates) it from `config`.
struct CloudSpec {
  std::string name;
  std::string provider;              // sim | cce | kubernetes | a plugin name
  std::string region;                // default region
  std::vector<std::string> regions;  // regions offered; defaults to {region}
  std::string endpoint;
  // Where credentials come from: names of environment variables or files, never the secrets.
  // Which keys a provider accepts is the provider's to check.
  std::map<std::string, std::string> credentials;
  // The Cloud's `spec` object as written (a JSON object; null when the CloudSpec was built by hand).
  JsonPtr config;
  // Where each field of the Cloud document under /spec is in its file (the key of a map member,
  // the item of a list), by JSON pointer from the document root ("/spec/simulation/scaleSeconds",
  // "/spec/regions/0"), so that provider diagnostics name file:line:col. Empty when unknown.
  std::map<std::string, SourcePosition> positions;
  Manifest manifest;
};

// The JSON pointer (RFC 6901) of a field path: {"spec", "a/b"} -> "/spec/a~1b".
std::string JsonPointerOf(const std::vector<std::string>& path);

struct NodePoolSpec {
  std::string name;
  std::string flavor;             // e.g. c7.large.2 (2 vCPU, 4 GiB)
  std::string arch = "x86_64";    // x86_64 | arm64
  int count = 1;                  // desired nodes; with autoscaling, min <= count <= max
  int min = 0;
  int max = 0;
};

struct ClusterSpec {
  std::string name;
  std::string cloud;
  std::string version;  // Kubernetes minor version, e.g. "1.29"
  std::string region;
  std::string zone;
  std::map<std::string, std::string> network;  // vpc, subnet, podCIDR, serviceCIDR
  std::vector<NodePoolSpec> node_pools;
  std::map<std::string, std::string> labels;   // metadata.labels, used by placement
  bool deletion_protection = false;
  Manifest manifest;
};

// A problem found while reading specs, with where it is.
struct Diagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;

  std::string ToString() const;  // "file:line:col: message"
};

// Everything one commit declares, validated.
struct SpecSet {
  std::vector<CloudSpec> clouds;
  std::vector<ClusterSpec> clusters;
  std::vector<Manifest> manifests;     // application content: everything else
  std::vector<Diagnostic> warnings;
};

}  // namespace converge
