// The sim's part of a Cloud spec: ValidateConfig as a table, one line per case, and the timings it
// reads from a valid config.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "providers/config_check.h"
#include "providers/provider.h"
#include "providers/sim/sim_provider.h"

namespace converge {
namespace {

struct ConfigCase {
  const char* spec;      // the Cloud's spec, as JSON
  const char* expected;  // every diagnostic as "path: message", joined by newlines; "" = valid
};

std::string Diagnose(const char* spec) {
  std::vector<ConfigDiagnostic> got = NewSimCloudFactory()->ValidateConfig(Json::parse(spec));
  std::string out;
  for (const ConfigDiagnostic& d : got) out += (out.empty() ? "" : "\n") + JsonPointerOf(d.path) + ": " + d.message;
  return out;
}

class SimValidateConfigTest : public ::testing::TestWithParam<ConfigCase> {};

TEST_P(SimValidateConfigTest, Reports) { EXPECT_EQ(Diagnose(GetParam().spec), GetParam().expected); }

INSTANTIATE_TEST_SUITE_P(
    Cases, SimValidateConfigTest,
    ::testing::Values(
        ConfigCase{R"({"provider":"sim","region":"r"})", ""},
        ConfigCase{R"({"provider":"sim","region":"r","regions":["r"],"endpoint":"x","simulation":{"clusterCreateSeconds":0.5,"podStartSeconds":0,"upgradeStepSeconds":2,"scaleSeconds":1}})", ""},
        ConfigCase{R"({"credentials":{"accessKeyEnv":"A","secretKeyEnv":"S","tokenEnv":"T","projectIdEnv":"P","kubeconfig":"k","kubeconfigContext":"c"}})", ""},
        ConfigCase{R"({"simulation":{"scaleSeconds":-1}})", "/spec/simulation/scaleSeconds: spec.simulation.scaleSeconds must be >= 0, got integer -1"},
        ConfigCase{R"({"simulation":{"podStartSeconds":"soon"}})", "/spec/simulation/podStartSeconds: spec.simulation.podStartSeconds must be a number, got string \"soon\""},
        ConfigCase{R"({"simulation":{"podStartSecond":1}})", "/spec/simulation/podStartSecond: unknown field spec.simulation.podStartSecond (did you mean spec.simulation.podStartSeconds?)"},
        ConfigCase{R"({"simulation":{"warp":9}})", "/spec/simulation/warp: unknown field spec.simulation.warp; known fields: clusterCreateSeconds, podStartSeconds, upgradeStepSeconds, scaleSeconds"},
        ConfigCase{R"({"simulation":3})", "/spec/simulation: spec.simulation must be a map, got integer 3"},
        ConfigCase{R"({"credentials":{"secretKey":"s3cr3t"}})", "/spec/credentials/secretKey: unknown field spec.credentials.secretKey (did you mean spec.credentials.secretKeyEnv?)"},
        ConfigCase{R"({"credentials":{"password":"hunter2"}})", "/spec/credentials/password: unknown field spec.credentials.password; known fields: accessKeyEnv, secretKeyEnv, tokenEnv, projectIdEnv, kubeconfig, kubeconfigContext"},
        ConfigCase{R"({"credentials":"AKIAXXXX"})", "/spec/credentials: spec.credentials must be a map, got a string"},
        ConfigCase{R"({"regoin":"r"})", "/spec/regoin: unknown field spec.regoin (did you mean spec.region?)"},
        ConfigCase{R"({"simulaton":{}})", "/spec/simulaton: unknown field spec.simulaton (did you mean spec.simulation?)"},
        ConfigCase{R"({"simulation":{"scaleSeconds":-1,"podStartSeconds":-2},"zone":"z"})", "/spec/simulation/podStartSeconds: spec.simulation.podStartSeconds must be >= 0, got integer -2\n/spec/simulation/scaleSeconds: spec.simulation.scaleSeconds must be >= 0, got integer -1\n/spec/zone: unknown field spec.zone; known fields: provider, region, regions, endpoint, credentials, simulation"},
        ConfigCase{R"({"simulation":null})", ""}));

TEST(SimValidateConfigTest, CredentialValuesAreNeverEchoed) {
  std::string got = Diagnose(R"({"credentials":{"secretKey":"s3cr3t-value"},"simulation":{"x":"AKIA-not-secret"}})");
  EXPECT_EQ(got.find("s3cr3t-value"), std::string::npos) << got;
  EXPECT_NE(got.find("spec.credentials.secretKey"), std::string::npos) << got;
}

TEST(ConfigCheckTest, PathsAndSuggestions) {
  EXPECT_EQ(ConfigPathText({"spec", "simulation", "scaleSeconds"}), "spec.simulation.scaleSeconds");
  EXPECT_EQ(ConfigPathText({"spec", "regions", "0"}), "spec.regions[0]");
  EXPECT_EQ(ConfigPathText({"spec", "a.b"}), "spec[\"a.b\"]");
  EXPECT_EQ(ClosestConfigName("Region", {"region", "regions"}), "region");
  EXPECT_EQ(ClosestConfigName("tokenEn", {"tokenEnv"}), "tokenEnv");
  EXPECT_EQ(ClosestConfigName("zzz", {"region"}), "");
  EXPECT_EQ(DescribeConfigValue(Json("secret"), true), "a string");
  EXPECT_EQ(DescribeConfigValue(Json(1.5), false), "number 1.5");
}

}  // namespace
}  // namespace converge
