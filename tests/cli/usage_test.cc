// The command line as users expect it, through the real binary: every command's --help lists the
// global options, an unknown command is named with "did you mean", values out of range get one
// line naming the flag and the range (exit 1, nothing applied), and --wait says what apply waits
// for without it. The suggestions themselves are a table test of engine/cli/suggest.h.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/cli/suggest.h"
#include "tests/cli/cli_harness.h"

namespace converge::testing {
namespace {

using nlohmann::json;

int Lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

struct SuggestCase {
  const char* typed;
  std::vector<std::string> want;
};

TEST(SuggestTest, ClosestCommandsLikeGit) {
  const std::vector<std::string> commands = {"validate", "plan", "apply", "status", "history", "sim"};
  const SuggestCase cases[] = {
      {"plann", {"plan"}},      {"aply", {"apply"}},     {"stauts", {"status"}},    {"valdiate", {"validate"}},
      {"Plan", {"plan"}},       {"hist", {"history"}},   {"sta", {"status"}},       {"si", {"sim"}},
      {"plam", {"plan"}},       {"xyz", {}},             {"s", {}},                 {"deploy", {}},
      {"histroy", {"history"}}, {"sin", {"sim"}},
  };
  for (const SuggestCase& c : cases) EXPECT_EQ(SimilarWords(c.typed, commands), c.want) << c.typed;
  EXPECT_EQ(SimilarWords("pan", {"plan", "pain"}), (std::vector<std::string>{"plan", "pain"}));
  EXPECT_EQ(EditDistance("plna", "plan"), 1);  // a swap of neighbours is one edit
  EXPECT_EQ(EditDistance("", "sim"), 3);
}

class UsageTest : public ::testing::Test {
 protected:
  FleetHarness h_;
};

TEST_F(UsageTest, EveryCommandsHelpListsTheGlobalOptions) {
  for (const char* cmd : {"validate", "plan", "apply", "status", "history", "sim", "sim list", "sim patch",
                          "sim delete", "sim fault", "sim heal"}) {
    RunResult r = h_.Converge(std::string(cmd) + " --help");
    ASSERT_EQ(r.exit_code, 0) << cmd << "\n" << r.err;
    EXPECT_NE(r.out.find("Global options"), std::string::npos) << cmd << "\n" << r.out;
    for (const char* opt : {"-o,--output", "--state-dir", "-v,--verbose"}) {
      EXPECT_NE(r.out.find(opt), std::string::npos) << cmd << ": no " << opt << " in\n" << r.out;
    }
  }
}

TEST_F(UsageTest, UnknownCommandSaysSoWithDidYouMean) {
  struct {
    const char* args;
    const char* want;
  } cases[] = {
      {"plann", "error: unknown command \"plann\": did you mean \"plan\"?"},
      {"-v -v plann", "error: unknown command \"plann\": did you mean \"plan\"?"},
      {"--state-dir /tmp stauts", "error: unknown command \"stauts\": did you mean \"status\"?"},
      {"sim lst", "error: unknown command \"sim lst\": did you mean \"sim list\"?"},
      {"deploy --repo x", "error: unknown command \"deploy\": the commands are validate, plan, apply, status, history, sim"},
  };
  for (const auto& c : cases) {
    RunResult r = h_.Converge(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args;
    EXPECT_EQ(r.err.rfind(c.want, 0), 0u) << c.args << ":\n" << r.err;
    EXPECT_EQ(Lines(r.err), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  // Options and their values before and after a command are not taken for commands.
  EXPECT_EQ(h_.Converge("-v -o json history -v --limit 5").exit_code, 0);
  RunResult j = h_.Converge("aply -o json");
  EXPECT_EQ(j.exit_code, 1);
  json doc = h_.Json(j);
  EXPECT_EQ(doc["code"], "usage");
  EXPECT_NE(doc["error"].get<std::string>().find("did you mean \"apply\"?"), std::string::npos) << doc.dump();
}

TEST_F(UsageTest, OutOfRangeValuesNameTheFlagAndTheRange) {
  h_.WriteStandardFleet();
  struct {
    const char* cmd;
    const char* extra;
    const char* want;
  } cases[] = {
      {"apply", "--timeout 0", "error: --timeout: must be a number greater than 0 and at most 86400 seconds, got \"0\""},
      {"apply", "--timeout -5", "error: --timeout: must be a number greater than 0 and at most 86400 seconds, got \"-5\""},
      {"apply", "--timeout 1e300", "error: --timeout: must be a number greater than 0 and at most 86400 seconds"},
      {"apply", "--timeout soon", "error: --timeout: must be a number greater than 0 and at most 86400 seconds"},
      {"apply", "--parallelism 0", "error: --parallelism: must be a whole number from 1 to 256, got \"0\""},
      {"apply", "--cluster-parallelism 1.5", "error: --cluster-parallelism: must be a whole number from 1 to 64"},
  };
  for (const auto& c : cases) {
    RunResult r = h_.WithRepo(c.cmd, c.extra);
    EXPECT_EQ(r.exit_code, 1) << c.extra;
    EXPECT_EQ(r.err.rfind(c.want, 0), 0u) << c.extra << ":\n" << r.err;
    EXPECT_NE(r.err.find("converge apply --help"), std::string::npos) << r.err;
    EXPECT_EQ(Lines(r.err), 1) << r.err;
  }
  for (const char* limit : {"-1", "0", "2.5", "many"}) {
    RunResult r = h_.Converge(std::string("history --limit ") + limit);
    EXPECT_EQ(r.exit_code, 1) << limit << "\n" << r.out;
    EXPECT_EQ(r.err.rfind(std::string("error: --limit: must be a whole number from 1 to 1000000, got \"") + limit + "\"",
                          0),
              0u)
        << r.err;
    EXPECT_EQ(Lines(r.err), 1) << r.err;
  }
  // Nothing was applied by any of them.
  json list = h_.Json(h_.Converge("sim list -o json"));
  EXPECT_TRUE(list["clusters"].empty()) << list.dump();
  EXPECT_TRUE(h_.Json(h_.Converge("history -o json"))["runs"].empty());
}

TEST_F(UsageTest, WaitHelpSaysWhatApplyWaitsForWithoutIt) {
  RunResult r = h_.Converge("apply --help");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string help = r.out;
  for (const char* part : {"Without it, apply still waits for cluster operations (create, scale, upgrade, delete) to finish",
                           "for a cluster to be Running before applying objects to it",
                           "for each sync wave to be Healthy before the next starts",
                           "it does not wait for the last wave's objects to become Healthy"}) {
    EXPECT_NE(help.find(part), std::string::npos) << part << "\n" << help;
  }
}

// What the --wait help promises of an apply without --wait: it waits for the clusters to be
// Running and for an earlier sync wave to be Healthy, not for the last wave. A Deployment whose
// pods fit on no node stays Progressing, so it tells which waits happened.
TEST_F(UsageTest, ApplyWithoutWaitWaitsForClustersAndEarlierWavesOnly) {
  h_.WriteStandardFleet();
  h_.repo().WriteFile("apps/big.yaml", R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: big
  namespace: web
  annotations:
    converge.dev/clusters: alpha
spec:
  replicas: 1
  selector:
    matchLabels: {app: big}
  template:
    metadata:
      labels: {app: big}
    spec:
      containers:
        - name: big
          image: nginx:1.25
          resources:
            requests: {cpu: "500"}
)");
  h_.repo().Commit("a deployment that never becomes healthy");
  RunResult r = h_.WithRepo("apply", "--timeout 60");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;  // the last wave is not waited for
  json s = h_.Json(h_.Converge("status -o json"));
  ASSERT_EQ(s["clusters"].size(), 2u);
  for (const auto& c : s["clusters"]) EXPECT_EQ(c["phase"], "Running") << c.dump();
  bool seen = false;
  for (const auto& o : s["objects"]) {
    if (o["name"] != "big") continue;
    seen = true;
    EXPECT_EQ(o["health"], "Progressing") << o.dump();
  }
  EXPECT_TRUE(seen) << s.dump(2);

  // Changed again with a later wave beside it: the later wave waits for it, and times out.
  std::string big = h_.repo().ReadFile("apps/big.yaml");
  big.replace(big.find("replicas: 1"), 11, "replicas: 2");
  h_.repo().WriteFile("apps/big.yaml", big);
  h_.repo().WriteFile("apps/late.yaml",
                      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: late\n  namespace: web\n  annotations:\n"
                      "    converge.dev/clusters: alpha\n    converge.dev/sync-wave: \"1\"\n");
  h_.repo().Commit("a second wave");
  RunResult late = h_.WithRepo("apply", "--timeout 0.1");
  EXPECT_EQ(late.exit_code, 1) << late.out << late.err;
  EXPECT_NE(late.err.find("waiting for sync wave 0 on cluster alpha to be healthy"), std::string::npos) << late.err;
  EXPECT_NE(late.err.find("skipped alpha: ConfigMap/web/late"), std::string::npos) << late.err;
}

}  // namespace
}  // namespace converge::testing
