// The quickstart's fleet (examples/fleet) converges, and then plans no changes: the example stays
// valid and the simulated defaults never show up as differences.
#include <gtest/gtest.h>

#include "tests/cli/cli_harness.h"

namespace converge::testing {
namespace {

using nlohmann::json;

TEST(ExamplesTest, ExampleFleetConvergesAndThenPlansNothing) {
  FleetHarness h;
  RunCommand("cp -r " + std::string(CONVERGE_SOURCE_DIR) + "/examples/fleet/. " + h.repo().path() + "/", nullptr);
  h.repo().Commit("example fleet");

  RunResult validate = h.WithRepo("validate");
  ASSERT_EQ(validate.exit_code, 0) << validate.err;
  EXPECT_EQ(validate.out.find("warning"), std::string::npos) << validate.out;

  RunResult apply = h.WithRepo("apply", "--wait --timeout 120");
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;

  RunResult plan = h.WithRepo("plan", "--detailed-exitcode -o json");
  EXPECT_EQ(plan.exit_code, 0) << plan.out;

  json status = h.Json(h.Converge("status -o json"));
  ASSERT_EQ(status["clusters"].size(), 4u);
  for (const auto& c : status["clusters"]) EXPECT_EQ(c["phase"], "Running") << c.dump();
  // guestbook (6 objects) on 4 clusters, payments (5 objects) on the 2 prod clusters.
  ASSERT_EQ(status["objects"].size(), 34u);
  for (const auto& o : status["objects"]) {
    EXPECT_EQ(o["health"], "Healthy") << o.dump();
    EXPECT_EQ(o["drift"], false) << o.dump();
  }
  // payments-api asks for arm64 nodes: every one of its pods runs on one.
  json list = h.Json(h.Converge("sim list -o json"));
  std::map<std::string, std::string> arch_of_node;
  for (const auto& n : list["nodes"]) arch_of_node[n["name"]] = n["arch"];
  int api_pods = 0;
  for (const auto& o : list["objects"]) {
    if (o["kind"] != "Pod" || o["name"].get<std::string>().rfind("payments-api-", 0) != 0) continue;
    api_pods++;
    EXPECT_EQ(arch_of_node[o["nodeName"]], "arm64") << o.dump();
  }
  EXPECT_EQ(api_pods, 4);
}

}  // namespace
}  // namespace converge::testing
