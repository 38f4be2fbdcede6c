// The sim's part of a Cloud spec: `simulation` (timings) and the credential keys it accepts. The
// sim stands in for any cloud, so it accepts the keys real clouds use (and never reads them).
#include <nlohmann/json.hpp>

#include "providers/config_check.h"
#include "providers/sim/sim_state.h"

namespace converge::sim {
namespace {

const std::vector<ConfigField>& SimSpecFields() {
  static const std::vector<ConfigField>* fields = new std::vector<ConfigField>{
      // Checked by the engine (engine/spec); listed so that near misses get a suggestion.
      {"provider"},
      {"region"},
      {"regions"},
      {"endpoint"},
      {"credentials",
       ConfigType::kObject,
       {{"accessKeyEnv"},
        {"secretKeyEnv"},
        {"tokenEnv"},
        {"projectIdEnv"},
        {"kubeconfig"},
        {"kubeconfigContext"}},
       /*secret=*/true},
      {"simulation",
       ConfigType::kObject,
       {{"clusterCreateSeconds", ConfigType::kNonNegativeNumber},
        {"podStartSeconds", ConfigType::kNonNegativeNumber},
        {"upgradeStepSeconds", ConfigType::kNonNegativeNumber},
        {"scaleSeconds", ConfigType::kNonNegativeNumber}}},
  };
  return *fields;
}

}  // namespace

std::vector<ConfigDiagnostic> ValidateSimConfig(const Json& cloud_spec) {
  std::vector<ConfigDiagnostic> out;
  CheckConfigObject(cloud_spec, {"spec"}, SimSpecFields(), &out);
  return out;
}

SimulationSpec SimulationOf(const CloudSpec& cloud) {
  SimulationSpec s;
  if (!cloud.config || !cloud.config->is_object()) return s;
  auto sim = cloud.config->find("simulation");
  if (sim == cloud.config->end() || !sim->is_object()) return s;
  auto number = [&](const char* key, double* out) {
    auto v = sim->find(key);
    if (v != sim->end() && v->is_number() && v->get<double>() >= 0) *out = v->get<double>();
  };
  number("clusterCreateSeconds", &s.cluster_create_seconds);
  number("podStartSeconds", &s.pod_start_seconds);
  number("upgradeStepSeconds", &s.upgrade_step_seconds);
  number("scaleSeconds", &s.scale_seconds);
  return s;
}

}  // namespace converge::sim
