// The fault wrapper around the real sim: it counts calls per method, fails a method after N calls
// (before or after the call took effect), and ends a forked child with _exit just after the sim
// applied an object, which the next process then finds.
#include "tests/testing/fault_provider.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "providers/sim/sim_provider.h"
#include "tests/providers/sim_world_fixture.h"

namespace converge::testing {
namespace {

class FaultProviderTest : public SimWorldTest {
 protected:
  void SetUp() override {
    SimWorldTest::SetUp();
    CreateRunning("a");
    faults_ = FaultInjector::Create();
    installed_ = std::make_unique<ScopedRegistration>(
        faults_->Install(registry_, NewSimCloudFactory(), NewSimConnectorFactory()));
    auto p = registry_.CreateCloud(SimCloud(), Context());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    wrapped_ = std::move(p).value();
  }

  std::unique_ptr<ClusterConnector> ConnectWrapped(const std::string& cluster) {
    auto c = ConnectToCluster(*wrapped_, registry_, Context(), cluster, {});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  std::shared_ptr<FaultInjector> faults_;
  ProviderRegistry registry_;
  std::unique_ptr<ScopedRegistration> installed_;
  std::unique_ptr<CloudProvider> wrapped_;
};

TEST_F(FaultProviderTest, CountsCallsPerMethod) {
  auto conn = ConnectWrapped("a");
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Apply(NamespaceObject("web"), {}).ok());
  ASSERT_TRUE(conn->Get(ObjectKey{"", "Namespace", "", "web"}, {}).ok());
  ASSERT_TRUE(conn->Get(ObjectKey{"", "Namespace", "", "web"}, {}).ok());
  (void)registry_.Cloud("sim")->ValidateConfig(Json::object());
  EXPECT_EQ(faults_->Count("Create"), 1);
  EXPECT_EQ(faults_->Count("Endpoint"), 1);
  EXPECT_EQ(faults_->Count("Connect"), 1);
  EXPECT_EQ(faults_->Count("Apply"), 1);
  EXPECT_EQ(faults_->Count("Get"), 2);
  EXPECT_EQ(faults_->Count("ValidateConfig"), 1);
  EXPECT_EQ(faults_->Count("Delete"), 0);
}

TEST_F(FaultProviderTest, FailsAfterNCallsBeforeTheCallRuns) {
  faults_->AddRule(FaultRule{"Apply", 2, 1, Status::Unavailable("injected 503")});
  auto conn = ConnectWrapped("a");
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Apply(NamespaceObject("web"), {}).ok());
  ASSERT_TRUE(conn->Apply(ConfigMapObject("web", "one"), {}).ok());
  auto third = conn->Apply(ConfigMapObject("web", "two"), {});
  EXPECT_EQ(third.status().code(), Code::kUnavailable);
  EXPECT_EQ(third.status().message(), "injected 503");
  EXPECT_TRUE(conn->Get(ObjectKey{"", "ConfigMap", "web", "two"}, {}).status().IsNotFound());  // never ran
  EXPECT_TRUE(conn->Apply(ConfigMapObject("web", "three"), {}).ok());  // times = 1
  EXPECT_EQ(faults_->Count("Apply"), 4);
}

TEST_F(FaultProviderTest, FailsAfterTheCallTookEffect) {
  faults_->AddRule(FaultRule{"Apply", 0, -1, Status::Timeout("response lost"), -1, FaultTiming::kAfterCall});
  auto conn = ConnectWrapped("a");
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(conn->Apply(NamespaceObject("web"), {}).status().code(), Code::kTimeout);
  EXPECT_EQ(conn->Apply(ConfigMapObject("web", "cfg"), {}).status().code(), Code::kTimeout);
  // The sim applied both all the same.
  EXPECT_TRUE(conn->Get(ObjectKey{"", "ConfigMap", "web", "cfg"}, {}).ok());
  faults_->ClearRules();
  EXPECT_TRUE(conn->Apply(ConfigMapObject("web", "cfg"), {}).ok());
}

TEST_F(FaultProviderTest, CloudProviderCallsFailToo) {
  faults_->AddRule(FaultRule{"StartApplyCluster", 0, 1, Status::Unavailable("cloud API down")});
  EXPECT_EQ(wrapped_->StartApplyCluster(SimCluster("b"), {}).status().code(), Code::kUnavailable);
  EXPECT_TRUE(wrapped_->GetCluster("b", {}).status().IsNotFound());
  EXPECT_TRUE(wrapped_->StartApplyCluster(SimCluster("b"), {}).ok());
}

TEST_F(FaultProviderTest, ExitsAfterNCallsInAForkedChildJustAfterTheApply) {
  faults_->AddRule(FaultRule{"Apply", 1, 1, Status::Ok(), 42, FaultTiming::kAfterCall});
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto conn = ConnectToCluster(*wrapped_, registry_, Context(), "a", {});
    if (!conn.ok()) _exit(2);
    if (!(*conn)->Apply(NamespaceObject("web"), {}).ok()) _exit(3);
    (void)(*conn)->Apply(ConfigMapObject("web", "last-words"), {});  // the sim applies it, then _exit(42)
    _exit(4);  // not reached
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 42);
  // The parent (a "restarted converge") finds what the child applied before it died.
  auto conn = Connect("a");
  ASSERT_NE(conn, nullptr);
  auto cm = conn->Get(ObjectKey{"", "ConfigMap", "web", "last-words"}, {});
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  EXPECT_EQ((*cm)["data"]["v"], "1");
  EXPECT_EQ(faults_->Count("Apply"), 0);  // the child's counts died with it
}

}  // namespace
}  // namespace converge::testing
