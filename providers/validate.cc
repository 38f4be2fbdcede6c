#include "providers/validate.h"

#include <algorithm>
#include <tuple>

#include <nlohmann/json.hpp>

namespace converge {
namespace {

// The recorded position of `path`, or of its nearest ancestor that has one, or the document's line.
SourcePosition PositionOf(const CloudSpec& cloud, std::vector<std::string> path) {
  while (!path.empty()) {
    auto it = cloud.positions.find(JsonPointerOf(path));
    if (it != cloud.positions.end() && it->second.line > 0) return it->second;
    path.pop_back();
  }
  return SourcePosition{cloud.manifest.line, 0};
}

std::string Known(const std::vector<std::string>& names) {
  if (names.empty()) return "none registered";
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

Status ValidateClouds(const SpecSet& specs, const ProviderRegistry& registry) {
  std::vector<Diagnostic> problems;
  auto report = [&](const CloudSpec& cloud, const std::vector<std::string>& path, const std::string& message) {
    SourcePosition at = PositionOf(cloud, path);
    problems.push_back(Diagnostic{cloud.manifest.file, at.line, at.column,
                                  "Cloud " + Json(cloud.name).dump(-1, ' ', false, Json::error_handler_t::replace) +
                                      ": " + message});
  };
  static const Json kEmpty = Json::object();
  for (const CloudSpec& cloud : specs.clouds) {
    const CloudProviderFactory* factory = registry.Cloud(cloud.provider);
    if (factory == nullptr) {
      report(cloud, {"spec", "provider"},
             "unknown provider " + Json(cloud.provider).dump(-1, ' ', false, Json::error_handler_t::replace) +
                 " (known: " + Known(registry.CloudNames()) + ")");
      continue;
    }
    for (const ConfigDiagnostic& d : factory->ValidateConfig(cloud.config ? *cloud.config : kEmpty)) {
      report(cloud, d.path, d.message);
    }
  }
  if (problems.empty()) return Status::Ok();
  std::stable_sort(problems.begin(), problems.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
  });
  std::string msg, previous;
  for (const Diagnostic& d : problems) {
    std::string line = d.ToString();
    if (line == previous) continue;
    msg += (msg.empty() ? "" : "\n") + line;
    previous = std::move(line);
  }
  return Status::Invalid(std::move(msg));
}

}  // namespace converge
