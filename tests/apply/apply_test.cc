// ExecutePlan against the real sim provider on a real SQLite file, with a fake clock: cluster
// readiness waits, retries with backoff, failure isolation per cluster, sync-wave health gates, and
// the same outcome at 1 and 4 worker threads.
#include "engine/apply/apply.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "providers/connect.h"
#include "providers/sim/sim_provider.h"
#include "providers/sim/sim_world.h"
#include "tests/testing/fake_provider.h"
#include "tests/testing/simulated_env.h"

namespace converge {
namespace {

class TempState {
 public:
  TempState() {
    char tmpl[] = "/tmp/converge-apply-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempState() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class Recorder : public InventoryRecorder, public ApplyObserver {
 public:
  explicit Recorder(Env* env = nullptr) : env_(env) {}
  Status BeforeActions(const std::vector<const Action*>& actions) override {
    for (const Action* a : actions) before.push_back(a->ref.ToString());
    return Status::Ok();
  }
  void ActionStarted(const Action& a) override {
    if (env_) started_at[a.ref.ToString()] = env_->NowMillis();
  }
  Status AfterAction(const Action& a, const Json* live) override {
    after.push_back(a.ref.ToString());
    if (live && a.type != ChangeType::kDelete) {
      EXPECT_TRUE(live->contains("metadata"));
    }
    return Status::Ok();
  }
  void Retrying(const Action&, const Status&, int, int64_t) override { retries++; }
  std::vector<std::string> before, after;
  std::map<std::string, int64_t> started_at;
  int retries = 0;

 private:
  Env* env_;
};

class ApplyTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    cloud_.name = "c1";
    cloud_.provider = "sim";
    cloud_.region = "r1";
    cloud_.regions = {"r1"};
    cloud_.config = std::make_shared<const Json>(
        Json{{"provider", "sim"}, {"region", "r1"}, {"simulation", {{"clusterCreateSeconds", 5}, {"podStartSeconds", 2}}}});
    auto p = NewSimCloudFactory()->Create(cloud_, Context());
    ASSERT_TRUE(p.ok()) << p.status().message();
    provider_ = std::move(p).value();
    ASSERT_TRUE(provider_->EnsureCloud({}).ok());
    fleet_.registry = &ProviderRegistry::Global();
    fleet_.context = Context();
    for (const char* name : {"a", "b"}) clusters_.push_back(MakeCluster(name));
    for (const ClusterSpec& c : clusters_) {
      fleet_.clusters[c.name] = &c;
      fleet_.provider_of_cluster[c.name] = provider_.get();
    }
    options_.parallelism = GetParam();
    options_.timeout_ms = 120'000;
  }

  ProviderContext Context() { return ProviderContext{&env_, state_.path()}; }

  Result<std::unique_ptr<ClusterConnector>> Connect(const std::string& cluster) {
    return ConnectToCluster(*provider_, ProviderRegistry::Global(), Context(), cluster, {});
  }

  static ClusterSpec MakeCluster(const std::string& name) {
    ClusterSpec c;
    c.name = name;
    c.cloud = "c1";
    c.version = "1.29";
    c.region = "r1";
    NodePoolSpec pool;
    pool.name = "general";
    pool.flavor = "c7.xlarge.2";
    pool.count = 2;
    c.node_pools = {pool};
    Json body = {{"apiVersion", kConvergeApiVersion},
                 {"kind", "Cluster"},
                 {"metadata", {{"name", name}}},
                 {"spec",
                  {{"cloud", "c1"},
                   {"version", "1.29"},
                   {"region", "r1"},
                   {"nodePools", {{{"name", "general"}, {"flavor", "c7.xlarge.2"}, {"count", 2}}}}}}};
    c.manifest.key = KeyOf(body);
    c.manifest.api_version = kConvergeApiVersion;
    c.manifest.body = std::make_shared<Json>(body);
    return c;
  }

  static Action Create(const std::string& cluster, Json body) {
    Action a;
    a.type = ChangeType::kCreate;
    a.ref = ObjectRef{cluster, KeyOf(body)};
    a.api_version = body["apiVersion"];
    if (body["metadata"].contains("annotations")) {
      a.wave = std::atoi(body["metadata"]["annotations"].value("converge.dev/sync-wave", "0").c_str());
    }
    a.desired = std::make_shared<Json>(std::move(body));
    return a;
  }

  static Json Namespace(const std::string& name) {
    return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
  }
  static Json ConfigMap(const std::string& name, int wave = 0) {
    Json j = {{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata", {{"name", name}, {"namespace", "app"}}},
              {"data", {{"k", "v"}}}};
    if (wave) j["metadata"]["annotations"] = {{"converge.dev/sync-wave", std::to_string(wave)}};
    return j;
  }
  static Json Deployment(const std::string& name, int replicas) {
    return Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":")" + name +
                       R"(","namespace":"app"},"spec":{"replicas":)" + std::to_string(replicas) +
                       R"(,"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x"}},)"
                       R"("spec":{"containers":[{"name":"x","image":"nginx","resources":{"requests":{"cpu":"100m"}}}]}}}})");
  }

  // Both clusters created, then in each: Namespace, a Deployment (wave 0), a ConfigMap (wave 1).
  Plan FullPlan() {
    Plan plan;
    for (const ClusterSpec& c : clusters_) {
      Action a;
      a.type = ChangeType::kCreate;
      a.ref = ObjectRef{"", c.manifest.key};
      a.api_version = kConvergeApiVersion;
      a.desired = c.manifest.body;
      plan.actions.push_back(a);
    }
    for (const ClusterSpec& c : clusters_) {
      plan.actions.push_back(Create(c.name, Namespace("app")));
      plan.actions.push_back(Create(c.name, Deployment("web", 2)));
      plan.actions.push_back(Create(c.name, ConfigMap("after-web", 1)));
    }
    return plan;
  }

  testing::SimulatedEnv env_;
  TempState state_;
  CloudSpec cloud_;
  std::unique_ptr<CloudProvider> provider_;
  std::vector<ClusterSpec> clusters_;
  FleetTargets fleet_;
  ApplyOptions options_;
};

TEST_P(ApplyTest, CreatesClustersThenObjectsWithinOneApply) {
  Recorder rec;
  int64_t start = env_.NowMillis();
  ApplyReport report = ExecutePlan(FullPlan(), fleet_, options_, &rec, &rec, &env_);
  ASSERT_TRUE(report.status.ok()) << report.status.message();
  EXPECT_EQ(report.succeeded, 8);
  EXPECT_EQ(report.failed, 0);
  EXPECT_EQ(rec.before.size(), 8u);
  EXPECT_EQ(rec.after.size(), 8u);
  // The objects had to wait for the simulated cluster creation.
  EXPECT_GE(env_.NowMillis() - start, 5'000);
  for (const char* c : {"a", "b"}) {
    auto conn = Connect(c);
    ASSERT_TRUE(conn.ok());
    auto cm = (*conn)->Get(ObjectKey{"", "ConfigMap", "app", "after-web"}, {});
    EXPECT_TRUE(cm.ok()) << cm.status().message();
  }
}

TEST_P(ApplyTest, WaveWaitsForThePreviousWaveToBeHealthy) {
  Recorder rec(&env_);
  ASSERT_TRUE(ExecutePlan(FullPlan(), fleet_, options_, &rec, &rec, &env_).status.ok());
  // The wave-1 ConfigMap was applied only once the wave-0 Deployment's pods were ready, which the
  // sim makes take pod_start_seconds (2 s) after the Deployment was created.
  int64_t web = rec.started_at.at("a: Deployment/app/web");
  int64_t cm = rec.started_at.at("a: ConfigMap/app/after-web");
  EXPECT_GE(cm - web, 2'000);
  auto conn = Connect("a");
  ASSERT_TRUE(conn.ok());
  auto deployment = (*conn)->Get(ObjectKey{"apps", "Deployment", "app", "web"}, {});
  ASSERT_TRUE(deployment.ok());
  EXPECT_EQ((*deployment)["status"].value("availableReplicas", 0), 2) << deployment->dump();
}

TEST_P(ApplyTest, WaitTimesOutWhenPodsCannotBeScheduled) {
  Recorder rec;
  Plan plan = FullPlan();
  plan.actions[3] = Create("a", Deployment("web", 500));  // far more than two nodes hold
  options_.timeout_ms = 30'000;
  options_.wait = true;
  ApplyReport report = ExecutePlan(plan, fleet_, options_, &rec, &rec, &env_);
  EXPECT_EQ(report.status.code(), Code::kTimeout) << report.status.message();
  EXPECT_NE(report.status.message().find("Deployment/app/web"), std::string::npos) << report.status.message();
}

TEST_P(ApplyTest, RetryableApiErrorsAreRetried) {
  setenv("CONVERGE_SIM_SEED", "7", 1);
  Recorder rec;
  // Create the clusters first, then break their APIs half of the time.
  Plan clusters_only;
  Plan full = FullPlan();
  clusters_only.actions = {full.actions[0], full.actions[1]};
  ASSERT_TRUE(ExecutePlan(clusters_only, fleet_, options_, &rec, &rec, &env_).status.ok());
  env_.Advance(10'000);
  auto world = SimWorld::Open(state_.path(), &env_);
  ASSERT_TRUE(world.ok());
  ASSERT_TRUE((*world)->Fault("a", "api-errors=0.8").ok());
  Plan objects;
  objects.actions.assign(full.actions.begin() + 2, full.actions.end());
  options_.max_attempts = 60;
  ApplyReport report = ExecutePlan(objects, fleet_, options_, &rec, &rec, &env_);
  EXPECT_TRUE(report.status.ok()) << report.status.message();
  EXPECT_GT(rec.retries, 0);
  unsetenv("CONVERGE_SIM_SEED");
}

TEST_P(ApplyTest, OutageFailsOneClusterAndSkipsItsRestOnly) {
  Recorder rec;
  Plan full = FullPlan();
  Plan clusters_only;
  clusters_only.actions = {full.actions[0], full.actions[1]};
  ASSERT_TRUE(ExecutePlan(clusters_only, fleet_, options_, &rec, &rec, &env_).status.ok());
  env_.Advance(10'000);
  auto world = SimWorld::Open(state_.path(), &env_);
  ASSERT_TRUE(world.ok());
  ASSERT_TRUE((*world)->Fault("b", "outage").ok());
  Plan objects;
  objects.actions.assign(full.actions.begin() + 2, full.actions.end());
  options_.max_attempts = 3;
  ApplyReport report = ExecutePlan(objects, fleet_, options_, &rec, &rec, &env_);
  EXPECT_FALSE(report.status.ok());
  EXPECT_EQ(report.succeeded, 3);  // everything on a
  EXPECT_EQ(report.failed, 1);     // the first action on b
  EXPECT_EQ(report.skipped, 2);    // the rest of b
  for (const ActionResult& r : report.results) {
    if (r.action.ref.cluster == "a") {
      EXPECT_EQ(r.outcome, ActionOutcome::kSucceeded);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, ApplyTest, ::testing::Values(1, 4),
                         [](const auto& info) { return std::to_string(info.param) + "threads"; });

// ExecutePlan through the in-memory fake: which provider calls it makes, and their deadlines.
class ApplyWithFakeProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    installed_ = std::make_unique<testing::ScopedRegistration>(fake_.Install(registry_));
    CloudSpec cloud;
    cloud.name = "c1";
    cloud.provider = "fake";
    auto p = registry_.CreateCloud(cloud, ProviderContext{&env_, ""});
    ASSERT_TRUE(p.ok()) << p.status().message();
    provider_ = std::move(p).value();
    cluster_.name = "a";
    cluster_.cloud = "c1";
    cluster_.version = "1.29";
    Json body = {{"apiVersion", kConvergeApiVersion}, {"kind", "Cluster"}, {"metadata", {{"name", "a"}}}};
    cluster_.manifest.key = KeyOf(body);
    cluster_.manifest.body = std::make_shared<Json>(body);
    fleet_.clusters["a"] = &cluster_;
    fleet_.provider_of_cluster["a"] = provider_.get();
    fleet_.registry = &registry_;
    fleet_.context = ProviderContext{&env_, ""};
    fake_.ClearCalls();
  }

  Action ClusterAction(ChangeType type) {
    Action a;
    a.type = type;
    a.ref = ObjectRef{"", cluster_.manifest.key};
    a.api_version = kConvergeApiVersion;
    a.desired = type == ChangeType::kDelete ? nullptr : cluster_.manifest.body;
    return a;
  }

  testing::SimulatedEnv env_;
  testing::FakeProvider fake_{"fake"};
  ProviderRegistry registry_;
  std::unique_ptr<testing::ScopedRegistration> installed_;
  std::unique_ptr<CloudProvider> provider_;
  ClusterSpec cluster_;
  FleetTargets fleet_;
  ApplyOptions options_;
};

TEST_F(ApplyWithFakeProviderTest, StartsTheClusterOperationThenAppliesWithDeadlines) {
  fake_.set_auto_complete(true);
  Plan plan;
  plan.actions.push_back(ClusterAction(ChangeType::kCreate));
  Action ns;
  ns.type = ChangeType::kCreate;
  ns.ref = ObjectRef{"a", ObjectKey{"", "Namespace", "", "app"}};
  ns.api_version = "v1";
  ns.desired = std::make_shared<Json>(Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "app"}}}});
  plan.actions.push_back(ns);
  options_.call_timeout_ms = 7'000;
  const int64_t start = env_.MonotonicMillis();
  ApplyReport report = ExecutePlan(plan, fleet_, options_, nullptr, nullptr, &env_);
  ASSERT_TRUE(report.status.ok()) << report.status.message();
  std::vector<std::string> methods;
  for (const testing::FakeCall& c : fake_.Calls()) {
    methods.push_back(c.method);
    if (c.method == "Connect") continue;  // ConnectorFactory::Connect takes no CallOptions
    EXPECT_EQ(c.deadline_ms, start + 7'000) << c.method;  // the fake clock did not move
  }
  EXPECT_EQ(methods, (std::vector<std::string>{"StartApplyCluster", "GetCluster", "GetCluster", "Endpoint", "Connect",
                                               "Apply"}));
  ASSERT_TRUE(fake_.Object("a", ObjectKey{"", "Namespace", "", "app"}).has_value());
}

TEST_F(ApplyWithFakeProviderTest, ClusterDeleteWaitsForItsOperation) {
  fake_.AddCluster("a");
  Plan plan;
  plan.actions.push_back(ClusterAction(ChangeType::kDelete));
  options_.timeout_ms = 1'000;
  ApplyReport report = ExecutePlan(plan, fleet_, options_, nullptr, nullptr, &env_);
  EXPECT_EQ(report.status.code(), Code::kTimeout) << report.status.message();
  EXPECT_NE(report.status.message().find("delete of cluster a"), std::string::npos) << report.status.message();
  EXPECT_EQ(fake_.CallCount("PollOperation"), 5);  // at 0, 250, 500, 750 and 1000 ms
  EXPECT_EQ(fake_.Phase("a"), "Deleting");

  fake_.CompleteAll();
  EXPECT_EQ(fake_.Phase("a"), "");
  fake_.set_auto_complete(true);
  fake_.AddCluster("a");
  report = ExecutePlan(plan, fleet_, options_, nullptr, nullptr, &env_);
  EXPECT_TRUE(report.status.ok()) << report.status.message();
  EXPECT_EQ(fake_.Phase("a"), "");
}

TEST(RetryWithBackoffTest, DoublesAndCapsOnTheFakeClock) {
  testing::SimulatedEnv env;
  ApplyOptions o;
  o.max_attempts = 6;
  o.backoff_initial_ms = 100;
  o.backoff_max_ms = 500;
  std::vector<int64_t> delays;
  int calls = 0;
  Status st = RetryWithBackoff(
      o, &env, [&] { return ++calls < 6 ? Status::Unavailable("down") : Status::Ok(); },
      [&](const Status&, int, int64_t d) { delays.push_back(d); });
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(delays, (std::vector<int64_t>{100, 200, 400, 500, 500}));
  EXPECT_EQ(env.slept(), 1700);
}

TEST(RetryWithBackoffTest, NonRetryableStopsAtOnce) {
  testing::SimulatedEnv env;
  int calls = 0;
  Status st = RetryWithBackoff(ApplyOptions{}, &env, [&] {
    ++calls;
    return Status::Invalid("bad");
  });
  EXPECT_EQ(st.code(), Code::kInvalid);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(env.slept(), 0);
}

TEST(RetryWithBackoffTest, GivesUpAfterMaxAttempts) {
  testing::SimulatedEnv env;
  ApplyOptions o;
  o.max_attempts = 3;
  int calls = 0;
  Status st = RetryWithBackoff(o, &env, [&] {
    ++calls;
    return Status::Unavailable("down");
  });
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace converge
