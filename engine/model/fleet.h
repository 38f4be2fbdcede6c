// Typed views of the engine's own kinds (converge.dev/v1alpha1 Cloud and Cluster) and the
// validated result of reading one commit (SpecSet). Field meanings are documented in
// docs/specs.md. Plain values, thread-compatible.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/model/object.h"

namespace converge {

// Timing of the simulated cloud (provider `sim` only), in seconds of wall-clock time.
struct SimulationSpec {
  double cluster_create_seconds = 3;
  double pod_start_seconds = 1;
  double upgrade_step_seconds = 1;  // per control plane and per node pool
  double scale_seconds = 1;
};

struct CloudSpec {
  std::string name;
  std::string provider;              // sim | cce | kubernetes | a plugin name
  std::string region;                // default region
  std::vector<std::string> regions;  // regions offered; defaults to {region}
  std::string endpoint;
  // Where credentials come from: names of environment variables or files, never the secrets.
  std::map<std::string, std::string> credentials;
  SimulationSpec simulation;
  Manifest manifest;
};

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
