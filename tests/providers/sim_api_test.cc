// The sim on provider interface v2, against a real SQLite file and a fake clock: operations and
// their ids, endpoints and connecting, discovery, the change marker, lists, resourceVersions of
// many keys, call deadlines, and one connector shared by several threads.
#include <algorithm>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/base/env.h"
#include "providers/sim/sim_world.h"
#include "tests/providers/sim_world_fixture.h"

namespace converge::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

OperationStatus Poll(CloudProvider& provider, const Operation& op) {
  auto st = provider.PollOperation(op, {});
  EXPECT_TRUE(st.ok()) << st.status().ToString();
  return st.ok() ? *st : OperationStatus{OperationState::kFailed, st.status().message()};
}

// --- operations

using SimOperationsTest = SimWorldTest;

TEST_F(SimOperationsTest, ApplyRunsUntilTheClusterIsRunningAtItsVersion) {
  auto op = provider_->StartApplyCluster(SimCluster("a"), {});
  ASSERT_TRUE(op.ok()) << op.status().ToString();
  EXPECT_EQ(op->kind, "apply");
  EXPECT_EQ(op->cluster, "a");
  std::string rv = (*provider_->GetCluster("a", {}))["metadata"]["resourceVersion"];
  EXPECT_EQ(op->id, "apply/a/" + rv);
  OperationStatus st = Poll(*provider_, *op);
  EXPECT_EQ(st.state, OperationState::kRunning);
  EXPECT_THAT(st.message, StartsWith("Creating"));
  env_.Advance(9'999);
  EXPECT_EQ(Poll(*provider_, *op).state, OperationState::kRunning);
  env_.Advance(1);
  EXPECT_EQ(Poll(*provider_, *op).state, OperationState::kSucceeded);

  // Scaling is a new operation at a later version. The world keeps no history, so while the
  // cluster is Updating an earlier apply reads as running too; both end when it is Running again.
  auto scale = provider_->StartApplyCluster(SimCluster("a", 3), {});
  ASSERT_TRUE(scale.ok());
  EXPECT_NE(scale->id, op->id);
  EXPECT_THAT(Poll(*provider_, *scale).message, StartsWith("Updating"));
  EXPECT_EQ(Poll(*provider_, *op).state, OperationState::kRunning);
  env_.Advance(1'000);  // scaleSeconds defaults to 1
  EXPECT_EQ(Poll(*provider_, *scale).state, OperationState::kSucceeded);
  EXPECT_EQ(Poll(*provider_, *op).state, OperationState::kSucceeded);
}

TEST_F(SimOperationsTest, DeleteSucceedsOnceTheClusterIsGone) {
  CreateRunning("a");
  std::string uid = (*provider_->GetCluster("a", {}))["metadata"]["uid"];
  auto op = provider_->StartDeleteCluster("a", {});
  ASSERT_TRUE(op.ok()) << op.status().ToString();
  EXPECT_EQ(op->id, "delete/a/" + uid);
  EXPECT_EQ(op->kind, "delete");
  EXPECT_TRUE(provider_->GetCluster("a", {}).status().IsNotFound());
  EXPECT_EQ(Poll(*provider_, *op).state, OperationState::kSucceeded);
  // A new cluster of the same name is another cluster: the old delete stays done.
  CreateRunning("a");
  EXPECT_EQ(Poll(*provider_, *op).state, OperationState::kSucceeded);
  EXPECT_TRUE(provider_->StartDeleteCluster("missing", {}).status().IsNotFound());
}

TEST_F(SimOperationsTest, DeletionProtectionRefusesToStart) {
  ClusterSpec spec = SimCluster("a");
  spec.deletion_protection = true;
  ASSERT_TRUE(provider_->StartApplyCluster(spec, {}).ok());
  auto op = provider_->StartDeleteCluster("a", {});
  EXPECT_EQ(op.status().code(), Code::kConflict);
  EXPECT_TRUE(provider_->GetCluster("a", {}).ok());
}

TEST_F(SimOperationsTest, APollAfterARestartAnswersFromTheWorld) {
  auto op = provider_->StartApplyCluster(SimCluster("a"), {});
  ASSERT_TRUE(op.ok());
  Operation saved{op->id, "", ""};  // only the id is persisted
  provider_.reset();                // converge exits
  env_.Advance(5'000);
  std::unique_ptr<CloudProvider> restarted = NewProvider();
  EXPECT_EQ(Poll(*restarted, saved).state, OperationState::kRunning);
  env_.Advance(5'000);
  EXPECT_EQ(Poll(*restarted, saved).state, OperationState::kSucceeded);
}

TEST_F(SimOperationsTest, AnApplyWhoseClusterWasDeletedFails) {
  auto op = provider_->StartApplyCluster(SimCluster("a"), {});
  ASSERT_TRUE(op.ok());
  ASSERT_TRUE(provider_->StartDeleteCluster("a", {}).ok());
  OperationStatus st = Poll(*provider_, *op);
  EXPECT_EQ(st.state, OperationState::kFailed);
  EXPECT_THAT(st.message, HasSubstr("cluster a no longer exists"));
}

TEST_F(SimOperationsTest, UnknownOperationIdsAreNotFound) {
  for (const char* id : {"", "apply", "apply/a", "apply/a/", "scale/a/1", "apply/a/x1"}) {
    auto st = provider_->PollOperation(Operation{id, "a", "apply"}, {});
    EXPECT_TRUE(st.status().IsNotFound()) << id;
  }
}

TEST_F(SimOperationsTest, TimingsDefaultWhenTheCloudHasNoSimulationBlock) {
  CloudSpec cloud = SimCloud();
  cloud.name = "plain";
  cloud.config = std::make_shared<const Json>(Json{{"provider", "sim"}, {"region", "r1"}});
  auto p = ProviderRegistry::Global().CreateCloud(cloud, Context());
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->EnsureCloud({}).ok());
  ClusterSpec spec = SimCluster("b");
  spec.cloud = "plain";
  auto op = (*p)->StartApplyCluster(spec, {});
  ASSERT_TRUE(op.ok()) << op.status().ToString();
  env_.Advance(2'999);
  EXPECT_EQ(Poll(**p, *op).state, OperationState::kRunning);
  env_.Advance(1);  // clusterCreateSeconds defaults to 3
  EXPECT_EQ(Poll(**p, *op).state, OperationState::kSucceeded);
}

// --- endpoints and connecting

using SimEndpointTest = SimWorldTest;

TEST_F(SimEndpointTest, EndpointNamesTheSimConnector) {
  CreateRunning("a");
  auto ep = provider_->Endpoint("a", {});
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  EXPECT_EQ(ep->connector, "sim");
  EXPECT_EQ(ep->cluster, "a");
  EXPECT_EQ(ep->server, "sim://a");
  EXPECT_TRUE(ep->params.empty());
  EXPECT_TRUE(provider_->Endpoint("nope", {}).status().IsNotFound());

  auto conn = ProviderRegistry::Global().Connect(*ep, Context());
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  EXPECT_TRUE(MustApply(**conn, NamespaceObject("web")).is_object());
}

TEST_F(SimEndpointTest, ConnectRefusesMissingClustersAndForeignServers) {
  ProviderRegistry& r = ProviderRegistry::Global();
  EXPECT_TRUE(r.Connect(ClusterEndpoint{"sim", "x", "sim://x", {}}, Context()).status().IsNotFound());
  EXPECT_EQ(r.Connect(ClusterEndpoint{"sim", "x", "https://10.0.0.1", {}}, Context()).status().code(), Code::kInvalid);
  EXPECT_EQ(r.Connect(ClusterEndpoint{"sim", "x", "sim://", {}}, Context()).status().code(), Code::kInvalid);
}

// --- discovery, change marker, list, resourceVersions

class SimConnectorTest : public SimWorldTest {
 protected:
  void SetUp() override {
    SimWorldTest::SetUp();
    CreateRunning("a");
    conn_ = Connect("a");
    ASSERT_NE(conn_, nullptr);
    MustApply(*conn_, NamespaceObject("web"));
  }
  std::unique_ptr<ClusterConnector> conn_;
};

const ApiResource* FindKind(const std::vector<ApiResource>& kinds, const std::string& group, const std::string& kind) {
  auto it = std::find_if(kinds.begin(), kinds.end(),
                         [&](const ApiResource& r) { return r.group == group && r.kind == kind; });
  return it == kinds.end() ? nullptr : &*it;
}

TEST_F(SimConnectorTest, DiscoverListsBuiltinKindsAndCustomResourceDefinitions) {
  auto kinds = conn_->Discover({});
  ASSERT_TRUE(kinds.ok()) << kinds.status().ToString();
  const ApiResource* deploy = FindKind(*kinds, "apps", "Deployment");
  ASSERT_NE(deploy, nullptr);
  EXPECT_EQ(deploy->version, "v1");
  EXPECT_EQ(deploy->plural, "deployments");
  EXPECT_TRUE(deploy->namespaced);
  const ApiResource* ns = FindKind(*kinds, "", "Namespace");
  ASSERT_NE(ns, nullptr);
  EXPECT_FALSE(ns->namespaced);
  EXPECT_EQ(FindKind(*kinds, "converge.dev", "Cluster"), nullptr);  // fleet kinds live in no cluster
  EXPECT_EQ(FindKind(*kinds, "example.com", "Widget"), nullptr);

  Json crd = Json::parse(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
    "metadata":{"name":"widgets.example.com"},
    "spec":{"group":"example.com","scope":"Cluster","names":{"kind":"Widget","plural":"widgets"},
      "versions":[{"name":"v1beta1","served":true,"storage":false},{"name":"v1","served":true,"storage":true}]}})");
  MustApply(*conn_, crd);
  kinds = conn_->Discover({});
  ASSERT_TRUE(kinds.ok());
  const ApiResource* widget = FindKind(*kinds, "example.com", "Widget");
  ASSERT_NE(widget, nullptr);
  EXPECT_EQ(widget->version, "v1");
  EXPECT_EQ(widget->plural, "widgets");
  EXPECT_FALSE(widget->namespaced);
}

TEST_F(SimConnectorTest, ChangeMarkerIsStableAcrossReads) {
  std::string m = Marker(*conn_);
  EXPECT_FALSE(m.empty());
  ASSERT_TRUE(conn_->Get(ObjectKey{"", "Namespace", "", "web"}, {}).ok());
  ASSERT_TRUE(conn_->ResourceVersions({ObjectKey{"", "Namespace", "", "web"}}, {}).ok());
  ASSERT_TRUE(conn_->List("", "Namespace", "", {}).ok());
  EXPECT_EQ(Marker(*conn_), m);
  MustApply(*conn_, NamespaceObject("web"));  // a no-op apply changes nothing
  EXPECT_EQ(Marker(*conn_), m);
  env_.Advance(60'000);  // nothing is due
  EXPECT_EQ(Marker(*conn_), m);
}

TEST_F(SimConnectorTest, ChangeMarkerMovesOnApplyDeletePatchAndPodStart) {
  std::string last = Marker(*conn_);
  auto changed = [&](const char* what) {
    std::string now = Marker(*conn_);
    EXPECT_NE(now, last) << what;
    last = now;
  };

  MustApply(*conn_, ConfigMapObject("web", "cfg"));
  changed("create");
  MustApply(*conn_, ConfigMapObject("web", "cfg", "2"));
  changed("update");
  ASSERT_TRUE(conn_->Delete(ObjectKey{"", "ConfigMap", "web", "cfg"}, {}).ok());
  changed("delete");

  MustApply(*conn_, ConfigMapObject("web", "drift"));
  changed("create");
  auto world = SimWorld::Open(dir_.path(), &env_);
  ASSERT_TRUE(world.ok());
  ASSERT_TRUE((*world)->Patch("a", "configmap", "web/drift", R"({"data":{"v":"9"}})").ok());
  changed("SimWorld::Patch");

  Json deploy = Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api","namespace":"web"},
    "spec":{"replicas":1,"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x"}},
    "spec":{"containers":[{"name":"x","image":"nginx:1.25"}]}}}})");
  MustApply(*conn_, deploy);
  changed("deployment");
  env_.Advance(2'000);  // the pod starts: its status and the Deployment's change
  changed("pod start");

  // Another cluster's objects are not this cluster's changes.
  std::string m = Marker(*conn_);
  CreateRunning("b");
  auto other = Connect("b");
  ASSERT_NE(other, nullptr);
  MustApply(*other, NamespaceObject("web"));
  EXPECT_EQ(Marker(*conn_), m);
}

TEST_F(SimConnectorTest, AMarkerNeverRepeats) {
  // Every change moves the marker, undoing one too: a reader holding an old marker never takes a
  // state it did not see for one it did (a recreated cluster has a new uid, so a new marker).
  std::string before = Marker(*conn_);
  MustApply(*conn_, ConfigMapObject("web", "tmp"));
  std::string with = Marker(*conn_);
  EXPECT_NE(with, before);
  ASSERT_TRUE(conn_->Delete(ObjectKey{"", "ConfigMap", "web", "tmp"}, {}).ok());
  std::string after = Marker(*conn_);
  EXPECT_NE(after, before);
  EXPECT_NE(after, with);
  EXPECT_EQ(Marker(*conn_), after);  // and it holds still while nothing changes
}

TEST_F(SimConnectorTest, ListReturnsOneKindWithTheMarkerAsVersion) {
  MustApply(*conn_, NamespaceObject("ops"));
  MustApply(*conn_, ConfigMapObject("web", "b"));
  MustApply(*conn_, ConfigMapObject("web", "a"));
  MustApply(*conn_, ConfigMapObject("ops", "c"));
  auto all = conn_->List("", "ConfigMap", "", {});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::vector<std::string> names;
  for (const Json& o : all->items) names.push_back(o["metadata"]["namespace"].get<std::string>() + "/" +
                                                   o["metadata"]["name"].get<std::string>());
  EXPECT_EQ(names, (std::vector<std::string>{"ops/c", "web/a", "web/b"}));
  EXPECT_EQ(all->version, Marker(*conn_));
  auto web = conn_->List("", "ConfigMap", "web", {});
  ASSERT_TRUE(web.ok());
  EXPECT_EQ(web->items.size(), 2u);
  auto none = conn_->List("apps", "Deployment", "", {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->items.empty());
}

TEST_F(SimConnectorTest, ResourceVersionsOfManyKeysInKeyOrder) {
  std::vector<ObjectKey> keys;
  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    Json live = MustApply(*conn_, ConfigMapObject("web", "cm" + std::to_string(i)));
    keys.push_back(ObjectKey{"", "ConfigMap", "web", "cm" + std::to_string(i)});
    expected.push_back(live["metadata"]["resourceVersion"]);
    if (i % 100 == 0) {  // missing keys in between
      keys.push_back(ObjectKey{"", "ConfigMap", "web", "absent" + std::to_string(i)});
      expected.push_back("");
    }
  }
  std::reverse(keys.begin(), keys.end());
  std::reverse(expected.begin(), expected.end());
  // Cluster-scoped keys are found with or without a namespace; known namespaced kinds default it.
  std::string ns_rv = (*conn_->Get(ObjectKey{"", "Namespace", "", "web"}, {}))["metadata"]["resourceVersion"];
  keys.push_back(ObjectKey{"", "Namespace", "", "web"});
  expected.push_back(ns_rv);
  keys.push_back(ObjectKey{"", "Namespace", "web", "web"});
  expected.push_back(ns_rv);
  keys.push_back(ObjectKey{"", "Namespace", "", "nope"});
  expected.push_back("");
  keys.push_back(keys.front());  // a key twice
  expected.push_back(expected.front());
  auto rvs = conn_->ResourceVersions(keys, {});
  ASSERT_TRUE(rvs.ok()) << rvs.status().ToString();
  EXPECT_EQ(*rvs, expected);
  auto empty = conn_->ResourceVersions({}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// --- deadlines

TEST_F(SimConnectorTest, LatencyBeyondTheDeadlineSleepsOnlyUntilItAndTimesOut) {
  auto world = SimWorld::Open(dir_.path(), &env_);
  ASSERT_TRUE(world.ok());
  ASSERT_TRUE((*world)->Fault("a", "latency=500").ok());
  const ObjectKey web{"", "Namespace", "", "web"};

  int64_t slept = env_.slept();
  CallOptions tight{env_.MonotonicMillis() + 200};
  auto r = conn_->Get(web, tight);
  EXPECT_EQ(r.status().code(), Code::kTimeout) << r.status().ToString();
  EXPECT_TRUE(r.status().retryable());
  EXPECT_THAT(r.status().message(), HasSubstr("latency of 500 ms"));
  EXPECT_EQ(env_.slept() - slept, 200);  // until the deadline, not the whole latency

  slept = env_.slept();
  EXPECT_TRUE(conn_->Get(web, CallOptions{env_.MonotonicMillis() + 1'000}).ok());
  EXPECT_EQ(env_.slept() - slept, 500);

  slept = env_.slept();
  auto late = conn_->Apply(ConfigMapObject("web", "late"), CallOptions{env_.MonotonicMillis()});
  EXPECT_EQ(late.status().code(), Code::kTimeout);
  EXPECT_EQ(env_.slept(), slept);  // a passed deadline does not even start the call
  ASSERT_TRUE((*world)->Heal("a").ok());
  EXPECT_TRUE(conn_->Get(ObjectKey{"", "ConfigMap", "web", "late"}, {}).status().IsNotFound());
}

TEST_F(SimConnectorTest, ProviderCallsPastTheirDeadlineTimeOut) {
  CallOptions past{env_.MonotonicMillis() - 1};
  EXPECT_EQ(provider_->GetCluster("a", past).status().code(), Code::kTimeout);
  EXPECT_EQ(provider_->StartApplyCluster(SimCluster("z"), past).status().code(), Code::kTimeout);
  EXPECT_TRUE(provider_->GetCluster("z", {}).status().IsNotFound());  // nothing started
  EXPECT_TRUE(provider_->GetCluster("a", CallOptions{env_.MonotonicMillis() + 1}).ok());
}

// --- concurrency

class SimSharedConnectorTest : public SimConnectorTest, public ::testing::WithParamInterface<int> {};

TEST_P(SimSharedConnectorTest, ThreadsShareOneConnector) {
  const int threads = GetParam();
  constexpr int kPerThread = 20;
  std::vector<std::thread> workers;
  std::vector<int> failures(threads, 0);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<ObjectKey> mine;
      for (int i = 0; i < kPerThread; ++i) {
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!conn_->Apply(ConfigMapObject("web", name), {}).ok()) failures[t]++;
        mine.push_back(ObjectKey{"", "ConfigMap", "web", name});
        auto rvs = conn_->ResourceVersions(mine, {});
        if (!rvs.ok() || std::count(rvs->begin(), rvs->end(), "") != 0) failures[t]++;
        if (!conn_->ChangeMarker({}).ok()) failures[t]++;
      }
    });
  }
  for (auto& w : workers) w.join();
  for (int t = 0; t < threads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  auto all = conn_->List("", "ConfigMap", "web", {});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->items.size(), static_cast<size_t>(threads * kPerThread));
  std::set<std::string> versions;
  for (const Json& o : all->items) versions.insert(o["metadata"]["resourceVersion"].get<std::string>());
  EXPECT_EQ(versions.size(), all->items.size());  // every write got its own resourceVersion
}

INSTANTIATE_TEST_SUITE_P(Threads, SimSharedConnectorTest, ::testing::Values(1, 2, 4),
                         [](const auto& info) { return std::to_string(info.param) + "threads"; });

}  // namespace
}  // namespace converge::testing
