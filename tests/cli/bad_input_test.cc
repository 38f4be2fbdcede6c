// Bad input through the real binary: each case exits 1 with an error that names the file, line,
// field or object, and applies nothing (the simulated fleet stays empty, no sync run succeeds).
#include <gtest/gtest.h>

#include <sqlite3.h>

#include "tests/cli/cli_harness.h"

namespace converge::testing {
namespace {

using nlohmann::json;

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override { h_.WriteStandardFleet(); }

  // Commits `content` at `path`, runs apply, and checks the error and that nothing was applied.
  void ExpectRejected(const std::string& path, const std::string& content, const std::vector<std::string>& needles) {
    h_.repo().WriteFile(path, content);
    h_.repo().Commit("bad input");
    for (const char* cmd : {"validate", "plan", "apply"}) {
      RunResult r = h_.WithRepo(cmd);
      EXPECT_EQ(r.exit_code, 1) << cmd << "\n" << r.out << r.err;
      for (const auto& n : needles) EXPECT_NE(r.err.find(n), std::string::npos) << cmd << ": no \"" << n << "\" in:\n" << r.err;
    }
    ExpectNothingApplied();
  }

  void ExpectNothingApplied() {
    json list = h_.Json(h_.Converge("sim list -o json"));
    EXPECT_TRUE(list["clusters"].empty()) << list.dump();
    EXPECT_TRUE(list["objects"].empty()) << list.dump();
    json hist = h_.Json(h_.Converge("history -o json"));
    for (const auto& r : hist["runs"]) EXPECT_NE(r["result"], "succeeded");
  }

  FleetHarness h_;
};

TEST_F(BadInputTest, MalformedYaml) {
  ExpectRejected("apps/broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n",
                 {"apps/broken.yaml:"});
}

TEST_F(BadInputTest, ClusterWithUnknownField) {
  ExpectRejected("clusters/gamma.yaml",
                 "apiVersion: converge.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: gamma\nspec:\n  cloud: c1\n"
                 "  version: \"1.29\"\n  nodePool:\n    - name: p\n      flavor: c7.large.2\n",
                 {"clusters/gamma.yaml:8", "spec.nodePool"});
}

TEST_F(BadInputTest, ClusterWithWrongType) {
  ExpectRejected("clusters/gamma.yaml",
                 "apiVersion: converge.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: gamma\nspec:\n  cloud: c1\n"
                 "  version: \"1.29\"\n  nodePools:\n    - name: p\n      flavor: c7.large.2\n      count: three\n",
                 {"clusters/gamma.yaml:11", "count"});
}

TEST_F(BadInputTest, ManifestWithoutName) {
  ExpectRejected("apps/noname.yaml",
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: web\n  annotations:\n"
                 "    converge.dev/clusters: alpha\n",
                 {"apps/noname.yaml:", "metadata.name"});
}

TEST_F(BadInputTest, DuplicateIdentityNamesBothFiles) {
  ExpectRejected("apps/again.yaml",
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: web\n",
                 {"apps/again.yaml", "apps/web.yaml", "ConfigMap"});
}

TEST_F(BadInputTest, ManifestAimedAtMissingCluster) {
  ExpectRejected("apps/stray.yaml",
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stray\n  namespace: web\n  annotations:\n"
                 "    converge.dev/clusters: gamma\n",
                 {"apps/stray.yaml:1", "gamma"});
}

TEST_F(BadInputTest, UnknownRef) {
  RunResult r = h_.WithRepo("apply", "--ref no-such-branch");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no-such-branch"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(h_.url()), std::string::npos) << r.err;
  ExpectNothingApplied();
}

TEST_F(BadInputTest, UnreachableRepo) {
  RunResult r = h_.Converge("apply --repo git://127.0.0.1:9/fleet --ref main");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("git://127.0.0.1:9/fleet"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("main"), std::string::npos) << r.err;
  ExpectNothingApplied();
}

TEST_F(BadInputTest, StoreFromNewerSchemaIsRefusedAndKept) {
  ASSERT_EQ(h_.Converge("history").exit_code, 0);  // creates the store
  std::string db = h_.state_dir() + "/converge.db";
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &handle), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(handle, "UPDATE meta SET value='99' WHERE key='schema_version'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(handle);
  RunResult r = h_.WithRepo("apply");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("newer converge"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(db), std::string::npos) << r.err;
  RunResult again = h_.Converge("status");
  EXPECT_EQ(again.exit_code, 1);  // still refused: nothing reset it
}

TEST_F(BadInputTest, CredentialsNeverReachOutputOrStore) {
  setenv("CONVERGE_TEST_TOKEN", "s3cr3t-t0ken-value", 1);
  int port = UnusedLocalPort();
  std::string url = "http://robot:pa55w0rd@127.0.0.1:" + std::to_string(port) + "/fleet.git";
  for (const char* cmd : {"validate", "plan", "apply"}) {
    RunResult r = h_.Converge(std::string(cmd) + " --repo " + url + " --token-env CONVERGE_TEST_TOKEN -v -v");
    EXPECT_EQ(r.exit_code, 1) << cmd;
    EXPECT_EQ(r.out.find("s3cr3t"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find("s3cr3t"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("pa55w0rd"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.err;
  }
  unsetenv("CONVERGE_TEST_TOKEN");
  int code = 0;
  std::string grep = RunCommand("grep -r -l -a -e s3cr3t -e pa55w0rd " + h_.state_dir(), &code);
  EXPECT_NE(code, 0) << "a secret was written to the state dir: " << grep;
}

TEST_F(BadInputTest, UnknownFlagIsAUsageError) {
  RunResult r = h_.Converge("plan --bogus");
  EXPECT_EQ(r.exit_code, 1);
  RunResult j = h_.Converge("plan --bogus -o json");
  EXPECT_EQ(j.exit_code, 1);
  EXPECT_TRUE(h_.Json(j).contains("error")) << j.out;
}

}  // namespace
}  // namespace converge::testing

namespace converge::testing {
namespace {

class MoreBadInputTest : public BadInputTest {};

TEST_F(MoreBadInputTest, InvalidUtf8) {
  ExpectRejected("apps/latin1.yaml",
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: latin1\n  namespace: web\n  annotations:\n"
                 "    converge.dev/clusters: alpha\ndata:\n  city: \"K\xf6ln\"\n",
                 {"apps/latin1.yaml:", "UTF-8"});
}

TEST_F(MoreBadInputTest, BadSyncWave) {
  ExpectRejected("apps/wave.yaml",
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wave\n  namespace: web\n  annotations:\n"
                 "    converge.dev/clusters: alpha\n    converge.dev/sync-wave: soon\n",
                 {"apps/wave.yaml", "sync-wave"});
}

TEST_F(MoreBadInputTest, DependencyCycle) {
  ExpectRejected("apps/cycle.yaml",
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: web\n  annotations:\n"
                 "    converge.dev/clusters: alpha\n    converge.dev/depends-on: ConfigMap/b\n---\n"
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: web\n  annotations:\n"
                 "    converge.dev/clusters: alpha\n    converge.dev/depends-on: ConfigMap/a\n",
                 {"dependency cycle", "ConfigMap/web/a", "ConfigMap/web/b"});
}

TEST_F(MoreBadInputTest, DependsOnAnObjectThatDoesNotExist) {
  ExpectRejected("apps/dep.yaml",
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: web\n  annotations:\n"
                 "    converge.dev/clusters: alpha\n    converge.dev/depends-on: ConfigMap/web/typo\n",
                 {"apps/dep.yaml:1: alpha: ConfigMap/web/a: annotation converge.dev/depends-on names ConfigMap/web/typo, "
                  "which is not declared for cluster alpha"});
}

TEST_F(MoreBadInputTest, TabIndentation) {
  ExpectRejected("apps/tab.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tabbed\n",
                 {"apps/tab.yaml:4:1: a tab is used for indentation"});
}

}  // namespace
}  // namespace converge::testing

namespace converge::testing {
namespace {

TEST_F(MoreBadInputTest, ImpossibleNodePool) {
  ExpectRejected("clusters/gamma.yaml",
                 "apiVersion: converge.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: gamma\nspec:\n  cloud: c1\n"
                 "  version: \"1.29\"\n  nodePools:\n    - name: p\n      flavor: c7.large.2\n      count: 100000000\n",
                 {"clusters/gamma.yaml:11", "count", "2000"});
}

}  // namespace
}  // namespace converge::testing

namespace converge::testing {
namespace {

// A Cloud's provider checks its own fields (the sim: `simulation` and the credential keys); the
// binary reports them with file:line:col like the engine's own checks, and applies nothing.
class ProviderBadInputTest : public BadInputTest {
 protected:
  static std::string Cloud(const std::string& tail) {
    return "apiVersion: converge.dev/v1alpha1\nkind: Cloud\nmetadata:\n  name: c1\nspec:\n  provider: sim\n"
           "  region: r1\n" +
           tail;
  }
};

TEST_F(ProviderBadInputTest, BadSimulationField) {
  ExpectRejected("clouds.yaml", Cloud("  simulation:\n    clusterCreateSeconds: 0.3\n    podStartSeconds: fast\n"),
                 {"clouds.yaml:10:5: Cloud \"c1\": spec.simulation.podStartSeconds must be a number, got string "
                  "\"fast\""});
}

TEST_F(ProviderBadInputTest, UnknownCredentialKeyNeverEchoesTheValue) {
  ExpectRejected("clouds.yaml", Cloud("  credentials:\n    accessKey: AKIAEXAMPLEVALUE\n"),
                 {"clouds.yaml:9:5: Cloud \"c1\": unknown field spec.credentials.accessKey (did you mean "
                  "spec.credentials.accessKeyEnv?)"});
  RunResult r = h_.WithRepo("plan");
  EXPECT_EQ(r.err.find("AKIAEXAMPLEVALUE"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("AKIAEXAMPLEVALUE"), std::string::npos) << r.out;
}

TEST_F(ProviderBadInputTest, UnknownProvider) {
  ExpectRejected("clouds.yaml",
                 "apiVersion: converge.dev/v1alpha1\nkind: Cloud\nmetadata:\n  name: c1\nspec:\n  region: r1\n"
                 "  provider: aws\n",
                 {"clouds.yaml:7:3: Cloud \"c1\": unknown provider \"aws\" (known: sim)"});
}

}  // namespace
}  // namespace converge::testing
