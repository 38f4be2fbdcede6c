// End-to-end: the real converge binary against a real Git repository served by git daemon on
// loopback, with a real SQLite state file and the embedded sim provider.
#include <gtest/gtest.h>

#include <regex>

#include "tests/cli/cli_harness.h"

namespace converge::testing {
namespace {

using nlohmann::json;

std::vector<json> ActionsOf(const json& plan) {
  std::vector<json> out;
  for (const auto& a : plan["actions"]) out.push_back(a);
  return out;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { h_.WriteStandardFleet(); }

  // Applies with --wait and expects success.
  void ApplyOk() {
    RunResult r = h_.WithRepo("apply", "--wait --timeout 60");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  FleetHarness h_;
};

TEST_F(CliTest, FreshPlanApplyThenNoOp) {
  RunResult plan = h_.WithRepo("plan", "--detailed-exitcode -o json");
  ASSERT_EQ(plan.exit_code, 2) << plan.err;
  json p = h_.Json(plan);
  EXPECT_EQ(p["source"]["url"], h_.url());
  EXPECT_EQ(p["source"]["commit"].get<std::string>().size(), 40u);
  // 2 clusters + web (4 objects) x 2 clusters + api (2 objects) on alpha.
  EXPECT_EQ(p["summary"]["create"], 12);
  EXPECT_EQ(p["summary"]["update"], 0);
  EXPECT_EQ(p["summary"]["delete"], 0);
  auto actions = ActionsOf(p);
  ASSERT_FALSE(actions.empty());
  // Clusters come first and carry no cluster of their own.
  EXPECT_EQ(actions[0]["kind"], "Cluster");
  EXPECT_EQ(actions[0]["cluster"], "");
  EXPECT_EQ(actions[1]["kind"], "Cluster");

  ApplyOk();

  RunResult again = h_.WithRepo("plan", "--detailed-exitcode -o json");
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  json q = h_.Json(again);
  EXPECT_TRUE(q["actions"].empty()) << q.dump(2);
  EXPECT_EQ(q["summary"]["unchanged"], 12);

  RunResult status = h_.Converge("status -o json");
  ASSERT_EQ(status.exit_code, 0) << status.err;
  json s = h_.Json(status);
  ASSERT_EQ(s["clusters"].size(), 2u);
  for (const auto& c : s["clusters"]) {
    EXPECT_EQ(c["phase"], "Running") << c.dump();
    EXPECT_EQ(c["cloud"], "c1");
    EXPECT_EQ(c["version"], "1.29");
    EXPECT_EQ(c["nodes"], 2);
  }
  ASSERT_EQ(s["objects"].size(), 10u);
  for (const auto& o : s["objects"]) {
    EXPECT_EQ(o["health"], "Healthy") << o.dump();
    EXPECT_EQ(o["drift"], false) << o.dump();
  }

  RunResult history = h_.Converge("history -o json");
  ASSERT_EQ(history.exit_code, 0);
  json hist = h_.Json(history);
  ASSERT_EQ(hist["runs"].size(), 1u);
  EXPECT_EQ(hist["runs"][0]["result"], "succeeded");
  EXPECT_EQ(hist["runs"][0]["created"], 12);
}

TEST_F(CliTest, ReplicaChangeIsOneUpdatePerTargetCluster) {
  ApplyOk();
  std::string web = h_.repo().ReadFile("apps/web.yaml");
  web.replace(web.find("replicas: 2"), 11, "replicas: 3");
  h_.repo().WriteFile("apps/web.yaml", web);
  h_.repo().Commit("scale web");

  RunResult plan = h_.WithRepo("plan", "--detailed-exitcode -o json");
  ASSERT_EQ(plan.exit_code, 2) << plan.err;
  json p = h_.Json(plan);
  auto actions = ActionsOf(p);
  ASSERT_EQ(actions.size(), 2u) << p.dump(2);
  std::set<std::string> clusters;
  for (const auto& a : actions) {
    EXPECT_EQ(a["action"], "update");
    EXPECT_EQ(a["kind"], "Deployment");
    EXPECT_EQ(a["namespace"], "web");
    EXPECT_EQ(a["name"], "web");
    EXPECT_NE(a["diff"].get<std::string>().find("+  replicas: 3"), std::string::npos) << a["diff"];
    clusters.insert(a["cluster"]);
  }
  EXPECT_EQ(clusters, (std::set<std::string>{"alpha", "beta"}));
  EXPECT_EQ(p["summary"]["update"], 2);
  EXPECT_EQ(p["summary"]["create"], 0);
  EXPECT_EQ(p["summary"]["delete"], 0);

  ApplyOk();
  EXPECT_EQ(h_.WithRepo("plan", "--detailed-exitcode").exit_code, 0);
}

TEST_F(CliTest, LiveEditIsDriftThatApplyCorrects) {
  ApplyOk();
  RunResult patch = h_.Converge("sim patch alpha deployment web/web '{\"spec\":{\"replicas\":5}}'");
  ASSERT_EQ(patch.exit_code, 0) << patch.err;

  json s = h_.Json(h_.Converge("status -o json"));
  int drifted = 0;
  for (const auto& o : s["objects"])
    if (o["drift"] == true) {
      drifted++;
      EXPECT_EQ(o["cluster"], "alpha");
      EXPECT_EQ(o["name"], "web");
      EXPECT_EQ(o["kind"], "Deployment");
    }
  EXPECT_EQ(drifted, 1);

  RunResult plan = h_.WithRepo("plan", "--detailed-exitcode -o json");
  ASSERT_EQ(plan.exit_code, 2) << plan.err;
  auto actions = ActionsOf(h_.Json(plan));
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0]["action"], "update");
  EXPECT_EQ(actions[0]["cluster"], "alpha");
  EXPECT_EQ(actions[0]["kind"], "Deployment");
  EXPECT_NE(actions[0]["diff"].get<std::string>().find("-  replicas: 5"), std::string::npos);

  ApplyOk();
  EXPECT_EQ(h_.WithRepo("plan", "--detailed-exitcode").exit_code, 0);
  json list = h_.Json(h_.Converge("sim list -o json"));
  bool found = false;
  for (const auto& o : list["objects"]) {
    if (o["cluster"] == "alpha" && o["kind"] == "Deployment" && o["name"] == "web") {
      found = true;
      EXPECT_EQ(o["status"]["replicas"], 2) << o.dump();
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(CliTest, LiveDeleteIsRecreated) {
  ApplyOk();
  ASSERT_EQ(h_.Converge("sim delete beta configmap web/web-config").exit_code, 0);
  auto actions = ActionsOf(h_.Json(h_.WithRepo("plan", "-o json")));
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0]["action"], "create");
  EXPECT_EQ(actions[0]["cluster"], "beta");
  ApplyOk();
  EXPECT_EQ(h_.WithRepo("plan", "--detailed-exitcode").exit_code, 0);
}

TEST_F(CliTest, ManifestDeletedFromGitIsPruned) {
  ApplyOk();
  h_.repo().RemoveFile("apps/api.yaml");
  h_.repo().Commit("retire api");
  auto actions = ActionsOf(h_.Json(h_.WithRepo("plan", "-o json")));
  ASSERT_EQ(actions.size(), 2u);
  // Prune runs in reverse order: the Deployment before its Namespace.
  EXPECT_EQ(actions[0]["action"], "delete");
  EXPECT_EQ(actions[0]["kind"], "Deployment");
  EXPECT_EQ(actions[1]["action"], "delete");
  EXPECT_EQ(actions[1]["kind"], "Namespace");

  // --no-prune keeps them.
  RunResult keep = h_.WithRepo("apply", "--no-prune");
  ASSERT_EQ(keep.exit_code, 0) << keep.err;
  json list = h_.Json(h_.Converge("sim list -o json"));
  auto has_api = [](const json& l) {
    for (const auto& o : l["objects"])
      if (o["kind"] == "Deployment" && o["name"] == "api") return true;
    return false;
  };
  EXPECT_TRUE(has_api(list));

  ApplyOk();
  EXPECT_FALSE(has_api(h_.Json(h_.Converge("sim list -o json"))));
  EXPECT_EQ(h_.WithRepo("plan", "--detailed-exitcode").exit_code, 0);
}

TEST_F(CliTest, TextPlanReadsLikeKubectlDiff) {
  RunResult plan = h_.WithRepo("plan");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("+ create fleet: Cluster alpha"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("Plan: 12 to create, 0 to update, 0 to delete"), std::string::npos) << plan.out;
  // Not a TTY: no color codes.
  EXPECT_EQ(plan.out.find("\033["), std::string::npos);
}

TEST_F(CliTest, ValidateWarnsAboutUnplacedManifest) {
  h_.repo().WriteFile("apps/lonely.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lonely\n");
  h_.repo().Commit("lonely");
  RunResult r = h_.WithRepo("validate");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("apps/lonely.yaml:1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("placed on no cluster"), std::string::npos) << r.out;
}

TEST_F(CliTest, RefsAndPaths) {
  std::string first = h_.repo().Head();
  h_.repo().Tag("v1");
  h_.repo().RemoveFile("apps/api.yaml");
  h_.repo().Commit("drop api");
  json by_tag = h_.Json(h_.WithRepo("plan", "--ref v1 -o json"));
  EXPECT_EQ(by_tag["source"]["commit"], first);
  EXPECT_EQ(by_tag["summary"]["create"], 12);
  json by_sha = h_.Json(h_.WithRepo("plan", "--ref " + first + " -o json"));
  EXPECT_EQ(by_sha["summary"]["create"], 12);
  json head = h_.Json(h_.WithRepo("plan", "--ref main -o json"));
  EXPECT_EQ(head["summary"]["create"], 10);
}

TEST_F(CliTest, ParallelismOneGivesTheSameResult) {
  RunResult r = h_.WithRepo("apply", "--wait --timeout 60 --parallelism 1 -o json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = h_.Json(r);
  EXPECT_EQ(j["result"], "succeeded");
  for (const auto& a : j["actions"]) EXPECT_EQ(a["result"], "succeeded") << a.dump();
  EXPECT_EQ(h_.WithRepo("plan", "--detailed-exitcode").exit_code, 0);
}

TEST_F(CliTest, JsonOutputIsOneDocumentEvenOnError) {
  RunResult r = h_.Converge("plan --repo git://127.0.0.1:1/nothing -o json");
  EXPECT_EQ(r.exit_code, 1);
  json j = h_.Json(r);
  EXPECT_TRUE(j.contains("error"));
}

}  // namespace
}  // namespace converge::testing

namespace converge::testing {
namespace {

TEST_F(CliTest, SecretValuesStayOutOfPlansAndInventory) {
  h_.repo().WriteFile("apps/secret.yaml",
                      "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: web\n  annotations:\n"
                      "    converge.dev/clusters: alpha\nstringData:\n  password: hunter2-TOPSECRET\n");
  h_.repo().Commit("secret");
  for (const char* args : {"plan", "plan -o json"}) {
    RunResult r = h_.WithRepo(args);
    EXPECT_EQ(r.out.find("TOPSECRET"), std::string::npos) << r.out;
  }
  ASSERT_EQ(h_.WithRepo("apply", "--wait --timeout 60").exit_code, 0);
  std::string secret_rows = RunCommand(
      "sqlite3 " + h_.state_dir() + "/converge.db \"SELECT last_applied FROM inventory WHERE kind='Secret'\"", nullptr);
  EXPECT_NE(secret_rows.find("sensitive"), std::string::npos) << secret_rows;
  EXPECT_EQ(secret_rows.find("TOPSECRET"), std::string::npos) << secret_rows;
  EXPECT_EQ(h_.WithRepo("plan", "--detailed-exitcode").exit_code, 0);

  // A changed value is an update whose diff shows hashes, and apply delivers the real value.
  std::string text = h_.repo().ReadFile("apps/secret.yaml");
  text.replace(text.find("hunter2-TOPSECRET"), 17, "swordfish-TOPSECRET");
  h_.repo().WriteFile("apps/secret.yaml", text);
  h_.repo().Commit("rotate");
  RunResult plan = h_.WithRepo("plan", "-o json");
  json p = h_.Json(plan);
  ASSERT_EQ(p["actions"].size(), 1u) << p.dump(2);
  EXPECT_EQ(plan.out.find("TOPSECRET"), std::string::npos) << plan.out;
  ASSERT_EQ(h_.WithRepo("apply").exit_code, 0);
  EXPECT_EQ(h_.WithRepo("plan", "--detailed-exitcode").exit_code, 0);
  // Drift on a Secret is corrected with the real value from Git (the no-op path cannot do it).
  ASSERT_EQ(h_.Converge("sim patch alpha secret web/db '{\"stringData\":{\"password\":\"changed\"}}'").exit_code, 0);
  json drift = h_.Json(h_.WithRepo("plan", "-o json"));
  ASSERT_EQ(drift["actions"].size(), 1u) << drift.dump(2);
  ASSERT_EQ(h_.WithRepo("apply").exit_code, 0);
  EXPECT_EQ(h_.WithRepo("plan", "--detailed-exitcode").exit_code, 0);
}

}  // namespace
}  // namespace converge::testing
