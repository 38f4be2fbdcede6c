// The in-memory fake provider behaves like a provider: clusters and their operations, objects with
// server-side apply and resourceVersions, the change marker, the call log and injected errors.
#include "tests/testing/fake_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "providers/connect.h"

namespace converge::testing {
namespace {

using ::testing::ElementsAre;

class FakeProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    installed_ = std::make_unique<ScopedRegistration>(fake_.Install(registry_));
    CloudSpec cloud;
    cloud.name = "c1";
    cloud.provider = "fake";
    auto p = registry_.CreateCloud(cloud, {});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    provider_ = std::move(p).value();
  }

  std::unique_ptr<ClusterConnector> Connect(const std::string& cluster) {
    auto c = ConnectToCluster(*provider_, registry_, {}, cluster, {});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  static ClusterSpec Cluster(const std::string& name, const std::string& version = "1.29") {
    ClusterSpec c;
    c.name = name;
    c.version = version;
    return c;
  }

  static Json ConfigMap(const std::string& name, const Json& data) {
    return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"namespace", "app"}}},
            {"data", data}};
  }

  FakeProvider fake_{"fake"};
  ProviderRegistry registry_;
  std::unique_ptr<ScopedRegistration> installed_;
  std::unique_ptr<CloudProvider> provider_;
};

TEST_F(FakeProviderTest, OperationsRunUntilTheTestCompletesThem) {
  auto op = provider_->StartApplyCluster(Cluster("a"), {});
  ASSERT_TRUE(op.ok());
  EXPECT_EQ(fake_.Phase("a"), "Creating");
  EXPECT_EQ(provider_->PollOperation(*op, {})->state, OperationState::kRunning);
  fake_.CompleteOperation(op->id);
  EXPECT_EQ(provider_->PollOperation(*op, {})->state, OperationState::kSucceeded);
  EXPECT_EQ((*provider_->GetCluster("a", {}))["status"]["phase"], "Running");

  auto upgrade = provider_->StartApplyCluster(Cluster("a", "1.30"), {});
  ASSERT_TRUE(upgrade.ok());
  fake_.CompleteOperation(upgrade->id, OperationState::kFailed, "quota exceeded");
  auto st = provider_->PollOperation(*upgrade, {});
  EXPECT_EQ(st->state, OperationState::kFailed);
  EXPECT_EQ(st->message, "quota exceeded");
  EXPECT_EQ(fake_.Phase("a"), "Failed");

  auto del = provider_->StartDeleteCluster("a", {});
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(fake_.Phase("a"), "Deleting");
  fake_.CompleteAll();
  EXPECT_TRUE(provider_->GetCluster("a", {}).status().IsNotFound());
  EXPECT_EQ(fake_.Operations().size(), 3u);
  EXPECT_TRUE(provider_->PollOperation(Operation{"nope", "a", "apply"}, {}).status().IsNotFound());
}

TEST_F(FakeProviderTest, ServerSideApplyKeepsOthersFieldsAndRemovesDroppedOnes) {
  fake_.AddCluster("a");
  auto conn = Connect("a");
  ASSERT_NE(conn, nullptr);
  auto first = conn->Apply(ConfigMap("cfg", {{"a", "1"}, {"b", "2"}}), {});
  ASSERT_TRUE(first.ok());
  std::string rv = (*first)["metadata"]["resourceVersion"];
  EXPECT_EQ(conn->Apply(ConfigMap("cfg", {{"a", "1"}, {"b", "2"}}), {})->at("metadata")["resourceVersion"], rv);

  Json drifted = *first;
  drifted["data"]["theirs"] = "x";  // another actor adds a field
  fake_.PutObject("a", drifted);
  auto second = conn->Apply(ConfigMap("cfg", {{"a", "1"}}), {});  // converge drops b
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)["data"], (Json{{"a", "1"}, {"theirs", "x"}}));
  EXPECT_NE((*second)["metadata"]["resourceVersion"], rv);
  EXPECT_EQ(*fake_.Object("a", ObjectKey{"", "ConfigMap", "app", "cfg"}), *second);

  auto rvs = conn->ResourceVersions({ObjectKey{"", "ConfigMap", "app", "cfg"}, ObjectKey{"", "ConfigMap", "app", "x"}}, {});
  ASSERT_TRUE(rvs.ok());
  EXPECT_THAT(*rvs, ElementsAre((*second)["metadata"]["resourceVersion"].get<std::string>(), ""));
  std::string marker = *conn->ChangeMarker({});
  ASSERT_TRUE(conn->Delete(ObjectKey{"", "ConfigMap", "app", "cfg"}, {}).ok());
  EXPECT_NE(*conn->ChangeMarker({}), marker);
  EXPECT_TRUE(conn->Delete(ObjectKey{"", "ConfigMap", "app", "cfg"}, {}).ok());  // NotFound is success
  EXPECT_EQ(fake_.ObjectCount("a"), 0u);
}

TEST_F(FakeProviderTest, CallsAreLoggedAndErrorsInjectedPerMethod) {
  fake_.AddCluster("a");
  auto conn = Connect("a");
  ASSERT_NE(conn, nullptr);
  fake_.ClearCalls();
  fake_.FailNext("Apply", Status::Unavailable("503"), 2);
  EXPECT_EQ(conn->Apply(ConfigMap("cfg", {}), CallOptions{42}).status().code(), Code::kUnavailable);
  EXPECT_EQ(conn->Apply(ConfigMap("cfg", {}), {}).status().code(), Code::kUnavailable);
  EXPECT_TRUE(conn->Apply(ConfigMap("cfg", {}), {}).ok());
  EXPECT_TRUE(conn->Get(ObjectKey{"", "ConfigMap", "app", "cfg"}, {}).ok());
  std::vector<FakeCall> calls = fake_.Calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].method, "Apply");
  EXPECT_EQ(calls[0].cluster, "a");
  EXPECT_EQ(calls[0].key, "ConfigMap/app/cfg");
  EXPECT_EQ(calls[0].deadline_ms, 42);
  EXPECT_EQ(fake_.CallCount("Apply"), 3);
  EXPECT_EQ(fake_.Calls("Get").size(), 1u);

  fake_.FailNext("GetCluster", Status::PermissionDenied("403"), -1);
  EXPECT_EQ(provider_->GetCluster("a", {}).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(provider_->GetCluster("a", {}).status().code(), Code::kPermissionDenied);
  fake_.ClearFailures();
  EXPECT_TRUE(provider_->GetCluster("a", {}).ok());
}

TEST_F(FakeProviderTest, ConnectingNeedsAnExistingCluster) {
  EXPECT_TRUE(provider_->Endpoint("a", {}).status().IsNotFound());
  fake_.AddCluster("a", "Creating");
  auto ep = provider_->Endpoint("a", {});
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->connector, "fake");
  EXPECT_EQ(ep->server, "fake://a");
  EXPECT_TRUE(registry_.Connect(ClusterEndpoint{"fake", "b", "fake://b", {}}, {}).status().IsNotFound());
}

}  // namespace
}  // namespace converge::testing
