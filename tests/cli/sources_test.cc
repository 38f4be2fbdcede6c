// Sources and ownership through the real binary: one source per repository however it is
// spelled, refs as a property of the source, one owner per object, and sources that place onto
// Clusters another source declares.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/cli/cli_harness.h"

namespace converge::testing {
namespace {

using json = nlohmann::json;

constexpr const char* kCloud = R"(apiVersion: converge.dev/v1alpha1
kind: Cloud
metadata:
  name: CLOUD
spec:
  provider: sim
  region: r1
  simulation: {clusterCreateSeconds: 0.2, podStartSeconds: 0.1, upgradeStepSeconds: 0.1, scaleSeconds: 0.1}
)";

std::string Cloud(const std::string& name) {
  std::string s = kCloud;
  s.replace(s.find("CLOUD"), 5, name);
  return s;
}

std::string Cluster(const std::string& name, const std::string& cloud, const std::string& tier) {
  return "apiVersion: converge.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: " + name + "\n  labels: {tier: " + tier +
         "}\nspec:\n  cloud: " + cloud +
         "\n  version: \"1.29\"\n  nodePools:\n    - {name: general, flavor: c7.xlarge.2, count: 1}\n";
}

std::string ConfigMap(const std::string& name, const std::string& placement, const std::string& value = "v") {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: default\n  annotations:\n    " +
         placement + "\ndata:\n  k: " + value + "\n";
}

int Count(const json& plan, const char* what) { return plan["summary"][what].get<int>(); }

class SourcesTest : public ::testing::Test {
 protected:
  // A second repository beside the harness's, at <harness dir>/<dir>/<name>.
  GitRepo NewRepo(const std::string& dir, const std::string& name = "fleet") {
    std::string path = h_.dir() + "/" + dir + "/" + name;
    std::filesystem::create_directories(path);
    return GitRepo::Init(path, "main");
  }

  json PlanJson(const std::string& cwd, const std::string& args, int want_exit) {
    RunResult r = h_.ConvergeIn(cwd, "plan --detailed-exitcode -o json " + args);
    EXPECT_EQ(r.exit_code, want_exit) << args << "\n" << r.out << r.err;
    return r.exit_code == 1 ? json() : h_.Json(r);
  }

  void ApplyOk(const std::string& cwd, const std::string& args) {
    RunResult r = h_.ConvergeIn(cwd, "apply --wait --timeout 60 " + args);
    ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.out << r.err;
  }

  FleetHarness h_;
};

TEST_F(SourcesTest, EverySpellingOfOneRepositoryIsOneSource) {
  h_.WriteStandardFleet();
  h_.repo().Commit("fleet");
  const std::string repos = h_.dir() + "/repos";
  const std::string abs = h_.repo().path();
  ApplyOk("", "--repo " + abs);
  // The quickstart's absolute path, then the README's relative "play with it" spellings.
  struct Spelling {
    std::string cwd, args;
  } spellings[] = {
      {repos, "--repo fleet"},           {repos, "--repo ./fleet/"},       {repos + "/fleet", "--repo ."},
      {"", "--repo file://" + abs},      {"", "--repo " + abs + "/"},      {"", "--repo " + abs + " --ref main"},
      {"", "--repo " + abs + "/.git"},   {"", "--repo " + abs + " --path ."}, {"", "--repo " + abs + " --path ./"},
  };
  for (const Spelling& s : spellings) {
    json p = PlanJson(s.cwd, s.args, 0);
    EXPECT_TRUE(p["actions"].empty()) << s.args << " is the applied source: nothing to do\n" << p.dump(2);
  }
  ApplyOk(repos, "--repo ./fleet --ref main");
  RunResult status = h_.Converge("status -o json");
  ASSERT_EQ(status.exit_code, 0) << status.err;
  json st = h_.Json(status);
  ASSERT_EQ(st["sources"].size(), 1u) << st.dump(2);
  const std::string canonical = std::filesystem::canonical(abs).string();
  EXPECT_EQ(st["sources"][0]["source"], "file://" + canonical + " @ main") << "the normalized URL, with its ref";
  EXPECT_EQ(st["objects"].size(), 10u);
}

TEST_F(SourcesTest, TheSameWordInAnotherDirectoryIsAnotherRepository) {
  h_.WriteStandardFleet();
  h_.repo().Commit("fleet");
  GitRepo other = NewRepo("elsewhere");
  other.WriteFile("cloud.yaml", Cloud("c2"));
  other.WriteFile("cluster.yaml", Cluster("gamma", "c2", "prod"));
  other.WriteFile("cm.yaml", ConfigMap("only-here", "converge.dev/clusters: gamma"));
  other.Commit("other fleet");
  ApplyOk(h_.dir() + "/repos", "--repo fleet");
  json p = PlanJson(h_.dir() + "/elsewhere", "--repo fleet", 2);
  EXPECT_EQ(Count(p, "delete"), 0) << "the first repository's objects are not this one's to delete\n" << p.dump(2);
  EXPECT_EQ(Count(p, "create"), 2) << p.dump(2);
}

TEST_F(SourcesTest, SwitchingRefsPlansItsCreatesAndDeletes) {
  h_.WriteStandardFleet();
  h_.repo().Commit("fleet");
  const std::string abs = h_.repo().path();
  ApplyOk("", "--repo " + abs + " --ref main");
  h_.repo().Git("checkout -q -b slim");
  h_.repo().RemoveFile("apps/api.yaml");
  h_.repo().WriteFile("apps/extra.yaml", ConfigMap("extra", "converge.dev/clusters: beta"));
  h_.repo().Commit("slim");
  h_.repo().Git("checkout -q main");

  json p = PlanJson("", "--repo " + abs + " --ref slim", 2);
  EXPECT_EQ(Count(p, "create"), 1) << p.dump(2);
  EXPECT_EQ(Count(p, "delete"), 2) << "api's Namespace and Deployment go with the ref\n" << p.dump(2);
  ApplyOk("", "--repo " + abs + " --ref slim");
  json again = PlanJson("", "--repo " + abs + " --ref slim", 0);
  EXPECT_TRUE(again["actions"].empty()) << again.dump(2);
  json st = h_.Json(h_.Converge("status -o json"));
  ASSERT_EQ(st["sources"].size(), 1u) << st.dump(2);
  EXPECT_NE(st["sources"][0]["source"].get<std::string>().find(" @ slim"), std::string::npos) << st.dump(2);
}

TEST_F(SourcesTest, AnObjectAnotherSourceOwnsIsRefusedAndNothingIsApplied) {
  h_.WriteStandardFleet();
  h_.repo().Commit("fleet");
  ApplyOk("", "--repo " + h_.repo().path());
  auto version_of_web_config = [&] {
    json list = h_.Json(h_.Converge("sim list -o json"));
    for (const auto& o : list["objects"])
      if (o["cluster"] == "alpha" && o["name"] == "web-config") return o["resourceVersion"].get<std::string>();
    return std::string("missing");
  };
  const std::string before = version_of_web_config();
  GitRepo other = NewRepo("apps");
  other.WriteFile("mine.yaml", ConfigMap("mine", "converge.dev/clusters: beta"));
  other.WriteFile("theirs.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: web\n"
                                 "  annotations:\n    converge.dev/clusters: alpha\ndata:\n  greeting: overwritten\n");
  other.Commit("apps");
  for (const char* cmd : {"plan", "apply"}) {
    RunResult r = h_.Converge(std::string(cmd) + " --repo " + other.path());
    EXPECT_EQ(r.exit_code, 1) << cmd << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find("theirs.yaml:1: alpha: ConfigMap/web/web-config is managed by source 1 (file://"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("nothing was applied"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("mine"), std::string::npos) << "objects nobody else owns are not listed: " << r.err;
  }
  bool saw_mine = false;
  json list = h_.Json(h_.Converge("sim list -o json"));
  for (const auto& o : list["objects"]) saw_mine |= o["name"] == "mine";
  EXPECT_FALSE(saw_mine) << "nothing of the refused sync was applied";
  EXPECT_EQ(version_of_web_config(), before) << "the owner's object was not overwritten";
  json st = h_.Json(h_.Converge("status -o json"));
  EXPECT_EQ(st["objects"].size(), 10u) << st.dump(2);

  // Clouds and Clusters have one owner too.
  GitRepo clouds = NewRepo("clouds");
  clouds.WriteFile("cloud.yaml", Cloud("c1"));
  clouds.Commit("c1 again");
  RunResult r = h_.Converge("plan --repo " + clouds.path());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("cloud.yaml:1: Cloud c1 is managed by source 1"), std::string::npos) << r.err;
}

TEST_F(SourcesTest, AnApplicationSourcePlacesOntoClustersAnotherSourceDeclares) {
  GitRepo infra = NewRepo("infra");
  infra.WriteFile("cloud.yaml", Cloud("c1"));
  infra.WriteFile("alpha.yaml", Cluster("alpha", "c1", "prod"));
  infra.WriteFile("beta.yaml", Cluster("beta", "c1", "dev"));
  infra.Commit("infra");
  ApplyOk("", "--repo " + infra.path());

  GitRepo apps = NewRepo("apps");
  apps.WriteFile("shared.yaml", ConfigMap("shared", "converge.dev/cluster-selector: tier=prod"));
  apps.WriteFile("dev.yaml", ConfigMap("dev-only", "converge.dev/clusters: beta"));
  apps.Commit("apps");
  RunResult valid = h_.Converge("validate --repo " + apps.path());
  EXPECT_EQ(valid.exit_code, 0) << "the fleet's Clusters count for validate too\n" << valid.out << valid.err;
  json p = PlanJson("", "--repo " + apps.path(), 2);
  EXPECT_EQ(Count(p, "create"), 2) << p.dump(2);
  for (const auto& a : p["actions"]) EXPECT_NE(a["kind"], "Cluster") << "the Clusters are the infra source's";
  ApplyOk("", "--repo " + apps.path());
  json noop = PlanJson("", "--repo " + apps.path(), 0);
  EXPECT_TRUE(noop["actions"].empty()) << noop.dump(2);
  // The infra source still sees its Clusters as its own and unchanged.
  json infra_plan = PlanJson("", "--repo " + infra.path(), 0);
  EXPECT_TRUE(infra_plan["actions"].empty()) << infra_plan.dump(2);

  // The infra source moves the prod label: the application follows, though its commit is the same.
  infra.WriteFile("alpha.yaml", Cluster("alpha", "c1", "staging"));
  infra.WriteFile("beta.yaml", Cluster("beta", "c1", "prod"));
  infra.Commit("relabel");
  ApplyOk("", "--repo " + infra.path());
  json moved = PlanJson("", "--repo " + apps.path(), 2);
  EXPECT_EQ(Count(moved, "create"), 1) << moved.dump(2);
  EXPECT_EQ(Count(moved, "delete"), 1) << moved.dump(2);

  // A cluster no source declares is still an error.
  apps.WriteFile("typo.yaml", ConfigMap("typo", "converge.dev/clusters: gamma"));
  apps.Commit("typo");
  RunResult r = h_.Converge("plan --repo " + apps.path());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("names cluster \"gamma\", which no source declares (known clusters: alpha, beta)"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace converge::testing
