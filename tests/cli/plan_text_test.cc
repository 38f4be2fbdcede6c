// The text plan as a person reads it, through the real binary: each update says whether Git
// changed it, the cluster did (drift), or both; a create shows the YAML it will create (Secrets
// redacted) unless --compact; an --allow-destroy plan lists what goes with each deleted cluster
// and warns when deletionProtection will refuse it. -o json carries the same as added fields.
#include <gtest/gtest.h>

#include <map>

#include "tests/cli/cli_harness.h"

namespace converge::testing {
namespace {

using nlohmann::json;

// The lines of `text` that follow the line starting with `head`, up to the next action line.
std::string BodyAfter(const std::string& text, const std::string& head) {
  size_t at = text.find(head);
  if (at == std::string::npos) return "";
  size_t start = text.find('\n', at);
  if (start == std::string::npos) return "";
  std::string out;
  for (size_t pos = start + 1; pos < text.size();) {
    size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (line.rfind("    ", 0) != 0) break;  // the next action, or the summary
    out += line + "\n";
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return out;
}

class PlanTextTest : public ::testing::Test {
 protected:
  void SetUp() override { h_.WriteStandardFleet(); }

  void ApplyOk() {
    RunResult r = h_.WithRepo("apply", "--wait --timeout 60");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  void Edit(const std::string& path, const std::string& from, const std::string& to) {
    std::string text = h_.repo().ReadFile(path);
    size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    h_.repo().WriteFile(path, text);
  }
  // Removes cluster beta from Git, and retargets web to prod only.
  void RetireBeta() {
    h_.repo().RemoveFile("clusters/beta.yaml");
    std::string web = h_.repo().ReadFile("apps/web.yaml");
    for (size_t at; (at = web.find("cluster-selector: tier\n")) != std::string::npos;)
      web.replace(at, 22, "cluster-selector: tier=prod\n");
    h_.repo().WriteFile("apps/web.yaml", web);
    h_.repo().Commit("retire beta");
  }

  FleetHarness h_;
};

TEST_F(PlanTextTest, UpdatesSayWhetherGitOrTheClusterChanged) {
  ApplyOk();
  // Drift only: scaled by hand on alpha.
  ASSERT_EQ(h_.Converge("sim patch alpha deployment web/web '{\"spec\":{\"replicas\":5}}'").exit_code, 0);
  // Git only: a new image for api (alpha).
  Edit("apps/api.yaml", "example/api:1.0", "example/api:1.1");
  // Both on beta (Git changed the greeting, and someone edited it there); Git only on alpha.
  Edit("apps/web.yaml", "greeting: hello", "greeting: hi");
  h_.repo().Commit("new api, new greeting");
  ASSERT_EQ(h_.Converge("sim patch beta configmap web/web-config '{\"data\":{\"greeting\":\"hey\"}}'").exit_code, 0);
  // Deleted by hand on beta: recreated, as drift.
  ASSERT_EQ(h_.Converge("sim delete beta service web/web").exit_code, 0);

  RunResult text = h_.WithRepo("plan");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  for (const char* line : {
           "~ update alpha: Deployment.apps web/web (drift: changed on the cluster since converge applied it)\n",
           "~ update alpha: Deployment.apps api/api (changed in Git)\n",
           "~ update alpha: ConfigMap web/web-config (changed in Git)\n",
           "~ update beta: ConfigMap web/web-config (changed in Git; also changed on the cluster since converge "
           "applied it)\n",
           "+ create beta: Service web/web (drift: deleted from the cluster since converge applied it)\n",
       }) {
    EXPECT_NE(text.out.find(line), std::string::npos) << "no line\n" << line << "in\n" << text.out;
  }

  json p = h_.Json(h_.WithRepo("plan", "-o json"));
  std::map<std::string, std::string> cause;
  for (const auto& a : p["actions"]) {
    cause[a["cluster"].get<std::string>() + " " + a["kind"].get<std::string>() + " " + a["name"].get<std::string>()] =
        a.value("cause", "(none)");
  }
  EXPECT_EQ(cause, (std::map<std::string, std::string>{{"alpha Deployment web", "drift"},
                                                       {"alpha Deployment api", "git"},
                                                       {"alpha ConfigMap web-config", "git"},
                                                       {"beta ConfigMap web-config", "gitAndDrift"},
                                                       {"beta Service web", "drift"}}))
      << p.dump(2);
}

TEST_F(PlanTextTest, CreatesShowTheirYamlUnlessCompact) {
  RunResult full = h_.WithRepo("plan");
  ASSERT_EQ(full.exit_code, 0) << full.err;
  std::string config = BodyAfter(full.out, "+ create alpha: ConfigMap web/web-config\n");
  EXPECT_NE(config.find("    +apiVersion: v1\n"), std::string::npos) << full.out;
  EXPECT_NE(config.find("    +data:\n    +  greeting: hello\n"), std::string::npos) << config;
  EXPECT_NE(config.find("    +  name: web-config\n"), std::string::npos) << config;
  EXPECT_EQ(config.find("@@"), std::string::npos) << config;
  // Every line of a create is an addition; placement annotations are not part of the object.
  EXPECT_EQ(config.find("\n    -"), std::string::npos) << config;
  EXPECT_EQ(config.find("converge.dev/cluster-selector"), std::string::npos) << config;
  EXPECT_NE(BodyAfter(full.out, "+ create fleet: Cluster alpha\n").find("    +  version: \"1.29\"\n"), std::string::npos)
      << full.out;

  RunResult compact = h_.WithRepo("plan", "--compact");
  ASSERT_EQ(compact.exit_code, 0) << compact.err;
  EXPECT_NE(compact.out.find("+ create alpha: ConfigMap web/web-config\n+ create"), std::string::npos) << compact.out;
  EXPECT_EQ(compact.out.find("greeting"), std::string::npos) << compact.out;
  EXPECT_NE(compact.out.find("Plan: 12 to create, 0 to update, 0 to delete"), std::string::npos) << compact.out;
}

TEST_F(PlanTextTest, ACreatedSecretShowsItsKeysNeverItsValues) {
  h_.repo().WriteFile("apps/secret.yaml",
                      "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: web\n  annotations:\n"
                      "    converge.dev/clusters: alpha\nstringData:\n  password: hunter2-TOPSECRET\n"
                      "data:\n  token: c3VwZXItVE9QU0VDUkVU\n");  // "super-TOPSECRET"
  h_.repo().Commit("secret");
  RunResult r = h_.WithRepo("plan");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string body = BodyAfter(r.out, "+ create alpha: Secret web/db\n");
  EXPECT_NE(body.find("password:"), std::string::npos) << r.out;
  EXPECT_NE(body.find("token:"), std::string::npos) << r.out;
  for (const char* secret : {"hunter2", "TOPSECRET", "c3VwZXItVE9QU0VDUkVU"}) {
    EXPECT_EQ(r.out.find(secret), std::string::npos) << secret << " in\n" << r.out;
  }
}

TEST_F(PlanTextTest, AllowDestroyListsWhatGoesWithEachCluster) {
  ApplyOk();
  RetireBeta();
  RunResult r = h_.WithRepo("plan", "--allow-destroy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("- delete fleet: Cluster beta\n"
                       "    deletes with it the 4 objects converge recorded on it:\n"
                       "      - ConfigMap web/web-config\n"
                       "      - Namespace web\n"
                       "      - Service web/web\n"
                       "      - Deployment.apps web/web\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("1 to delete (and 4 objects on the deleted clusters)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("deletionProtection"), std::string::npos) << r.out;

  json p = h_.Json(h_.WithRepo("plan", "--allow-destroy -o json"));
  bool found = false;
  for (const auto& a : p["actions"]) {
    if (a["kind"] != "Cluster") continue;
    found = true;
    EXPECT_EQ(a["action"], "delete");
    EXPECT_EQ(a["name"], "beta");
    json destroys = a.value("destroys", json::array());
    ASSERT_EQ(destroys.size(), 4u) << a.dump(2);
    for (const auto& o : destroys) EXPECT_EQ(o["cluster"], "beta") << o.dump();
    EXPECT_EQ(destroys[3]["kind"], "Deployment");
    EXPECT_EQ(destroys[3]["apiVersion"], "apps/v1");
  }
  EXPECT_TRUE(found) << p.dump(2);
  EXPECT_TRUE(p["warnings"].empty()) << p.dump(2);
}

TEST_F(PlanTextTest, AllowDestroyWarnsAboutDeletionProtection) {
  Edit("clusters/beta.yaml", "  cloud: c1\n", "  cloud: c1\n  deletionProtection: true\n");
  h_.repo().Commit("protect beta");
  ApplyOk();
  RetireBeta();
  const std::string warning =
      "warning: cluster beta has deletionProtection, so its cloud will refuse to delete it: declare it again with "
      "spec.deletionProtection: false, apply, then remove it\n";
  RunResult r = h_.WithRepo("plan", "--allow-destroy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(warning), std::string::npos) << r.out;
  json p = h_.Json(h_.WithRepo("plan", "--allow-destroy -o json"));
  EXPECT_NE(p["warnings"].dump().find("cluster beta has deletionProtection"), std::string::npos) << p.dump(2);
  // Without --allow-destroy nothing would be deleted, so there is nothing to warn about.
  EXPECT_EQ(h_.WithRepo("plan").out.find("deletionProtection"), std::string::npos);
  // apply warns the same way before the cloud refuses.
  RunResult apply = h_.WithRepo("apply", "--allow-destroy");
  EXPECT_EQ(apply.exit_code, 1);
  EXPECT_NE(apply.err.find(warning), std::string::npos) << apply.err;
}

}  // namespace
}  // namespace converge::testing
