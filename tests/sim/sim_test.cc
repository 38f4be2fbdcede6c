// The sim provider against a real SQLite file in a temp dir, with a fake clock.
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/base/env.h"
#include "engine/base/secret_key.h"
#include "engine/diff/diff.h"
#include "providers/connect.h"
#include "providers/provider.h"
#include "providers/sim/sim_capacity.h"
#include "providers/sim/sim_provider.h"
#include "providers/sim/sim_world.h"
#include "tests/testing/simulated_env.h"

namespace converge {
namespace {

using testing::SimulatedEnv;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sim_test_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// An env whose clock is fake and whose CONVERGE_SIM_SEED is fixed.
class TestEnv : public SimulatedEnv {
 public:
  std::string GetVar(const std::string& name) override {
    if (name == "CONVERGE_SIM_SEED") return "42";
    return SimulatedEnv::GetVar(name);
  }
};

CloudSpec TestCloud() {
  CloudSpec c;
  c.name = "simcloud";
  c.provider = "sim";
  c.region = "eu-west-1";
  c.regions = {"eu-west-1", "eu-north-1"};
  c.config = std::make_shared<const Json>(Json::parse(R"({"provider":"sim","region":"eu-west-1",
    "simulation":{"clusterCreateSeconds":10,"podStartSeconds":2,"upgradeStepSeconds":5,"scaleSeconds":3}})"));
  return c;
}

NodePoolSpec Pool(const std::string& name, const std::string& flavor, int count, const std::string& arch = "x86_64") {
  NodePoolSpec p;
  p.name = name;
  p.flavor = flavor;
  p.count = count;
  p.arch = arch;
  return p;
}

ClusterSpec TestCluster(const std::string& name, std::vector<NodePoolSpec> pools) {
  ClusterSpec c;
  c.name = name;
  c.cloud = "simcloud";
  c.version = "1.29";
  c.region = "eu-west-1";
  c.node_pools = std::move(pools);
  return c;
}

Json Deployment(const std::string& ns, const std::string& name, int replicas, const std::string& cpu,
                const std::string& memory, const Json& node_selector = Json()) {
  Json d = Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{},
    "spec":{"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x"}},
    "spec":{"containers":[{"name":"app","image":"nginx:1.25"}]}}}})");
  d["metadata"]["name"] = name;
  d["metadata"]["namespace"] = ns;
  d["spec"]["replicas"] = replicas;
  Json& c = d["spec"]["template"]["spec"]["containers"][0];
  if (!cpu.empty()) c["resources"]["requests"]["cpu"] = cpu;
  if (!memory.empty()) c["resources"]["requests"]["memory"] = memory;
  if (!node_selector.is_null()) d["spec"]["template"]["spec"]["nodeSelector"] = node_selector;
  return d;
}

Json Namespace(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
}

Json ConfigMap(const std::string& ns, const std::string& name, const Json& data) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"namespace", ns}}}, {"data", data}};
}

ObjectKey Key(const std::string& group, const std::string& kind, const std::string& ns, const std::string& name) {
  return ObjectKey{group, kind, ns, name};
}

class SimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = NewSimCloudFactory()->Create(TestCloud(), Context());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    provider_ = std::move(p).value();
    ASSERT_TRUE(provider_->EnsureCloud({}).ok());
  }

  ProviderContext Context() { return ProviderContext{&env_, dir_.path()}; }

  // The v2 calls without deadlines, as the tests from before CallOptions make them.
  Status ApplyCluster(const ClusterSpec& spec) { return provider_->StartApplyCluster(spec, {}).status(); }
  Status DeleteCluster(const std::string& name) { return provider_->StartDeleteCluster(name, {}).status(); }
  Result<Json> GetCluster(const std::string& name) { return provider_->GetCluster(name, {}); }
  Result<std::unique_ptr<ClusterConnector>> TryConnect(const std::string& cluster) {
    return ConnectToCluster(*provider_, ProviderRegistry::Global(), Context(), cluster, {});
  }

  // Creates the cluster and waits (in simulated time) until it is Running.
  void CreateRunning(const ClusterSpec& spec) {
    ASSERT_TRUE(ApplyCluster(spec).ok());
    env_.Advance(10'000);
    ASSERT_EQ(Phase(spec.name), "Running");
  }

  std::string Phase(const std::string& cluster) {
    auto c = GetCluster(cluster);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? (*c)["status"]["phase"].get<std::string>() : "";
  }

  std::unique_ptr<ClusterConnector> Connect(const std::string& cluster) {
    auto c = TryConnect(cluster);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  Json MustApply(ClusterConnector& conn, const Json& obj) {
    auto r = conn.Apply(obj, {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Json();
  }

  Json MustGet(ClusterConnector& conn, const ObjectKey& key) {
    auto r = conn.Get(key, {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Json();
  }

  // Pods of the world, optionally of one cluster.
  std::vector<Json> Pods(const std::string& cluster) {
    auto world = SimWorld::Open(dir_.path(), &env_);
    EXPECT_TRUE(world.ok());
    auto list = (*world)->List();
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    std::vector<Json> pods;
    for (const Json& o : (*list)["objects"]) {
      if (o["kind"] == "Pod" && o["cluster"] == cluster) pods.push_back(o);
    }
    return pods;
  }

  TempDir dir_;
  TestEnv env_;
  std::unique_ptr<CloudProvider> provider_;
};

// --- capacity

TEST(SimCapacityTest, ParsesFlavors) {
  auto c = sim::ParseFlavor("c7.large.2");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->cpu_milli, 2000);
  EXPECT_EQ(c->mem_bytes, int64_t{4} << 30);
  c = sim::ParseFlavor("kc1.xlarge.4");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->cpu_milli, 4000);
  EXPECT_EQ(c->mem_bytes, int64_t{16} << 30);
  c = sim::ParseFlavor("s6.medium.2");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->cpu_milli, 1000);
  c = sim::ParseFlavor("c7.4xlarge.2");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->cpu_milli, 16000);
  EXPECT_EQ(c->mem_bytes, int64_t{32} << 30);
  for (const char* bad : {"", "c7", "c7.large", "c7.huge.2", "c7.large.x", "c7.large.2.1", ".large.2", "c7.xxlarge.2"}) {
    EXPECT_FALSE(sim::ParseFlavor(bad).has_value()) << bad;
  }
}

TEST(SimCapacityTest, ParsesQuantities) {
  EXPECT_EQ(sim::ParseCpuMilli("250m"), 250);
  EXPECT_EQ(sim::ParseCpuMilli("1"), 1000);
  EXPECT_EQ(sim::ParseCpuMilli("0.5"), 500);
  EXPECT_FALSE(sim::ParseCpuMilli("abc").has_value());
  EXPECT_EQ(sim::ParseBytes("128Mi"), int64_t{128} << 20);
  EXPECT_EQ(sim::ParseBytes("1Gi"), int64_t{1} << 30);
  EXPECT_EQ(sim::ParseBytes("500M"), 500'000'000);
  EXPECT_EQ(sim::ParseBytes("1024"), 1024);
  EXPECT_FALSE(sim::ParseBytes("lots").has_value());
}

// --- clusters

TEST_F(SimTest, ClusterIsRunningOnlyAfterCreateTime) {
  ClusterSpec spec = TestCluster("a", {Pool("pool1", "c7.large.2", 3)});
  ASSERT_TRUE(ApplyCluster(spec).ok());
  auto c = GetCluster("a");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)["status"]["phase"], "Creating");
  EXPECT_EQ((*c)["status"]["nodes"], 3);
  EXPECT_EQ((*c)["status"]["readyNodes"], 0);
  env_.Advance(9'999);
  EXPECT_EQ(Phase("a"), "Creating");
  env_.Advance(1);
  c = GetCluster("a");
  EXPECT_EQ((*c)["status"]["phase"], "Running");
  EXPECT_EQ((*c)["status"]["readyNodes"], 3);
  EXPECT_EQ((*c)["status"]["version"], "1.29");
  EXPECT_EQ((*c)["status"]["endpoint"], "sim://a");
  EXPECT_EQ((*c)["kind"], "Cluster");
  EXPECT_EQ((*c)["spec"]["nodePools"][0]["flavor"], "c7.large.2");
  EXPECT_FALSE((*c)["metadata"]["uid"].get<std::string>().empty());
}

TEST_F(SimTest, GetClusterReturnsTheStoredManifestUnchanged) {
  ClusterSpec spec = TestCluster("a", {Pool("pool1", "c7.large.2", 1)});
  Json body = Json::parse(R"({"apiVersion":"converge.dev/v1alpha1","kind":"Cluster",
    "metadata":{"name":"a","labels":{"tier":"prod"}},
    "spec":{"cloud":"simcloud","version":"1.29","region":"eu-west-1","nodePools":[
      {"name":"pool1","flavor":"c7.large.2","arch":"x86_64","count":1}],"deletionProtection":false}})");
  spec.manifest.body = std::make_shared<const Json>(body);
  ASSERT_TRUE(ApplyCluster(spec).ok());
  auto c = GetCluster("a");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)["spec"], body["spec"]);
  EXPECT_EQ((*c)["metadata"]["labels"], body["metadata"]["labels"]);
  std::string rv = (*c)["metadata"]["resourceVersion"];
  ASSERT_TRUE(ApplyCluster(spec).ok());  // unchanged: no new revision
  EXPECT_EQ((*GetCluster("a"))["metadata"]["resourceVersion"], rv);
  EXPECT_TRUE(GetCluster("missing").status().IsNotFound());
}

TEST_F(SimTest, BadFlavorIsInvalidNamingPoolAndForm) {
  Status st = ApplyCluster(TestCluster("a", {Pool("gpu", "c7.enormous.2", 1)}));
  EXPECT_EQ(st.code(), Code::kInvalid);
  EXPECT_FALSE(st.retryable());
  EXPECT_NE(st.message().find("\"gpu\""), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("c7.enormous.2"), std::string::npos);
  EXPECT_NE(st.message().find("<family>.<size>.<ratio>"), std::string::npos);
  EXPECT_TRUE(GetCluster("a").status().IsNotFound());
}

TEST_F(SimTest, NodeCapacityAndLabelsFollowTheFlavor) {
  CreateRunning(TestCluster("a", {Pool("big", "kc1.xlarge.4", 1, "arm64")}));
  auto world = SimWorld::Open(dir_.path(), &env_);
  ASSERT_TRUE(world.ok());
  auto list = (*world)->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ((*list)["nodes"].size(), 1u);
  const Json& n = (*list)["nodes"][0];
  EXPECT_EQ(n["name"], "a-big-0");
  EXPECT_EQ(n["cpu"], "4");
  EXPECT_EQ(n["memory"], "16Gi");
  EXPECT_EQ(n["arch"], "arm64");
  EXPECT_EQ(n["ready"], true);
}

TEST_F(SimTest, RegionMustBeOneOfTheClouds) {
  ClusterSpec spec = TestCluster("a", {Pool("p", "c7.large.2", 1)});
  spec.region = "us-east-1";
  Status st = ApplyCluster(spec);
  EXPECT_EQ(st.code(), Code::kInvalid);
  EXPECT_FALSE(st.retryable());
  EXPECT_NE(st.message().find("us-east-1"), std::string::npos);
  EXPECT_NE(st.message().find("eu-west-1, eu-north-1"), std::string::npos);
  spec.region = "eu-north-1";
  EXPECT_TRUE(ApplyCluster(spec).ok());
}

TEST_F(SimTest, ScaleUpAndDownGoesThroughUpdating) {
  ClusterSpec spec = TestCluster("a", {Pool("p", "c7.large.2", 2)});
  CreateRunning(spec);
  spec.node_pools[0].count = 4;
  ASSERT_TRUE(ApplyCluster(spec).ok());
  auto c = GetCluster("a");
  EXPECT_EQ((*c)["status"]["phase"], "Updating");
  EXPECT_EQ((*c)["status"]["nodes"], 4);
  EXPECT_EQ((*c)["status"]["readyNodes"], 2);
  env_.Advance(3'000);
  c = GetCluster("a");
  EXPECT_EQ((*c)["status"]["phase"], "Running");
  EXPECT_EQ((*c)["status"]["readyNodes"], 4);

  spec.node_pools[0].count = 1;
  ASSERT_TRUE(ApplyCluster(spec).ok());
  c = GetCluster("a");
  EXPECT_EQ((*c)["status"]["nodes"], 1);
  EXPECT_EQ((*c)["status"]["phase"], "Updating");
  env_.Advance(3'000);
  EXPECT_EQ(Phase("a"), "Running");

  // A pool added, the old one removed.
  spec.node_pools = {Pool("q", "c7.xlarge.2", 2)};
  ASSERT_TRUE(ApplyCluster(spec).ok());
  env_.Advance(3'000);
  c = GetCluster("a");
  ASSERT_EQ((*c)["status"]["nodePools"].size(), 1u);
  EXPECT_EQ((*c)["status"]["nodePools"][0]["name"], "q");
  EXPECT_EQ((*c)["status"]["nodes"], 2);
}

TEST_F(SimTest, UpgradeGoesControlPlaneFirstThenPoolByPool) {
  ClusterSpec spec = TestCluster("a", {Pool("p1", "c7.large.2", 1), Pool("p2", "c7.large.2", 1)});
  CreateRunning(spec);
  spec.version = "1.30";
  ASSERT_TRUE(ApplyCluster(spec).ok());
  auto status = [&] { return (*GetCluster("a"))["status"]; };
  Json s = status();
  EXPECT_EQ(s["phase"], "Upgrading");
  EXPECT_EQ(s["version"], "1.29");
  EXPECT_NE(s["message"].get<std::string>().find("control plane"), std::string::npos);
  env_.Advance(5'000);  // control plane done
  s = status();
  EXPECT_EQ(s["phase"], "Upgrading");
  EXPECT_EQ(s["version"], "1.30");
  EXPECT_EQ(s["nodePools"][0]["version"], "1.29");
  EXPECT_EQ(s["nodePools"][1]["version"], "1.29");
  env_.Advance(5'000);  // pool p1 done
  s = status();
  EXPECT_EQ(s["nodePools"][0]["version"], "1.30");
  EXPECT_EQ(s["nodePools"][1]["version"], "1.29");
  EXPECT_EQ(s["phase"], "Upgrading");
  env_.Advance(5'000);  // pool p2 done
  s = status();
  EXPECT_EQ(s["nodePools"][1]["version"], "1.30");
  EXPECT_EQ(s["phase"], "Running");

  spec.version = "1.28";
  Status st = ApplyCluster(spec);
  EXPECT_EQ(st.code(), Code::kInvalid);
  EXPECT_NE(st.message().find("downgraded"), std::string::npos) << st.message();
  EXPECT_EQ(status()["version"], "1.30");
}

TEST_F(SimTest, DeletionProtectionRefusesDelete) {
  ClusterSpec spec = TestCluster("a", {Pool("p", "c7.large.2", 1)});
  spec.deletion_protection = true;
  CreateRunning(spec);
  Status st = DeleteCluster("a");
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_EQ(st.message(), "cluster a has deletionProtection: set spec.deletionProtection to false and apply first");
  spec.deletion_protection = false;
  ASSERT_TRUE(ApplyCluster(spec).ok());
  EXPECT_TRUE(DeleteCluster("a").ok());
  EXPECT_TRUE(GetCluster("a").status().IsNotFound());
}

TEST_F(SimTest, ConnectToMissingOrCreatingCluster) {
  EXPECT_TRUE(TryConnect("nope").status().IsNotFound());
  ASSERT_TRUE(ApplyCluster(TestCluster("a", {Pool("p", "c7.large.2", 1)})).ok());
  auto conn = Connect("a");
  ASSERT_NE(conn, nullptr);
  auto r = conn->Apply(Namespace("web"), {});
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_TRUE(r.status().retryable());
  EXPECT_NE(r.status().message().find("cluster a is still creating"), std::string::npos);
  env_.Advance(10'000);
  EXPECT_TRUE(conn->Apply(Namespace("web"), {}).ok());
}

// --- objects

class SimObjectsTest : public SimTest {
 protected:
  void SetUp() override {
    SimTest::SetUp();
    CreateRunning(TestCluster("a", {Pool("amd", "c7.large.2", 2), Pool("arm", "c7.large.2", 1, "arm64")}));
    conn_ = Connect("a");
    ASSERT_NE(conn_, nullptr);
    MustApply(*conn_, Namespace("web"));
  }
  std::unique_ptr<ClusterConnector> conn_;
};

TEST_F(SimObjectsTest, CreateSetsServerMetadata) {
  Json live = MustApply(*conn_, ConfigMap("web", "cfg", {{"a", "1"}}));
  const Json& md = live["metadata"];
  EXPECT_EQ(md["uid"].get<std::string>().size(), 36u);
  EXPECT_FALSE(md["resourceVersion"].get<std::string>().empty());
  EXPECT_EQ(md["generation"], 1);
  EXPECT_EQ(md["creationTimestamp"], "2023-11-14T22:13:30Z");  // SimulatedEnv's start + 10s create
  EXPECT_EQ(MustGet(*conn_, Key("", "ConfigMap", "web", "cfg")), live);
  auto rvs = conn_->ResourceVersions({Key("", "ConfigMap", "web", "cfg"), Key("", "ConfigMap", "web", "none")}, {});
  ASSERT_TRUE(rvs.ok());
  EXPECT_EQ((*rvs)[0], md["resourceVersion"]);
  EXPECT_EQ((*rvs)[1], "");
  auto many = conn_->GetMany({Key("", "ConfigMap", "web", "none"), Key("", "ConfigMap", "web", "cfg")}, {});
  ASSERT_TRUE(many.ok());
  EXPECT_FALSE((*many)[0].has_value());
  ASSERT_TRUE((*many)[1].has_value());
  EXPECT_EQ(*(*many)[1], live);
}

TEST_F(SimObjectsTest, NoOpApplyKeepsResourceVersion) {
  Json cm = ConfigMap("web", "cfg", {{"a", "1"}});
  Json first = MustApply(*conn_, cm);
  Json second = MustApply(*conn_, cm);
  EXPECT_EQ(second["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"]);
  cm["data"]["a"] = "2";
  Json third = MustApply(*conn_, cm);
  EXPECT_NE(third["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"]);
  EXPECT_EQ(third["metadata"]["generation"], 2);
  EXPECT_EQ(third["metadata"]["uid"], first["metadata"]["uid"]);
  // A label change is metadata: new revision, same generation.
  cm["metadata"]["labels"] = {{"team", "x"}};
  Json fourth = MustApply(*conn_, cm);
  EXPECT_NE(fourth["metadata"]["resourceVersion"], third["metadata"]["resourceVersion"]);
  EXPECT_EQ(fourth["metadata"]["generation"], 2);
}

TEST_F(SimObjectsTest, ServerSideApplyRemovesOwnFieldsAndKeepsOthers) {
  MustApply(*conn_, ConfigMap("web", "cfg", {{"a", "1"}, {"b", "2"}}));
  auto world = SimWorld::Open(dir_.path(), &env_);
  ASSERT_TRUE(world.ok());
  ASSERT_TRUE((*world)->Patch("a", "configmap", "web/cfg", R"({"data":{"other":"x"}})").ok());
  Json live = MustApply(*conn_, ConfigMap("web", "cfg", {{"a", "1"}}));
  EXPECT_EQ(live["data"], Json({{"a", "1"}, {"other", "x"}}));
}

TEST_F(SimObjectsTest, ServerDefaultsAreFilled) {
  Json d = MustApply(*conn_, Deployment("web", "api", 2, "", ""));
  const Json& spec = d["spec"];
  EXPECT_EQ(spec["strategy"]["type"], "RollingUpdate");
  EXPECT_EQ(spec["strategy"]["rollingUpdate"]["maxSurge"], "25%");
  EXPECT_EQ(spec["strategy"]["rollingUpdate"]["maxUnavailable"], "25%");
  EXPECT_EQ(spec["revisionHistoryLimit"], 10);
  EXPECT_EQ(spec["progressDeadlineSeconds"], 600);
  const Json& c = spec["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["imagePullPolicy"], "IfNotPresent");
  EXPECT_EQ(c["terminationMessagePath"], "/dev/termination-log");
  Json no_replicas = Deployment("web", "latest", 1, "", "");
  no_replicas["spec"].erase("replicas");
  no_replicas["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx";
  Json d2 = MustApply(*conn_, no_replicas);
  EXPECT_EQ(d2["spec"]["replicas"], 1);
  EXPECT_EQ(d2["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"], "Always");

  Json svc = {{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", {{"name", "api"}, {"namespace", "web"}}},
              {"spec", {{"selector", {{"app", "x"}}}, {"ports", {{{"port", 80}}}}}}};
  Json s = MustApply(*conn_, svc);
  EXPECT_EQ(s["spec"]["type"], "ClusterIP");
  EXPECT_EQ(s["spec"]["sessionAffinity"], "None");
  EXPECT_EQ(s["spec"]["ports"][0]["protocol"], "TCP");
  EXPECT_EQ(s["spec"]["clusterIP"].get<std::string>().rfind("10.96.", 0), 0u);
  // Re-applying the same (undefaulted) manifest is a no-op: defaults are not a change.
  Json again = MustApply(*conn_, svc);
  EXPECT_EQ(again["metadata"]["resourceVersion"], s["metadata"]["resourceVersion"]);
  EXPECT_EQ(again["spec"]["clusterIP"], s["spec"]["clusterIP"]);
  Json svc2 = svc;
  svc2["metadata"]["name"] = "other";
  EXPECT_NE(MustApply(*conn_, svc2)["spec"]["clusterIP"], s["spec"]["clusterIP"]);
}

// The engine's diff (ApplyMerge prediction) must see nothing to do right after an apply, despite
// the server's defaults.
TEST_F(SimObjectsTest, EngineDiffSeesNoChangeAfterApply) {
  Json d = Deployment("web", "api", 2, "100m", "64Mi");
  d["spec"]["template"]["spec"]["containers"][0]["ports"] = {{{"containerPort", 80}}};
  Json svc = {{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", {{"name", "api"}, {"namespace", "web"}}},
              {"spec", {{"selector", {{"app", "x"}}}, {"ports", {{{"port", 80}, {"targetPort", 80}}}}}}};
  for (const Json& desired : {d, svc, ConfigMap("web", "cfg", {{"a", "1"}})}) {
    Json live = MustApply(*conn_, desired);
    ObjectDiff diff = DiffObject(&desired, &live, &desired, SecretKey::Ephemeral(Env::Default()));
    EXPECT_EQ(diff.type, ChangeType::kUnchanged) << diff.unified;
  }
}

TEST_F(SimObjectsTest, NamespaceMustExist) {
  auto r = conn_->Apply(ConfigMap("missing", "cfg", {{"a", "1"}}), {});
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_FALSE(r.status().retryable());
  EXPECT_NE(r.status().message().find("namespaces \"missing\" not found"), std::string::npos);
  EXPECT_TRUE(conn_->Apply(ConfigMap("default", "cfg", {{"a", "1"}}), {}).ok());
  EXPECT_TRUE(conn_->Apply(ConfigMap("kube-system", "cfg", {{"a", "1"}}), {}).ok());
}

TEST_F(SimObjectsTest, DeletingANamespaceDeletesItsObjects) {
  MustApply(*conn_, ConfigMap("web", "cfg", {{"a", "1"}}));
  MustApply(*conn_, Deployment("web", "api", 2, "500m", ""));
  env_.Advance(2'000);
  EXPECT_EQ(Pods("a").size(), 2u);
  ASSERT_TRUE(conn_->Delete(Key("", "Namespace", "", "web"), {}).ok());
  EXPECT_TRUE(conn_->Get(Key("", "ConfigMap", "web", "cfg"), {}).status().IsNotFound());
  EXPECT_TRUE(conn_->Get(Key("apps", "Deployment", "web", "api"), {}).status().IsNotFound());
  EXPECT_TRUE(Pods("a").empty());
  // Capacity is returned: a deployment filling the amd64 nodes schedules completely.
  MustApply(*conn_, Deployment("default", "fill", 2, "2", "", {{"kubernetes.io/arch", "amd64"}}));
  env_.Advance(2'000);
  EXPECT_EQ(MustGet(*conn_, Key("apps", "Deployment", "default", "fill"))["status"]["availableReplicas"], 2);
  EXPECT_TRUE(conn_->Delete(Key("", "ConfigMap", "web", "gone"), {}).ok());  // NotFound counts as success
}

// --- workloads and scheduling

TEST_F(SimObjectsTest, DeploymentPodsBecomeReadyAfterStartTime) {
  Json d = MustApply(*conn_, Deployment("web", "api", 3, "250m", "128Mi"));
  EXPECT_EQ(d["status"]["replicas"], 3);
  EXPECT_EQ(d["status"]["readyReplicas"], 0);
  EXPECT_EQ(d["status"]["availableReplicas"], 0);
  std::vector<Json> pods = Pods("a");
  ASSERT_EQ(pods.size(), 3u);
  for (const Json& p : pods) {
    EXPECT_EQ(p["namespace"], "web");
    EXPECT_EQ(p["name"].get<std::string>().rfind("api-", 0), 0u);
    EXPECT_EQ(p["status"]["phase"], "Pending");
    EXPECT_TRUE(p.contains("nodeName"));
  }
  env_.Advance(1'999);
  EXPECT_EQ(MustGet(*conn_, Key("apps", "Deployment", "web", "api"))["status"]["availableReplicas"], 0);
  env_.Advance(1);
  Json live = MustGet(*conn_, Key("apps", "Deployment", "web", "api"));
  EXPECT_EQ(live["status"]["availableReplicas"], 3);
  EXPECT_EQ(live["status"]["readyReplicas"], 3);
  EXPECT_EQ(live["status"]["updatedReplicas"], 3);
  EXPECT_EQ(live["status"]["unavailableReplicas"], 0);
  EXPECT_EQ(live["status"]["observedGeneration"], 1);
  EXPECT_EQ(live["status"]["conditions"][0]["type"], "Available");
  EXPECT_EQ(live["status"]["conditions"][0]["status"], "True");
  EXPECT_EQ(live["status"]["conditions"][1]["reason"], "NewReplicaSetAvailable");
  for (const Json& p : Pods("a")) EXPECT_EQ(p["status"]["phase"], "Running");

  // Reads do not change anything once everything has settled.
  std::string rv = live["metadata"]["resourceVersion"];
  env_.Advance(60'000);
  EXPECT_EQ(MustGet(*conn_, Key("apps", "Deployment", "web", "api"))["metadata"]["resourceVersion"], rv);

  // Template change: pods replaced, start again.
  Json changed = Deployment("web", "api", 3, "250m", "128Mi");
  changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26";
  Json after = MustApply(*conn_, changed);
  EXPECT_EQ(after["metadata"]["generation"], 2);
  EXPECT_EQ(after["status"]["availableReplicas"], 0);
  env_.Advance(2'000);
  EXPECT_EQ(MustGet(*conn_, Key("apps", "Deployment", "web", "api"))["status"]["availableReplicas"], 3);
  EXPECT_EQ(Pods("a").size(), 3u);

  // Scale down.
  MustApply(*conn_, Deployment("web", "api", 1, "250m", "128Mi"));
  EXPECT_EQ(Pods("a").size(), 1u);
}

TEST_F(SimObjectsTest, Arm64NodeSelectorGoesOnlyToArmNodes) {
  MustApply(*conn_, Deployment("web", "arm", 3, "100m", "", {{"kubernetes.io/arch", "arm64"}}));
  std::vector<Json> pods = Pods("a");
  ASSERT_EQ(pods.size(), 3u);
  for (const Json& p : pods) EXPECT_EQ(p["nodeName"], "a-arm-0");
}

TEST_F(SimObjectsTest, TooLargeRequestsStayPendingUnschedulable) {
  MustApply(*conn_, Deployment("web", "huge", 1, "3", ""));
  env_.Advance(10'000);
  std::vector<Json> pods = Pods("a");
  ASSERT_EQ(pods.size(), 1u);
  const Json& st = pods[0]["status"];
  EXPECT_EQ(st["phase"], "Pending");
  EXPECT_EQ(st["conditions"][0]["type"], "PodScheduled");
  EXPECT_EQ(st["conditions"][0]["status"], "False");
  EXPECT_EQ(st["conditions"][0]["reason"], "Unschedulable");
  EXPECT_EQ(st["conditions"][0]["message"], "0/3 nodes are available: 3 Insufficient cpu.");
  EXPECT_FALSE(pods[0].contains("nodeName"));
  Json d = MustGet(*conn_, Key("apps", "Deployment", "web", "huge"));
  EXPECT_EQ(d["status"]["availableReplicas"], 0);
  EXPECT_EQ(d["status"]["conditions"][0]["status"], "False");
}

TEST_F(SimObjectsTest, ProgressDeadlineIsExceededForStuckDeployments) {
  MustApply(*conn_, Deployment("web", "huge", 1, "3", ""));
  env_.Advance(599'000);
  Json d = MustGet(*conn_, Key("apps", "Deployment", "web", "huge"));
  EXPECT_EQ(d["status"]["conditions"][1]["reason"], "ReplicaSetUpdated");
  env_.Advance(1'000);
  d = MustGet(*conn_, Key("apps", "Deployment", "web", "huge"));
  EXPECT_EQ(d["status"]["conditions"][1]["status"], "False");
  EXPECT_EQ(d["status"]["conditions"][1]["reason"], "ProgressDeadlineExceeded");
}

TEST_F(SimObjectsTest, ScalingThePoolSchedulesPendingPods) {
  // 2 amd64 nodes with 2 vCPU each: three 1.5-CPU pods do not fit.
  MustApply(*conn_, Deployment("web", "api", 3, "1500m", "", {{"kubernetes.io/arch", "amd64"}}));
  env_.Advance(2'000);
  Json d = MustGet(*conn_, Key("apps", "Deployment", "web", "api"));
  EXPECT_EQ(d["status"]["availableReplicas"], 2);
  ClusterSpec spec = TestCluster("a", {Pool("amd", "c7.large.2", 3), Pool("arm", "c7.large.2", 1, "arm64")});
  ASSERT_TRUE(ApplyCluster(spec).ok());
  env_.Advance(3'000);  // the new node is ready: the pod is bound
  env_.Advance(2'000);  // and started
  d = MustGet(*conn_, Key("apps", "Deployment", "web", "api"));
  EXPECT_EQ(d["status"]["availableReplicas"], 3);
  // Scale the pool back down: the evicted pod is recreated and stays pending.
  spec.node_pools[0].count = 1;
  ASSERT_TRUE(ApplyCluster(spec).ok());
  d = MustGet(*conn_, Key("apps", "Deployment", "web", "api"));
  EXPECT_EQ(d["status"]["availableReplicas"], 1);
  EXPECT_EQ(d["status"]["replicas"], 3);
  int pending = 0;
  for (const Json& p : Pods("a")) pending += p["status"]["phase"] == "Pending" ? 1 : 0;
  EXPECT_EQ(pending, 2);
}

TEST_F(SimObjectsTest, StatefulSetAndDaemonSetPods) {
  Json sts = Deployment("web", "db", 2, "100m", "");
  sts["kind"] = "StatefulSet";
  sts["spec"].erase("strategy");
  MustApply(*conn_, sts);
  Json ds = Deployment("web", "agent", 0, "10m", "");
  ds["kind"] = "DaemonSet";
  ds["spec"].erase("replicas");
  MustApply(*conn_, ds);
  env_.Advance(2'000);
  Json s = MustGet(*conn_, Key("apps", "StatefulSet", "web", "db"));
  EXPECT_EQ(s["status"]["readyReplicas"], 2);
  EXPECT_EQ(s["status"]["currentReplicas"], 2);
  Json d = MustGet(*conn_, Key("apps", "DaemonSet", "web", "agent"));
  EXPECT_EQ(d["status"]["desiredNumberScheduled"], 3);
  EXPECT_EQ(d["status"]["numberReady"], 3);
  std::map<std::string, int> names;
  for (const Json& p : Pods("a")) names[p["name"]]++;
  EXPECT_EQ(names.count("db-0"), 1u);
  EXPECT_EQ(names.count("db-1"), 1u);
  // A new node gets a daemon pod.
  ASSERT_TRUE(ApplyCluster(TestCluster("a", {Pool("amd", "c7.large.2", 3), Pool("arm", "c7.large.2", 1, "arm64")})).ok());
  env_.Advance(5'000);
  d = MustGet(*conn_, Key("apps", "DaemonSet", "web", "agent"));
  EXPECT_EQ(d["status"]["desiredNumberScheduled"], 4);
  EXPECT_EQ(d["status"]["numberReady"], 4);
}

TEST_F(SimObjectsTest, PatchAndDeleteByKindCaseInsensitiveAndPlural) {
  MustApply(*conn_, Deployment("web", "api", 1, "100m", ""));
  auto world = SimWorld::Open(dir_.path(), &env_);
  ASSERT_TRUE(world.ok());
  ASSERT_TRUE((*world)->Patch("a", "deployments", "web/api", R"({"spec":{"replicas":3}})").ok());
  Json d = MustGet(*conn_, Key("apps", "Deployment", "web", "api"));
  EXPECT_EQ(d["spec"]["replicas"], 3);
  EXPECT_EQ(d["metadata"]["generation"], 2);
  EXPECT_EQ(Pods("a").size(), 3u);
  EXPECT_TRUE((*world)->Patch("a", "Deployment", "web/api", "[1]").code() == Code::kInvalid);
  EXPECT_TRUE((*world)->Patch("a", "Deployment", "web/nope", "{}").IsNotFound());
  ASSERT_TRUE((*world)->Delete("a", "DEPLOYMENT", "web/api").ok());
  EXPECT_TRUE(conn_->Get(Key("apps", "Deployment", "web", "api"), {}).status().IsNotFound());
  EXPECT_TRUE(Pods("a").empty());
  ASSERT_TRUE((*world)->Delete("a", "namespaces", "web").ok());
  EXPECT_TRUE(conn_->Get(Key("", "Namespace", "", "web"), {}).status().IsNotFound());
  // A converge apply after drift restores what Git says.
  MustApply(*conn_, Namespace("web"));
  EXPECT_TRUE(conn_->Get(Key("", "Namespace", "", "web"), {}).ok());
  auto list = (*world)->List();
  ASSERT_TRUE(list.ok());
  std::string table = (*world)->FormatList(*list);
  EXPECT_NE(table.find("CLUSTERS"), std::string::npos);
  EXPECT_NE(table.find("NAME   CLOUD      REGION      PHASE     VERSION   NODES"), std::string::npos) << table;
  EXPECT_NE(table.find("OBJECTS"), std::string::npos);
}

// --- faults

TEST_F(SimObjectsTest, FaultsAreSharedAcrossWorldsAndHealed) {
  auto world = SimWorld::Open(dir_.path(), &env_);
  ASSERT_TRUE(world.ok());
  ASSERT_TRUE((*world)->Fault("a", "outage").ok());
  // A second world (another process) and an existing connector see it.
  auto other = SimWorld::Open(dir_.path(), &env_);
  ASSERT_TRUE(other.ok());
  auto list = (*other)->List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)["clusters"][0]["faults"]["outage"], true);
  auto r = conn_->Get(Key("", "Namespace", "", "web"), {});
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_TRUE(r.status().retryable());
  EXPECT_EQ(r.status().message(), "cluster a: connection refused (simulated outage)");
  auto c = GetCluster("a");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)["status"]["message"], "API server unreachable");

  ASSERT_TRUE((*other)->Heal("a").ok());
  EXPECT_TRUE(conn_->Get(Key("", "Namespace", "", "web"), {}).ok());

  ASSERT_TRUE((*world)->Fault("a", "latency=250").ok());
  int64_t slept = env_.slept();
  EXPECT_TRUE(conn_->Get(Key("", "Namespace", "", "web"), {}).ok());
  EXPECT_EQ(env_.slept() - slept, 250);

  ASSERT_TRUE((*world)->Fault("a", "api-errors=0.5").ok());
  int failed = 0;
  for (int i = 0; i < 200; ++i) {
    auto g = conn_->Get(Key("", "Namespace", "", "web"), {});
    if (!g.ok()) {
      ++failed;
      EXPECT_EQ(g.status().message(), "cluster a: 500 Internal Server Error (simulated)");
      EXPECT_TRUE(g.status().retryable());
    }
  }
  EXPECT_GT(failed, 50);
  EXPECT_LT(failed, 150);
  ASSERT_TRUE((*world)->Heal("a").ok());
  slept = env_.slept();
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(conn_->Get(Key("", "Namespace", "", "web"), {}).ok());
  EXPECT_EQ(env_.slept(), slept);

  EXPECT_EQ((*world)->Fault("a", "api-errors=2").code(), Code::kInvalid);
  EXPECT_EQ((*world)->Fault("a", "meteor").code(), Code::kInvalid);
  EXPECT_TRUE((*world)->Fault("nope", "outage").IsNotFound());
}

TEST_F(SimObjectsTest, FaultSetByAnotherProcessIsSeen) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto world = SimWorld::Open(dir_.path(), Env::Default());
    _exit(world.ok() && (*world)->Fault("a", "outage").ok() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(conn_->Get(Key("", "Namespace", "", "web"), {}).status().code(), Code::kUnavailable);
}

TEST_F(SimObjectsTest, BarePodIsScheduledAndStarted) {
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "solo"}, {"namespace", "web"}}},
              {"spec",
               {{"nodeSelector", {{"kubernetes.io/arch", "arm64"}}},
                {"containers", {{{"name", "c"}, {"image", "busybox:1"}, {"resources", {{"requests", {{"cpu", "0.5"}}}}}}}}}}};
  Json live = MustApply(*conn_, pod);
  EXPECT_EQ(live["spec"]["nodeName"], "a-arm-0");
  EXPECT_EQ(live["status"]["phase"], "Pending");
  env_.Advance(2'000);
  live = MustGet(*conn_, Key("", "Pod", "web", "solo"));
  EXPECT_EQ(live["status"]["phase"], "Running");
  EXPECT_EQ(live["status"]["conditions"][1]["type"], "Ready");
  EXPECT_EQ(live["status"]["conditions"][1]["status"], "True");
}

TEST_F(SimObjectsTest, MalformedQuantityIsInvalid) {
  auto r = conn_->Apply(Deployment("web", "api", 1, "lots", ""), {});
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  EXPECT_NE(r.status().message().find("containers[0].resources.requests.cpu"), std::string::npos) << r.status().message();
  EXPECT_TRUE(conn_->Get(Key("apps", "Deployment", "web", "api"), {}).status().IsNotFound());
}

// The sim's object store refuses what a real API server refuses, with the validator `converge
// validate` uses (engine/k8s), and nothing of a refused object is stored.
TEST_F(SimObjectsTest, WritesAreValidatedAsTheApiServerDoes) {
  struct Bad {
    Json object;
    const char* field;
  };
  Json negative = Deployment("web", "neg", 1, "", "");
  negative["spec"]["replicas"] = -3;
  Json quoted = Deployment("web", "quoted", 1, "", "");
  quoted["spec"]["replicas"] = "3";
  Json huge = Deployment("web", "float", 1, "", "");
  huge["spec"]["replicas"] = 1e20;
  Json wrong_group = Deployment("web", "core", 1, "", "");
  wrong_group["apiVersion"] = "v1";
  Json bad_name = Deployment("web", "Café_Upper", 1, "", "");
  Json label = Deployment("web", "label", 1, "", "");
  label["metadata"]["labels"] = {{"tier", "front end"}};
  Json data = ConfigMap("web", "cfg", {{"port", 8080}});
  Json big = ConfigMap("web", "big", {{"blob", std::string(3 * 1024 * 1024, 'x')}});
  for (const Bad& b : {Bad{negative, "spec.replicas"}, Bad{quoted, "spec.replicas"}, Bad{huge, "spec.replicas"},
                       Bad{wrong_group, "apiVersion"}, Bad{bad_name, "metadata.name"},
                       Bad{label, "metadata.labels.tier"}, Bad{data, "data.port"}, Bad{big, "1048576"}}) {
    auto r = conn_->Apply(b.object, {});
    ASSERT_FALSE(r.ok()) << b.object.dump().substr(0, 200);
    EXPECT_EQ(r.status().code(), Code::kInvalid) << r.status().ToString();
    EXPECT_NE(r.status().message().find(b.field), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("is invalid (cluster a)"), std::string::npos) << r.status().message();
    ObjectKey key = KeyOf(b.object);
    if (key.group == "apps" || key.kind == "ConfigMap") {
      EXPECT_TRUE(conn_->Get(key, {}).status().IsNotFound());
    }
  }
  EXPECT_TRUE(Pods("a").empty());
}

TEST_F(SimObjectsTest, CustomResourceNeedsItsDefinitionAndTakesItsScope) {
  Json widget = {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w"}}}};
  auto r = conn_->Apply(widget, {});
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("serves no Widget in example.com/v1"), std::string::npos) << r.status().message();

  MustApply(*conn_, Json::parse(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
    "metadata":{"name":"widgets.example.com"},"spec":{"group":"example.com","scope":"Namespaced",
    "names":{"plural":"widgets","kind":"Widget"},"versions":[{"name":"v1","served":true,"storage":true}]}})"));
  Json live = MustApply(*conn_, widget);
  EXPECT_EQ(live["metadata"]["namespace"], "default");
  Json v2 = widget;
  v2["apiVersion"] = "example.com/v2";
  r = conn_->Apply(v2, {});
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
}

// Any replica count the API server accepts costs bounded work: at most 200 pods are created and
// the rest are counted as Pending, so the Deployment is never available.
TEST_F(SimObjectsTest, HugeReplicaCountsMaterializeABoundedNumberOfPods) {
  Json d = MustApply(*conn_, Deployment("web", "many", 2'000'000'000, "", ""));
  EXPECT_EQ(Pods("a").size(), 200u);
  EXPECT_EQ(d["status"]["replicas"], 2'000'000'000);
  env_.Advance(10'000);
  Json live = MustGet(*conn_, Key("apps", "Deployment", "web", "many"));
  EXPECT_EQ(live["status"]["readyReplicas"], 200);
  EXPECT_EQ(live["status"]["unavailableReplicas"], 2'000'000'000 - 200);
  EXPECT_EQ(live["status"]["conditions"][0]["status"], "False");
  EXPECT_NE(live["status"]["conditions"][1]["message"].get<std::string>().find("1999999800 more pods count as Pending"),
            std::string::npos)
      << live["status"].dump();
  MustApply(*conn_, Deployment("web", "many", 2, "", ""));
  EXPECT_EQ(Pods("a").size(), 2u);
  Json zero = MustApply(*conn_, Deployment("web", "many", 0, "", ""));
  EXPECT_EQ(Pods("a").size(), 0u);
  EXPECT_EQ(zero["status"]["replicas"], 0);
}

// --- concurrency

class SimConcurrencyTest : public SimTest, public ::testing::WithParamInterface<int> {};

TEST_P(SimConcurrencyTest, ClustersAppliedInParallel) {
  const int threads = GetParam();
  for (int i = 0; i < threads; ++i) {
    ASSERT_TRUE(ApplyCluster(TestCluster("c" + std::to_string(i), {Pool("p", "c7.xlarge.2", 2)})).ok());
  }
  env_.Advance(10'000);
  std::vector<std::thread> workers;
  std::vector<int> failures(threads, 0);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto conn = TryConnect("c" + std::to_string(t));
      if (!conn.ok()) {
        failures[t]++;
        return;
      }
      if (!(*conn)->Apply(Namespace("web"), {}).ok()) failures[t]++;
      for (int i = 0; i < 30; ++i) {
        if (!(*conn)->Apply(ConfigMap("web", "cm" + std::to_string(i), {{"i", std::to_string(i)}}), {}).ok()) failures[t]++;
      }
      if (!(*conn)->Apply(Deployment("web", "api", 2, "100m", ""), {}).ok()) failures[t]++;
    });
  }
  for (auto& w : workers) w.join();
  for (int t = 0; t < threads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  env_.Advance(2'000);
  for (int t = 0; t < threads; ++t) {
    auto conn = Connect("c" + std::to_string(t));
    auto rvs = conn->ResourceVersions({Key("", "ConfigMap", "web", "cm29")}, {});
    ASSERT_TRUE(rvs.ok());
    EXPECT_FALSE((*rvs)[0].empty());
    EXPECT_EQ(MustGet(*conn, Key("apps", "Deployment", "web", "api"))["status"]["availableReplicas"], 2);
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, SimConcurrencyTest, ::testing::Values(1, 2, 4));

}  // namespace
}  // namespace converge
