// ExecutePlan against the real sim provider on a real SQLite file, and against the in-memory fake,
// on simulated time: cluster readiness waits, retries with backoff, failure isolation (a failure
// skips only what depends on it, naming it), sync-wave health gates, interruption, the recording
// order, cloud operations, and the same outcome at 1 and 4 worker threads.
#include "engine/apply/apply.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <atomic>
#include <map>
#include <mutex>

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

// Records what ExecutePlan tells its observers, in order.
class Recorder : public ApplyObserver {
 public:
  explicit Recorder(Env* env = nullptr) : env_(env) {}
  Status BeforeActions(const std::vector<const Action*>& actions) override {
    for (const Action* a : actions) {
      before.push_back(a->ref.ToString());
      events.push_back("pending " + a->ref.ToString());
    }
    return Status::Ok();
  }
  void ActionStarted(const Action& a) override {
    events.push_back("start " + a.ref.ToString());
    if (env_) started_at[a.ref.ToString()] = env_->NowMillis();
  }
  Status AfterAction(const ActionResult& r, const Json* live) override {
    after.push_back(r.action.ref.ToString());
    outcomes[r.action.ref.ToString()] = r.outcome;
    events.push_back(std::string(ActionOutcomeName(r.outcome)) + " " + r.action.ref.ToString());
    if (r.outcome == ActionOutcome::kSucceeded && r.action.type != ChangeType::kDelete) {
      EXPECT_TRUE(live && live->contains("metadata")) << r.action.ref.ToString();
    } else {
      EXPECT_EQ(live, nullptr);
    }
    return Status::Ok();
  }
  Status OperationStarted(const Action& a, const Operation& op) override {
    events.push_back("operation " + op.id + " for " + a.ref.key.name);
    return Status::Ok();
  }
  void Retrying(const Action&, const Status&, int, int64_t) override { retries++; }
  void StepFailed(const StepFailure& f) override { failed_steps.push_back(f.step); }

  std::vector<std::string> before, after, events, failed_steps;
  std::map<std::string, int64_t> started_at;
  std::map<std::string, ActionOutcome> outcomes;
  int retries = 0;

 private:
  Env* env_;
};

// Connectors for FleetTargets::connect, one per cluster, made on first use.
class Connectors {
 public:
  Connectors(CloudProvider* provider, const ProviderRegistry* registry, ProviderContext ctx)
      : provider_(provider), registry_(registry), ctx_(std::move(ctx)) {}
  Result<ClusterConnector*> Get(const std::string& cluster, const CallOptions& options) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = conns_[cluster];
    if (!slot) {
      auto conn = ConnectToCluster(*provider_, *registry_, ctx_, cluster, options);
      if (!conn.ok()) return conn.status();
      slot = std::move(conn).value();
    }
    return slot.get();
  }

 private:
  CloudProvider* provider_;
  const ProviderRegistry* registry_;
  ProviderContext ctx_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<ClusterConnector>> conns_;
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
    connectors_ = std::make_unique<Connectors>(provider_.get(), &ProviderRegistry::Global(), Context());
    fleet_.connect = [this](const std::string& cluster, const CallOptions& o) { return connectors_->Get(cluster, o); };
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

  ApplyReport Run(const Plan& plan, Recorder* rec) { return ExecutePlan(plan, fleet_, options_, {rec}, &env_); }

  testing::SimulatedEnv env_;
  TempState state_;
  CloudSpec cloud_;
  std::unique_ptr<CloudProvider> provider_;
  std::unique_ptr<Connectors> connectors_;
  std::vector<ClusterSpec> clusters_;
  FleetTargets fleet_;
  ApplyOptions options_;
};

TEST_P(ApplyTest, CreatesClustersThenObjectsWithinOneApply) {
  Recorder rec;
  int64_t start = env_.NowMillis();
  ApplyReport report = Run(FullPlan(), &rec);
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
  ASSERT_TRUE(Run(FullPlan(), &rec).status.ok());
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
  ApplyReport report = Run(plan, &rec);
  EXPECT_EQ(report.status.code(), Code::kTimeout) << report.status.message();
  EXPECT_NE(report.status.message().find("Deployment/app/web"), std::string::npos) << report.status.message();
  // The wait that timed out is the failure, not the next wave's first action; that one is skipped
  // and says what it waited on. Cluster b is not affected.
  ASSERT_FALSE(report.failures.empty());
  EXPECT_EQ(report.failures.front().step, "sync wave 0 on cluster a to be healthy");
  EXPECT_EQ(rec.failed_steps.front(), "sync wave 0 on cluster a to be healthy");
  EXPECT_EQ(rec.outcomes.at("a: Deployment/app/web"), ActionOutcome::kSucceeded);
  EXPECT_EQ(rec.outcomes.at("a: ConfigMap/app/after-web"), ActionOutcome::kSkipped);
  for (const ActionResult& r : report.results) {
    if (r.action.ref.ToString() == "a: ConfigMap/app/after-web") {
      EXPECT_NE(r.status.message().find("waits on sync wave 0 on cluster a to be healthy"), std::string::npos)
          << r.status.message();
    }
  }
  EXPECT_EQ(rec.outcomes.at("b: ConfigMap/app/after-web"), ActionOutcome::kSucceeded);
}

TEST_P(ApplyTest, RetryableApiErrorsAreRetried) {
  setenv("CONVERGE_SIM_SEED", "7", 1);
  Recorder rec;
  // Create the clusters first, then break their APIs half of the time.
  Plan clusters_only;
  Plan full = FullPlan();
  clusters_only.actions = {full.actions[0], full.actions[1]};
  ASSERT_TRUE(Run(clusters_only, &rec).status.ok());
  env_.Advance(10'000);
  auto world = SimWorld::Open(state_.path(), &env_);
  ASSERT_TRUE(world.ok());
  ASSERT_TRUE((*world)->Fault("a", "api-errors=0.8").ok());
  Plan objects;
  objects.actions.assign(full.actions.begin() + 2, full.actions.end());
  options_.max_attempts = 60;
  ApplyReport report = Run(objects, &rec);
  EXPECT_TRUE(report.status.ok()) << report.status.message();
  EXPECT_GT(rec.retries, 0);
  unsetenv("CONVERGE_SIM_SEED");
}

TEST_P(ApplyTest, OutageFailsOneClusterAndSkipsItsRestOnly) {
  Recorder rec;
  Plan full = FullPlan();
  Plan clusters_only;
  clusters_only.actions = {full.actions[0], full.actions[1]};
  ASSERT_TRUE(Run(clusters_only, &rec).status.ok());
  env_.Advance(10'000);
  auto world = SimWorld::Open(state_.path(), &env_);
  ASSERT_TRUE(world.ok());
  ASSERT_TRUE((*world)->Fault("b", "outage").ok());
  Plan objects;
  objects.actions.assign(full.actions.begin() + 2, full.actions.end());
  options_.max_attempts = 3;
  ApplyReport report = Run(objects, &rec);
  EXPECT_FALSE(report.status.ok());
  EXPECT_EQ(report.succeeded, 3);  // everything on a
  EXPECT_EQ(report.failed, 1);     // the first action on b
  EXPECT_EQ(report.skipped, 2);    // what lives in b's Namespace
  for (const ActionResult& r : report.results) {
    if (r.action.ref.cluster == "a") {
      EXPECT_EQ(r.outcome, ActionOutcome::kSucceeded);
    } else if (r.outcome == ActionOutcome::kSkipped) {
      EXPECT_NE(r.status.message().find("waits on b: Namespace/app, which failed"), std::string::npos)
          << r.status.message();
    }
  }
}

TEST_P(ApplyTest, RowsArePendingBeforeAnyEffectOnTheirCluster) {
  Recorder rec;
  ASSERT_TRUE(Run(FullPlan(), &rec).status.ok());
  // Every object of a cluster was announced before the first of them started.
  for (const char* c : {"a", "b"}) {
    std::string prefix = std::string(c) + ": ";
    size_t last_pending = 0, first_start = rec.events.size();
    for (size_t i = 0; i < rec.events.size(); i++) {
      const std::string& e = rec.events[i];
      if (e.rfind("pending " + prefix, 0) == 0) last_pending = i;
      if (e.rfind("start " + prefix, 0) == 0) first_start = std::min(first_start, i);
    }
    EXPECT_LT(last_pending, first_start) << c;
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
    connectors_ = std::make_unique<Connectors>(provider_.get(), &registry_, ProviderContext{&env_, ""});
    fleet_.connect = [this](const std::string& cluster, const CallOptions& o) { return connectors_->Get(cluster, o); };
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
  std::unique_ptr<Connectors> connectors_;
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
  ApplyReport report = ExecutePlan(plan, fleet_, options_, {}, &env_);
  ASSERT_TRUE(report.status.ok()) << report.status.message();
  std::vector<std::string> methods;
  for (const testing::FakeCall& c : fake_.Calls()) {
    methods.push_back(c.method);
    if (c.method == "Connect") continue;  // ConnectorFactory::Connect takes no CallOptions
    EXPECT_EQ(c.deadline_ms, start + 7'000) << c.method;  // the fake clock did not move
  }
  EXPECT_EQ(methods, (std::vector<std::string>{"StartApplyCluster", "PollOperation", "GetCluster", "GetCluster",
                                               "Endpoint", "Connect", "Apply"}));
  ASSERT_TRUE(fake_.Object("a", ObjectKey{"", "Namespace", "", "app"}).has_value());
}

TEST_F(ApplyWithFakeProviderTest, ClusterDeleteWaitsForItsOperation) {
  fake_.AddCluster("a");
  Plan plan;
  plan.actions.push_back(ClusterAction(ChangeType::kDelete));
  options_.timeout_ms = 1'000;
  ApplyReport report = ExecutePlan(plan, fleet_, options_, {}, &env_);
  EXPECT_EQ(report.status.code(), Code::kTimeout) << report.status.message();
  EXPECT_NE(report.status.message().find("cluster a (delete operation"), std::string::npos) << report.status.message();
  EXPECT_EQ(fake_.CallCount("PollOperation"), 5);  // at 0, 250, 500, 750 and 1000 ms
  EXPECT_EQ(fake_.Phase("a"), "Deleting");

  fake_.CompleteAll();
  EXPECT_EQ(fake_.Phase("a"), "");
  fake_.set_auto_complete(true);
  fake_.AddCluster("a");
  report = ExecutePlan(plan, fleet_, options_, {}, &env_);
  EXPECT_TRUE(report.status.ok()) << report.status.message();
  EXPECT_EQ(fake_.Phase("a"), "");
}


namespace {
Action ObjectAction(const std::string& cluster, Json body, ChangeType type = ChangeType::kCreate) {
  Action a;
  a.type = type;
  a.ref = ObjectRef{cluster, KeyOf(body)};
  a.api_version = body.value("apiVersion", "");
  if (type != ChangeType::kDelete) a.desired = std::make_shared<Json>(std::move(body));
  return a;
}
Json NamespaceBody(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
}
Json ConfigMapBody(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"namespace", ns}}}, {"data", {{"k", "v"}}}};
}
}  // namespace

TEST_F(ApplyWithFakeProviderTest, AFailureSkipsOnlyWhatLivesInItsNamespace) {
  fake_.AddCluster("a");
  Plan plan;
  plan.actions = {ObjectAction("a", NamespaceBody("broken")), ObjectAction("a", NamespaceBody("fine")),
                  ObjectAction("a", ConfigMapBody("broken", "x")), ObjectAction("a", ConfigMapBody("fine", "y"))};
  fake_.FailNext("Apply", Status::Invalid("admission webhook denied the request"));  // the first Apply: Namespace broken
  Recorder rec;
  ApplyReport report = ExecutePlan(plan, fleet_, options_, {&rec}, &env_);
  EXPECT_EQ(report.succeeded, 2);
  EXPECT_EQ(report.failed, 1);
  EXPECT_EQ(report.skipped, 1);
  EXPECT_EQ(report.results[0].outcome, ActionOutcome::kFailed);
  EXPECT_EQ(report.results[2].outcome, ActionOutcome::kSkipped);
  EXPECT_EQ(report.results[2].status.message(),
            "skipped: waits on a: Namespace/broken, which failed: admission webhook denied the request");
  EXPECT_TRUE(fake_.Object("a", ObjectKey{"", "ConfigMap", "fine", "y"}).has_value());
  EXPECT_EQ(report.status.message(), "a: Namespace/broken: admission webhook denied the request");
  // Every action's end reached the observers, the skipped one included.
  EXPECT_EQ(rec.outcomes.size(), 4u);
}

TEST_F(ApplyWithFakeProviderTest, RetryableErrorsAreRetriedOnTimersWithBackoff) {
  fake_.AddCluster("a");
  Plan plan;
  plan.actions = {ObjectAction("a", NamespaceBody("app"))};
  fake_.FailNext("Apply", Status::Unavailable("503"), 3);
  options_.backoff_initial_ms = 100;
  Recorder rec;
  int64_t start = env_.MonotonicMillis();
  ApplyReport report = ExecutePlan(plan, fleet_, options_, {&rec}, &env_);
  ASSERT_TRUE(report.status.ok()) << report.status.message();
  EXPECT_EQ(rec.retries, 3);
  EXPECT_EQ(report.results[0].attempts, 4);
  EXPECT_EQ(env_.MonotonicMillis() - start, 100 + 200 + 400);  // backoff on the simulated clock
  EXPECT_EQ(env_.slept(), 0);                                   // timers, not sleeps
}

TEST_F(ApplyWithFakeProviderTest, AStopRequestStartsNothingNewAndRecordsWhatRan) {
  fake_.AddCluster("a");
  Plan plan;
  for (int i = 0; i < 5; i++) plan.actions.push_back(ObjectAction("a", ConfigMapBody("default", "c" + std::to_string(i))));
  std::atomic<bool> stop{false};
  options_.stop = &stop;
  struct StopAfterFirst : Recorder {
    std::atomic<bool>* stop;
    Status AfterAction(const ActionResult& r, const Json* live) override {
      if (r.outcome == ActionOutcome::kSucceeded) stop->store(true);  // as if SIGTERM came now
      return Recorder::AfterAction(r, live);
    }
  } rec;
  rec.stop = &stop;
  ApplyReport report = ExecutePlan(plan, fleet_, options_, {&rec}, &env_);
  EXPECT_TRUE(report.interrupted);
  EXPECT_EQ(report.succeeded, 1);
  EXPECT_EQ(report.not_run, 4);
  EXPECT_EQ(fake_.CallCount("Apply"), 1);
  EXPECT_NE(report.status.message().find("interrupted: 1 of 5 actions ran, 4 were not started"), std::string::npos)
      << report.status.message();
  EXPECT_EQ(rec.outcomes.size(), 5u);  // the run log hears of every action
  EXPECT_EQ(rec.outcomes.at("a: ConfigMap/default/c4"), ActionOutcome::kNotRun);
}

TEST_F(ApplyWithFakeProviderTest, OperationIdsAreRecordedAndEarlierOnesPolledFirst) {
  fake_.AddCluster("a");
  // A previous run started an update and died: its operation is still running.
  auto earlier = provider_->StartApplyCluster(cluster_, {});
  ASSERT_TRUE(earlier.ok()) << earlier.status().message();
  fleet_.unfinished_operations["a"] = {*earlier};
  fake_.set_auto_complete(true);
  fake_.CompleteOperation(earlier->id);
  fake_.ClearCalls();
  Plan plan;
  plan.actions.push_back(ClusterAction(ChangeType::kUpdate));
  struct Ops : Recorder {
    Status OperationFinished(const Operation& op, const Status& result) override {
      finished.push_back(op.id + (result.ok() ? " ok" : " failed"));
      return Status::Ok();
    }
    std::vector<std::string> finished;
  } rec;
  ApplyReport report = ExecutePlan(plan, fleet_, options_, {&rec}, &env_);
  ASSERT_TRUE(report.status.ok()) << report.status.message();
  std::vector<testing::FakeCall> calls = fake_.Calls();
  ASSERT_GE(calls.size(), 2u);
  EXPECT_EQ(calls[0].method, "PollOperation");  // the earlier operation, before anything new
  EXPECT_EQ(calls[0].key, earlier->id);
  EXPECT_EQ(calls[1].method, "StartApplyCluster");
  ASSERT_EQ(rec.finished.size(), 2u);
  EXPECT_EQ(rec.finished[0], earlier->id + " ok");
  bool recorded = false;
  for (const std::string& e : rec.events) recorded |= e.rfind("operation ", 0) == 0;
  EXPECT_TRUE(recorded);
}

TEST_F(ApplyWithFakeProviderTest, AFailingRecorderFailsTheActionBeforeItsEffect) {
  fake_.AddCluster("a");
  Plan plan;
  plan.actions = {ObjectAction("a", NamespaceBody("app"))};
  struct Broken : Recorder {
    Status BeforeActions(const std::vector<const Action*>&) override { return Status::Unavailable("disk full", false); }
  } rec;
  ApplyReport report = ExecutePlan(plan, fleet_, options_, {&rec}, &env_);
  EXPECT_FALSE(report.status.ok());
  EXPECT_NE(report.status.message().find("disk full"), std::string::npos) << report.status.message();
  EXPECT_EQ(fake_.CallCount("Apply"), 0);  // nothing applied that the store does not know of
  EXPECT_EQ(report.results[0].outcome, ActionOutcome::kSkipped);
}

}  // namespace
}  // namespace converge
