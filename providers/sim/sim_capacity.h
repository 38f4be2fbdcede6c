// Capacity arithmetic of the simulated clouds: node flavors ("c7.large.2" = 2 vCPU, 4 GiB) and
// Kubernetes resource quantities ("250m", "1Gi", "500M"). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace converge::sim {

struct NodeCapacity {
  int64_t cpu_milli = 0;
  int64_t mem_bytes = 0;
};

// Parses `<family>.<size>.<ratio>`: size medium=1, large=2, xlarge=4, Nxlarge=4N vCPU; memory is
// vCPU*ratio GiB. nullopt when the flavor does not have that form.
std::optional<NodeCapacity> ParseFlavor(const std::string& flavor);

// CPU quantity in millicores ("250m" -> 250, "1" -> 1000, "0.5" -> 500); nullopt if malformed.
std::optional<int64_t> ParseCpuMilli(const std::string& quantity);
// Memory quantity in bytes ("128Mi", "1Gi", "500M", "1e3", "1024"); nullopt if malformed.
std::optional<int64_t> ParseBytes(const std::string& quantity);

// "2", "250m"; "4Gi", "512Mi", or bytes when not a whole MiB.
std::string FormatCpu(int64_t milli);
std::string FormatBytes(int64_t bytes);

}  // namespace converge::sim
