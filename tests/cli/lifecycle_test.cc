// Cluster lifecycle, faults and crashes through the real binary: node pool scale and version
// upgrade from Git, deletion protection and --allow-destroy, an outage isolating one cluster,
// kill -9 and SIGTERM in the middle of an apply, and a second apply while one runs. Mid-apply
// moments are found by reading the running apply's progress from a pipe, never by sleeping.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "tests/cli/cli_harness.h"

namespace converge::testing {
namespace {

using nlohmann::json;

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.WriteStandardFleet();
    RunResult r = h_.WithRepo("apply", "--wait --timeout 60");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  json ClusterStatus(const std::string& name) {
    json s = h_.Json(h_.Converge("status -o json"));
    for (const auto& c : s["clusters"])
      if (c["name"] == name) return c;
    return nullptr;
  }

  void Edit(const std::string& path, const std::string& from, const std::string& to) {
    std::string text = h_.repo().ReadFile(path);
    size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    h_.repo().WriteFile(path, text);
    h_.repo().Commit("edit " + path);
  }

  // Removes cluster beta from Git, and retargets web (everything else on beta) to prod only.
  void RetireBeta() {
    h_.repo().RemoveFile("clusters/beta.yaml");
    std::string web = h_.repo().ReadFile("apps/web.yaml");
    for (size_t at; (at = web.find("cluster-selector: tier\n")) != std::string::npos;)
      web.replace(at, 22, "cluster-selector: tier=prod\n");
    h_.repo().WriteFile("apps/web.yaml", web);
    h_.repo().Commit("retire beta");
  }

  // Writes 20 ConfigMaps for both clusters and slows every API call, so that an apply of them is
  // surely in flight when the test acts.
  void ManyObjectsSlowly() {
    for (int i = 0; i < 20; i++) {
      h_.repo().WriteFile("apps/many-" + std::to_string(i) + ".yaml",
                          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: many-" + std::to_string(i) +
                              "\n  namespace: web\n  annotations:\n    converge.dev/clusters: alpha,beta\ndata:\n  i: \"" +
                              std::to_string(i) + "\"\n");
    }
    h_.repo().Commit("many");
    ASSERT_EQ(h_.Converge("sim fault alpha latency=100").exit_code, 0);
    ASSERT_EQ(h_.Converge("sim fault beta latency=100").exit_code, 0);
  }

  // An apply in the background whose progress (stderr) the test reads line by line.
  struct Background {
    pid_t pid = -1;
    FILE* err = nullptr;
    std::string seen;  // every line read so far
    // Reads progress until a line contains `text`; false at EOF (the apply ended first).
    bool WaitFor(const std::string& text) {
      char buf[4096];
      while (fgets(buf, sizeof buf, err) != nullptr) {
        seen += buf;
        if (std::string(buf).find(text) != std::string::npos) return true;
      }
      return false;
    }
    // Reads the rest of the output and reaps the process; returns its wait status.
    int Finish() {
      char buf[4096];
      while (fgets(buf, sizeof buf, err) != nullptr) seen += buf;
      fclose(err);
      int status = 0;
      waitpid(pid, &status, 0);
      return status;
    }
  };

  Background StartApply() {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    Background b;
    b.pid = fork();
    if (b.pid == 0) {
      close(fds[0]);
      dup2(fds[1], STDERR_FILENO);
      if (FILE* null = fopen("/dev/null", "w")) dup2(fileno(null), STDOUT_FILENO);
      std::string state = h_.state_dir();
      std::string url = h_.url();
      execl(CONVERGE_BINARY, CONVERGE_BINARY, "--state-dir", state.c_str(), "apply", "--repo", url.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    b.err = fdopen(fds[0], "r");
    return b;
  }

  void StopMidApplyRecordsTheRunReleasesTheLeaseAndExitsOne(int signo, const std::string& name);

  FleetHarness h_;
};

TEST_F(LifecycleTest, NodePoolScaleAndUpgradeFromGit) {
  Edit("clusters/alpha.yaml", "count: 2", "count: 3");
  Edit("clusters/alpha.yaml", "version: \"1.29\"", "version: \"1.30\"");
  json plan = h_.Json(h_.WithRepo("plan", "-o json"));
  ASSERT_EQ(plan["actions"].size(), 1u) << plan.dump(2);
  EXPECT_EQ(plan["actions"][0]["action"], "update");
  EXPECT_EQ(plan["actions"][0]["kind"], "Cluster");
  EXPECT_EQ(plan["actions"][0]["name"], "alpha");
  std::string diff = plan["actions"][0]["diff"];
  EXPECT_NE(diff.find("+  - count: 3"), std::string::npos) << diff;
  EXPECT_NE(diff.find("+  version: \"1.30\""), std::string::npos) << diff;

  RunResult r = h_.WithRepo("apply", "--wait --timeout 60");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json alpha = ClusterStatus("alpha");
  EXPECT_EQ(alpha["phase"], "Running") << alpha.dump();
  EXPECT_EQ(alpha["version"], "1.30");
  EXPECT_EQ(alpha["nodes"], 3);
  EXPECT_EQ(h_.WithRepo("plan", "--detailed-exitcode").exit_code, 0);
}

TEST_F(LifecycleTest, ClusterRemovedFromGitIsKeptWithoutAllowDestroy) {
  RetireBeta();

  RunResult plan = h_.WithRepo("plan", "-o json");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  json p = h_.Json(plan);
  for (const auto& a : p["actions"]) EXPECT_NE(a["kind"], "Cluster") << a.dump();
  EXPECT_NE(p["warnings"].dump().find("allow-destroy"), std::string::npos) << p.dump(2);

  ASSERT_EQ(h_.WithRepo("apply").exit_code, 0);
  EXPECT_EQ(ClusterStatus("beta")["phase"], "Running");

  RunResult destroy = h_.WithRepo("apply", "--allow-destroy -o json");
  ASSERT_EQ(destroy.exit_code, 0) << destroy.err;
  json list = h_.Json(h_.Converge("sim list -o json"));
  for (const auto& c : list["clusters"]) EXPECT_NE(c["name"], "beta");
  EXPECT_EQ(h_.WithRepo("plan", "--detailed-exitcode --allow-destroy").exit_code, 0);
}

TEST_F(LifecycleTest, KeptClusterKeepsItsWorkloads) {
  // An accidental removal (or a rename) of a Cluster file must not wipe the cluster's apps.
  h_.repo().RemoveFile("clusters/beta.yaml");
  h_.repo().Commit("oops");
  RunResult r = h_.WithRepo("apply", "-o json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json applied = h_.Json(r);
  for (const auto& a : applied["actions"]) EXPECT_NE(a["cluster"], "beta") << a.dump();
  json list = h_.Json(h_.Converge("sim list -o json"));
  int beta_objects = 0;
  for (const auto& o : list["objects"])
    if (o["cluster"] == "beta" && o["kind"] != "Pod") beta_objects++;
  EXPECT_EQ(beta_objects, 4);  // web's Namespace, ConfigMap, Deployment and Service
}

TEST_F(LifecycleTest, DriftThatGitAdoptsIsRecorded) {
  // Someone scales by hand; Git then agrees. Nothing to apply, but converge must now own replicas=5,
  // or a later no-op plan would "correct" it back to the old value.
  ASSERT_EQ(h_.Converge("sim patch alpha deployment web/web '{\"spec\":{\"replicas\":5}}'").exit_code, 0);
  std::string web = h_.repo().ReadFile("apps/web.yaml");
  web.replace(web.find("replicas: 2"), 11, "replicas: 5");
  h_.repo().WriteFile("apps/web.yaml", web);
  h_.repo().Commit("adopt 5");
  RunResult r = h_.WithRepo("apply", "--wait --timeout 60 -o json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json plan = h_.Json(h_.WithRepo("plan", "--detailed-exitcode -o json"));
  EXPECT_TRUE(plan["actions"].empty()) << plan.dump(2);
  RunResult again = h_.WithRepo("plan", "--detailed-exitcode");
  EXPECT_EQ(again.exit_code, 0) << again.out;
}

TEST_F(LifecycleTest, DestroyInterruptedByAFailureLeavesNoOrphans) {
  h_.repo().RemoveFile("clusters/beta.yaml");
  h_.repo().Commit("retire beta");
  ASSERT_EQ(h_.Converge("sim fault alpha outage").exit_code, 0);
  EXPECT_EQ(h_.WithRepo("apply", "--allow-destroy").exit_code, 1);
  ASSERT_EQ(h_.Converge("sim heal alpha").exit_code, 0);
  RunResult r = h_.WithRepo("apply", "--allow-destroy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json status = h_.Json(h_.Converge("status -o json"));
  for (const auto& o : status["objects"]) EXPECT_NE(o["cluster"], "beta") << o.dump();
  RunResult plan = h_.WithRepo("plan", "--detailed-exitcode --allow-destroy");
  EXPECT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_EQ(plan.err.find("warning"), std::string::npos) << plan.err;
}

TEST_F(LifecycleTest, DeletionProtectionRefusesDestroy) {
  Edit("clusters/beta.yaml", "  cloud: c1\n", "  cloud: c1\n  deletionProtection: true\n");
  ASSERT_EQ(h_.WithRepo("apply").exit_code, 0);
  RetireBeta();
  RunResult r = h_.WithRepo("apply", "--allow-destroy");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("deletionProtection"), std::string::npos) << r.err;
  EXPECT_EQ(ClusterStatus("beta")["phase"], "Running");
}

TEST_F(LifecycleTest, OutageIsolatesOneClusterUntilHealed) {
  std::string web = h_.repo().ReadFile("apps/web.yaml");
  web.replace(web.find("greeting: hello"), 15, "greeting: bonjour");
  h_.repo().WriteFile("apps/web.yaml", web);
  h_.repo().Commit("new greeting");
  ASSERT_EQ(h_.Converge("sim fault beta outage").exit_code, 0);
  RunResult partial = h_.WithRepo("plan", "--detailed-exitcode -o json");
  EXPECT_EQ(partial.exit_code, 1) << "an incomplete plan is neither 0 nor 2";
  json pj = h_.Json(partial);
  EXPECT_EQ(pj["unreachableClusters"], json::array({"beta"})) << pj.dump(2);
  ASSERT_EQ(pj["actions"].size(), 1u);
  EXPECT_EQ(pj["actions"][0]["cluster"], "alpha");

  RunResult r = h_.WithRepo("apply", "-o json");
  EXPECT_EQ(r.exit_code, 1);
  json j = h_.Json(r);
  EXPECT_NE(j["error"].get<std::string>().find("beta"), std::string::npos) << j.dump(2);
  int alpha_updated = 0;
  for (const auto& a : j["actions"]) {
    EXPECT_NE(a["cluster"], "beta") << a.dump();
    if (a["cluster"] == "alpha" && a["result"] == "succeeded") alpha_updated++;
  }
  EXPECT_EQ(alpha_updated, 1);
  json status = h_.Json(h_.Converge("status -o json"));
  for (const auto& o : status["objects"])
    if (o["cluster"] == "beta") {
      EXPECT_EQ(o["health"], "Unknown") << o.dump();
    }

  ASSERT_EQ(h_.Converge("sim heal beta").exit_code, 0);
  json plan = h_.Json(h_.WithRepo("plan", "-o json"));
  ASSERT_EQ(plan["actions"].size(), 1u) << plan.dump(2);
  EXPECT_EQ(plan["actions"][0]["cluster"], "beta");
  ASSERT_EQ(h_.WithRepo("apply").exit_code, 0);
  EXPECT_EQ(h_.WithRepo("plan", "--detailed-exitcode").exit_code, 0);
}

TEST_F(LifecycleTest, KillDashNineMidApplyThenNextApplyConverges) {
  ManyObjectsSlowly();
  Background apply = StartApply();
  ASSERT_TRUE(apply.WaitFor("ConfigMap/web/many-")) << "the apply ended first:\n" << apply.seen;
  kill(apply.pid, SIGKILL);
  int status = apply.Finish();
  ASSERT_TRUE(WIFSIGNALED(status)) << "the apply finished before it was killed:\n" << apply.seen;

  ASSERT_EQ(h_.Converge("sim heal alpha").exit_code, 0);
  ASSERT_EQ(h_.Converge("sim heal beta").exit_code, 0);
  RunResult again = h_.WithRepo("apply", "--wait --timeout 60");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(h_.WithRepo("plan", "--detailed-exitcode").exit_code, 0);
  json list = h_.Json(h_.Converge("sim list -o json"));
  int many = 0;
  for (const auto& o : list["objects"])
    if (o["name"].get<std::string>().rfind("many-", 0) == 0) many++;
  EXPECT_EQ(many, 40);
  json hist = h_.Json(h_.Converge("history -o json"));
  bool interrupted = false;
  for (const auto& r : hist["runs"]) interrupted |= r["result"] == "interrupted";
  EXPECT_TRUE(interrupted) << hist.dump(2);

  // And what the killed run created is pruned like anything else once Git drops it.
  for (int i = 0; i < 20; i++) h_.repo().RemoveFile("apps/many-" + std::to_string(i) + ".yaml");
  h_.repo().Commit("fewer");
  ASSERT_EQ(h_.WithRepo("apply").exit_code, 0);
  list = h_.Json(h_.Converge("sim list -o json"));
  for (const auto& o : list["objects"]) EXPECT_NE(o["name"].get<std::string>().rfind("many-", 0), 0u) << o.dump();
}

// SIGTERM or SIGINT mid-apply: no new step starts, the run row says interrupted (not running),
// the source's lease row is gone, and the process exits 1.
void LifecycleTest::StopMidApplyRecordsTheRunReleasesTheLeaseAndExitsOne(int signo, const std::string& name) {
  ManyObjectsSlowly();
  Background apply = StartApply();
  ASSERT_TRUE(apply.WaitFor("ConfigMap/web/many-")) << "the apply ended first:\n" << apply.seen;
  kill(apply.pid, signo);
  int status = apply.Finish();
  ASSERT_TRUE(WIFEXITED(status)) << apply.seen;
  EXPECT_EQ(WEXITSTATUS(status), 1) << apply.seen;
  EXPECT_NE(apply.seen.find("error: interrupted by " + name + ": interrupted: "), std::string::npos) << apply.seen;
  EXPECT_NE(apply.seen.find("were not started"), std::string::npos) << apply.seen;
  json hist = h_.Json(h_.Converge("history -o json"));
  ASSERT_FALSE(hist["runs"].empty());
  EXPECT_EQ(hist["runs"][0]["result"], "interrupted") << hist.dump(2);
  EXPECT_GT(hist["runs"][0]["created"].get<int>(), 0) << hist.dump(2);   // what ran is recorded
  EXPECT_LT(hist["runs"][0]["created"].get<int>(), 40) << hist.dump(2);  // and it stopped early
  // In the file itself: no run is left "running", and the lease was released.
  std::string db = ShellQuote(h_.state_dir() + "/converge.db");
  EXPECT_EQ(RunCommand("sqlite3 " + db + " \"SELECT count(*) FROM sync_runs WHERE result = 'running'\"", nullptr), "0\n");
  EXPECT_EQ(RunCommand("sqlite3 " + db + " \"SELECT result FROM sync_runs ORDER BY id DESC LIMIT 1\"", nullptr),
            "interrupted\n");
  EXPECT_EQ(RunCommand("sqlite3 " + db + " \"SELECT count(*) FROM leases\"", nullptr), "0\n");
  // The next apply finishes the job.
  ASSERT_EQ(h_.Converge("sim heal alpha").exit_code, 0);
  ASSERT_EQ(h_.Converge("sim heal beta").exit_code, 0);
  RunResult again = h_.WithRepo("apply");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(h_.WithRepo("plan", "--detailed-exitcode").exit_code, 0);
}

TEST_F(LifecycleTest, SigtermStopsStartingStepsRecordsTheRunAndExitsOne) {
  StopMidApplyRecordsTheRunReleasesTheLeaseAndExitsOne(SIGTERM, "SIGTERM");
}

TEST_F(LifecycleTest, SigintStopsStartingStepsRecordsTheRunAndExitsOne) {
  StopMidApplyRecordsTheRunReleasesTheLeaseAndExitsOne(SIGINT, "SIGINT");
}

TEST_F(LifecycleTest, ASecondApplyOfTheSameSourceIsRefusedWhileOneRuns) {
  ManyObjectsSlowly();
  Background apply = StartApply();
  ASSERT_TRUE(apply.WaitFor("ConfigMap/web/many-")) << "the apply ended first:\n" << apply.seen;
  RunResult second = h_.WithRepo("apply");
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("pid " + std::to_string(apply.pid)), std::string::npos) << second.err;
  // A plan meanwhile works (read-only).
  EXPECT_NE(h_.WithRepo("plan").exit_code, 1);
  kill(apply.pid, SIGTERM);
  apply.Finish();
}

}  // namespace
}  // namespace converge::testing
