// The reconciler end to end below the CLI: a real Git repository, a real SQLite store, and the
// in-memory fake provider (or the real sim behind the fault injector, for crashes), on simulated
// time. Among them, the tests that fail when an invariant the docs promise is broken:
//   (a) a Secret is delivered with its real values, never the redacted form;
//   (b) inventory rows are pending before their object is applied: a crash after the apply
//       leaves a row, so an object Git then drops is still pruned;
//   (c) pending rows never take the no-op path;
//   (d) no plan takes the no-op path on an inventory that mixes two commits;
// and the lease: one sync per source at a time, different sources at once.
#include "engine/reconcile/reconciler.h"
#include "engine/source/identity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/base/secret_key.h"
#include "engine/diff/diff.h"
#include "engine/store/store.h"
#include "providers/provider.h"
#include "providers/sim/sim_provider.h"
#include "tests/testing/fake_provider.h"
#include "tests/testing/fault_provider.h"
#include "tests/testing/git_fixture.h"
#include "tests/testing/simulated_env.h"

namespace converge {
namespace {

using ::testing::HasSubstr;
using testing::FakeProvider;

constexpr const char* kCloud = R"(apiVersion: converge.dev/v1alpha1
kind: Cloud
metadata:
  name: c1
spec:
  provider: fake
  region: r1
)";

std::string ClusterYaml(const std::string& name, const std::string& cloud = "c1") {
  return "apiVersion: converge.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: " + name +
         "\n  labels: {tier: prod}\nspec:\n  cloud: " + cloud +
         "\n  version: \"1.29\"\n  nodePools:\n    - name: general\n      flavor: c7.xlarge.2\n      count: 2\n";
}

std::string ConfigMapYaml(const std::string& name, const std::string& value) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name +
         "\n  namespace: web\n  annotations:\n    converge.dev/cluster-selector: tier=prod\ndata:\n  value: \"" + value +
         "\"\n";
}

constexpr const char* kNamespace = R"(apiVersion: v1
kind: Namespace
metadata:
  name: web
  annotations:
    converge.dev/cluster-selector: tier=prod
)";

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    guard_ = std::make_unique<testing::ScopedRegistration>(fake_.Install(registry_));
    fake_.set_auto_complete(true);
    repo_.WriteFile("fleet/cloud.yaml", kCloud);
    repo_.WriteFile("fleet/alpha.yaml", ClusterYaml("alpha"));
    repo_.WriteFile("apps/ns.yaml", kNamespace);
    for (int i = 0; i < 3; i++) repo_.WriteFile("apps/cm" + std::to_string(i) + ".yaml", ConfigMapYaml("cm" + std::to_string(i), "v1"));
    first_ = repo_.Commit("fleet");
    OpenStore();
  }

  void OpenStore() {
    reconciler_.reset();
    store_.reset();
    auto store = Store::Open(state_ + "/converge.db", &env_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(store).value();
    reconciler_ = std::make_unique<Reconciler>(&env_, store_.get(), &registry_, state_);
  }

  SyncRequest Request(const std::string& ref = "") {
    SyncRequest r;
    r.source.url = repo_.path();
    r.source.ref = ref;
    r.apply.parallelism = 2;
    return r;
  }

  ApplyOutcome SyncOk(const SyncRequest& request) {
    Result<ApplyOutcome> out = reconciler_->Sync(request, {});
    EXPECT_TRUE(out.ok()) << out.status().message();
    if (!out.ok()) return ApplyOutcome{};
    EXPECT_TRUE(out->status.ok()) << out->status.message();
    return std::move(out).value();
  }

  PlannedSync PlanOk(const SyncRequest& request) {
    Result<PlannedSync> p = reconciler_->ComputePlan(request);
    EXPECT_TRUE(p.ok()) << p.status().message();
    return p.ok() ? std::move(p).value() : PlannedSync{};
  }

  std::optional<Json> Live(const std::string& name, const std::string& kind = "ConfigMap") {
    return fake_.Object("alpha", ObjectKey{"", kind, "web", name});
  }

  testing::TempDir tmp_;
  std::string state_ = tmp_.Join("state");
  testing::GitRepo repo_ = testing::GitRepo::Init(tmp_.Join("repo"));
  std::string first_;
  testing::SimulatedEnv env_;
  ProviderRegistry registry_;
  FakeProvider fake_{"fake"};
  std::unique_ptr<testing::ScopedRegistration> guard_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Reconciler> reconciler_;
};

TEST_F(ReconcilerTest, SyncCreatesEverythingThenANoOpCostsOneCheckPerCluster) {
  ApplyOutcome out = SyncOk(Request());
  EXPECT_EQ(out.report.succeeded, 5);  // the Cluster, the Namespace, three ConfigMaps
  ASSERT_TRUE(Live("cm0").has_value());
  EXPECT_EQ((*Live("cm0"))["data"]["value"], "v1");

  // The first plan after the apply compares every object once and records the cluster's marker.
  PlannedSync settle = PlanOk(Request());
  EXPECT_TRUE(settle.plan.empty());
  EXPECT_TRUE(settle.fast_path);
  // From then on the cluster is checked with one call, whatever it holds.
  fake_.ClearCalls();
  PlannedSync noop = PlanOk(Request());
  EXPECT_TRUE(noop.plan.empty());
  EXPECT_TRUE(noop.fast_path);
  EXPECT_EQ(noop.plan.summary.unchanged, 5);
  EXPECT_EQ(fake_.CallCount("ChangeMarker"), 1);
  EXPECT_EQ(fake_.CallCount("ResourceVersions"), 0);
  EXPECT_EQ(fake_.CallCount("GetMany"), 0);
}

TEST_F(ReconcilerTest, DriftIsPlannedAsOneUpdateAndCorrected) {
  SyncOk(Request());
  PlanOk(Request());
  Json drifted = *Live("cm1");
  drifted["data"]["value"] = "changed by hand";
  fake_.PutObject("alpha", drifted);
  PlannedSync plan = PlanOk(Request());
  ASSERT_EQ(plan.plan.actions.size(), 1u);
  EXPECT_EQ(plan.plan.actions[0].ref.key.name, "cm1");
  EXPECT_EQ(plan.plan.actions[0].type, ChangeType::kUpdate);
  EXPECT_THAT(plan.plan.actions[0].diff, HasSubstr("changed by hand"));
  SyncOk(Request());
  EXPECT_EQ((*Live("cm1"))["data"]["value"], "v1");
  EXPECT_TRUE(PlanOk(Request()).plan.empty());
}

TEST_F(ReconcilerTest, ASecretIsDeliveredWithItsRealValues) {  // (a)
  repo_.WriteFile("apps/secret.yaml", R"(apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: web
  annotations:
    converge.dev/cluster-selector: tier=prod
data:
  password: c3VwZXItc2VjcmV0
)");
  repo_.Commit("secret");
  SyncOk(Request());
  auto live = Live("db", "Secret");
  ASSERT_TRUE(live.has_value());
  EXPECT_EQ((*live)["data"]["password"], "c3VwZXItc2VjcmV0");
  // The inventory keeps it redacted...
  auto rows = store_->inventory()->Load(0);
  ASSERT_TRUE(rows.ok());
  for (const InventoryEntry& e : *rows) EXPECT_EQ(e.last_applied.find("c3VwZXItc2VjcmV0"), std::string::npos);
  // ...so correcting drift of a Secret reads it from Git, on the same commit.
  Json drifted = *live;
  drifted["data"]["password"] = "d3Jvbmc=";
  fake_.PutObject("alpha", drifted);
  PlannedSync plan = PlanOk(Request());
  ASSERT_EQ(plan.plan.actions.size(), 1u);
  EXPECT_FALSE(plan.fast_path);
  EXPECT_EQ(plan.plan.actions[0].diff.find("c3VwZXItc2VjcmV0"), std::string::npos);  // values never in a diff
  SyncOk(Request());
  EXPECT_EQ((*Live("db", "Secret"))["data"]["password"], "c3VwZXItc2VjcmV0");
  // And a Secret that holds the redacted form (as if it had been delivered so) is corrected too.
  drifted["data"]["password"] = RedactSecret(*live, SecretKey::Ephemeral(&env_))["data"]["password"];
  fake_.PutObject("alpha", drifted);
  SyncOk(Request());
  EXPECT_EQ((*Live("db", "Secret"))["data"]["password"], "c3VwZXItc2VjcmV0");
}

TEST_F(ReconcilerTest, PendingRowsNeverTakeTheNoOpPath) {  // (c)
  SyncOk(Request());
  ASSERT_TRUE(PlanOk(Request()).fast_path);
  // A row left pending (by a crash between recording it and learning the result) while the
  // commit is still the one last applied.
  Result<SourceRecord> source = store_->sources()->Upsert(IdentifySource(repo_.path(), "")->url, "", "");
  ASSERT_TRUE(source.ok());
  InventoryBatch mark;
  mark.pending.push_back(PendingMark{source->id, ObjectRef{"alpha", ObjectKey{"", "ConfigMap", "web", "cm2"}}, "v1"});
  ASSERT_TRUE(store_->inventory()->Write(mark).ok());
  PlannedSync plan = PlanOk(Request());
  EXPECT_FALSE(plan.fast_path);
  EXPECT_TRUE(plan.plan.empty());
  ASSERT_EQ(plan.adopt.size(), 1u);  // re-checked, and recorded again by the next apply
  EXPECT_EQ(plan.adopt[0].ref.key.name, "cm2");
}

TEST_F(ReconcilerTest, AnInventoryMixingTwoCommitsNeverTakesTheNoOpPath) {  // (d)
  repo_.WriteFile("fleet/beta.yaml", ClusterYaml("beta"));
  repo_.Commit("second cluster");
  SyncOk(Request());
  PlanOk(Request());
  const std::string before = repo_.Head();
  repo_.WriteFile("apps/cm0.yaml", ConfigMapYaml("cm0", "v2"));
  repo_.Commit("change cm0 everywhere");
  // The new commit lands on alpha; beta fails before anything is recorded on it (no pending
  // rows), so nothing but the cleared "last applied commit" says the inventory is now mixed.
  fake_.SetPhase("beta", "Failed");
  Result<ApplyOutcome> failed = reconciler_->Sync(Request(), {});
  ASSERT_TRUE(failed.ok()) << failed.status().message();
  ASSERT_FALSE(failed->status.ok());
  EXPECT_EQ((*Live("cm0"))["data"]["value"], "v2");
  fake_.SetPhase("beta", "Running");
  // The branch goes back to the commit last applied completely (a revert, a force-push): planning
  // it must see that alpha moved on, and put it back.
  repo_.Git("reset -q --hard " + before);
  PlannedSync back = PlanOk(Request());
  EXPECT_EQ(back.commit, before);
  EXPECT_FALSE(back.fast_path);
  ASSERT_EQ(back.plan.actions.size(), 1u);
  EXPECT_EQ(back.plan.actions[0].ref.ToString(), "alpha: ConfigMap/web/cm0");
  EXPECT_EQ(back.plan.actions[0].type, ChangeType::kUpdate);
}

TEST_F(ReconcilerTest, OneSyncPerSourceAtATime) {
  Result<SourceRecord> source = store_->sources()->Upsert(IdentifySource(repo_.path(), "")->url, "", "");
  ASSERT_TRUE(source.ok());
  // Another live converge (this test process stands in for it) holds the source.
  LeaseOwner other{"other-converge", "elsewhere", getpid()};
  ASSERT_TRUE(store_->sources()->AcquireLease(source->id, other, 60'000, env_.NowMillis()).ok());
  Result<ApplyOutcome> refused = reconciler_->Sync(Request(), {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kConflict);
  EXPECT_THAT(refused.status().message(), HasSubstr(std::to_string(getpid())));
  EXPECT_EQ(fake_.CallCount("Apply"), 0);
  // A plan meanwhile is read-only, and fine.
  EXPECT_TRUE(reconciler_->ComputePlan(Request()).ok());
  // Once the lease expires, the next sync takes it.
  env_.Advance(61'000);
  SyncOk(Request());
}

// One owner per object, when two sources race: the plan of the second saw the object free, the
// first then took it; applying the stale plan is stopped by the store before the object is touched.
TEST_F(ReconcilerTest, AnObjectAnotherSourceTookAfterThePlanIsNotApplied) {
  SyncOk(Request());
  testing::GitRepo apps = testing::GitRepo::Init(tmp_.Join("apps"));
  apps.WriteFile("late.yaml", ConfigMapYaml("late", "from apps"));
  apps.Commit("apps");
  SyncRequest second = Request();
  second.source.url = apps.path();
  PlannedSync stale = PlanOk(second);
  ASSERT_EQ(stale.plan.actions.size(), 1u) << "placed onto the first source's cluster";
  EXPECT_EQ(stale.plan.actions[0].ref.ToString(), "alpha: ConfigMap/web/late");

  repo_.WriteFile("apps/late.yaml", ConfigMapYaml("late", "from fleet"));
  repo_.Commit("late");
  SyncOk(Request());
  const int applies = fake_.CallCount("Apply");
  Result<ApplyOutcome> out = reconciler_->Apply(std::move(stale), second.apply, {});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_FALSE(out->status.ok());
  EXPECT_THAT(out->status.message(), HasSubstr("another source started managing alpha: ConfigMap/web/late"));
  EXPECT_EQ(fake_.CallCount("Apply"), applies) << "nothing of the stale plan was applied";
  EXPECT_EQ((*Live("late"))["data"]["value"], "from fleet");
  // A fresh plan says who owns it.
  Result<PlannedSync> refused = reconciler_->ComputePlan(second);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kConflict);
  EXPECT_THAT(refused.status().message(), HasSubstr("late.yaml:1: alpha: ConfigMap/web/late is managed by source 1"));
}

TEST_F(ReconcilerTest, ALeaseOfADeadProcessOnThisHostIsTakenOver) {
  Result<SourceRecord> source = store_->sources()->Upsert(IdentifySource(repo_.path(), "")->url, "", "");
  ASSERT_TRUE(source.ok());
  pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  waitpid(child, nullptr, 0);
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  LeaseOwner dead{"killed-converge", host, child};
  ASSERT_TRUE(store_->sources()->AcquireLease(source->id, dead, 600'000, env_.NowMillis()).ok());
  SyncOk(Request());  // no waiting for the expiry: the holder is gone
}



// Delta reads: a commit on top of one applied completely reads only the files that changed.
class DeltaTest : public ReconcilerTest {
 protected:
  void SetUp() override {
    ReconcilerTest::SetUp();
    SyncOk(Request());
    PlanOk(Request());  // records the markers
  }
};

TEST_F(DeltaTest, AOneFileChangeIsPlannedFromThatFileAlone) {
  repo_.WriteFile("apps/cm1.yaml", ConfigMapYaml("cm1", "v2"));
  repo_.Commit("one change");
  fake_.ClearCalls();
  PlannedSync plan = PlanOk(Request());
  EXPECT_TRUE(plan.delta_read);
  ASSERT_EQ(plan.plan.actions.size(), 1u);
  EXPECT_EQ(plan.plan.actions[0].ref.ToString(), "alpha: ConfigMap/web/cm1");
  EXPECT_EQ(plan.plan.summary.unchanged, 4);  // the Cluster, the Namespace, cm0, cm2
  EXPECT_EQ(fake_.CallCount("ResourceVersions"), 0);  // the marker vouched for the versions
  SyncOk(Request());
  EXPECT_EQ((*Live("cm1"))["data"]["value"], "v2");
  EXPECT_TRUE(PlanOk(Request()).plan.empty());
}

TEST_F(DeltaTest, DependsOnIsCheckedAgainstUnchangedFilesToo) {
  auto with_dep = [](const std::string& dep) {
    return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm1\n  namespace: web\n  annotations:\n"
           "    converge.dev/cluster-selector: tier=prod\n    converge.dev/depends-on: " + dep + "\ndata:\n  value: v3\n";
  };
  repo_.WriteFile("apps/cm1.yaml", with_dep("ConfigMap/web/cm0"));  // cm0's file is not read
  repo_.Commit("depends on an unchanged file's object");
  PlannedSync plan = PlanOk(Request());
  EXPECT_TRUE(plan.delta_read);
  ASSERT_EQ(plan.plan.actions.size(), 1u);
  repo_.WriteFile("apps/cm1.yaml", with_dep("ConfigMap/web/cm9"));
  repo_.Commit("a typo");
  Result<PlannedSync> refused = reconciler_->ComputePlan(Request());
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("names ConfigMap/web/cm9, which is not declared for cluster alpha"));
}

TEST_F(DeltaTest, AFileThatIsGoneHasItsObjectsPruned) {
  repo_.RemoveFile("apps/cm2.yaml");
  repo_.Commit("drop cm2");
  PlannedSync plan = PlanOk(Request());
  EXPECT_TRUE(plan.delta_read);
  ASSERT_EQ(plan.plan.actions.size(), 1u);
  EXPECT_EQ(plan.plan.actions[0].type, ChangeType::kDelete);
  EXPECT_EQ(plan.plan.actions[0].ref.key.name, "cm2");
  SyncOk(Request());
  EXPECT_FALSE(Live("cm2").has_value());
}

TEST_F(DeltaTest, AnObjectMovedToAnotherFileIsUnchangedAndFoundThereLater) {
  repo_.RemoveFile("apps/cm0.yaml");
  repo_.WriteFile("apps/moved.yaml", ConfigMapYaml("cm0", "v1"));
  repo_.Commit("move cm0");
  PlannedSync moved = PlanOk(Request());
  EXPECT_TRUE(moved.delta_read);
  EXPECT_TRUE(moved.plan.empty());
  SyncOk(Request());  // records that moved.yaml declares it now
  repo_.WriteFile("apps/moved.yaml", ConfigMapYaml("cm0", "v3"));
  repo_.Commit("change it where it is now");
  PlannedSync plan = PlanOk(Request());
  EXPECT_TRUE(plan.delta_read);
  ASSERT_EQ(plan.plan.actions.size(), 1u);
  EXPECT_EQ(plan.plan.actions[0].ref.key.name, "cm0");
  EXPECT_THAT(plan.plan.actions[0].source_file, HasSubstr("apps/moved.yaml"));
}

TEST_F(DeltaTest, ANewFileDefiningAnExistingObjectAgainIsRefused) {
  repo_.WriteFile("apps/copy.yaml", ConfigMapYaml("cm1", "v9"));
  repo_.Commit("a second cm1");
  Result<PlannedSync> plan = reconciler_->ComputePlan(Request());
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), Code::kInvalid);
  EXPECT_THAT(plan.status().message(), HasSubstr("ConfigMap/web/cm1 is defined twice"));
  EXPECT_THAT(plan.status().message(), HasSubstr("apps/copy.yaml"));
  EXPECT_THAT(plan.status().message(), HasSubstr("apps/cm1.yaml"));
}

TEST_F(DeltaTest, DriftInAnUnchangedFileIsStillFound) {
  Json drifted = *Live("cm2");
  drifted["data"]["value"] = "by hand";
  fake_.PutObject("alpha", drifted);
  repo_.WriteFile("apps/cm1.yaml", ConfigMapYaml("cm1", "v2"));
  repo_.Commit("one change");
  PlannedSync plan = PlanOk(Request());
  EXPECT_TRUE(plan.delta_read);
  ASSERT_EQ(plan.plan.actions.size(), 2u);
  std::set<std::string> names;
  for (const Action& a : plan.plan.actions) names.insert(a.ref.key.name);
  EXPECT_EQ(names, (std::set<std::string>{"cm1", "cm2"}));
  SyncOk(Request());
  EXPECT_EQ((*Live("cm2"))["data"]["value"], "v1");  // put back from its (unread) file
}

TEST_F(DeltaTest, AClusterLabelChangeReadsEverything) {
  repo_.WriteFile("fleet/alpha.yaml", std::string(ClusterYaml("alpha")).replace(ClusterYaml("alpha").find("tier: prod"), 10, "tier: dev"));
  repo_.Commit("alpha is dev now");
  PlannedSync plan = PlanOk(Request());
  EXPECT_FALSE(plan.delta_read);
  int deletes = 0;
  for (const Action& a : plan.plan.actions) deletes += a.type == ChangeType::kDelete;
  EXPECT_EQ(deletes, 4);  // nothing selects alpha any more: the Namespace and the ConfigMaps go
}

// (b) with the real sim (its world survives the process) behind the fault injector: the child
// process dies right after the sim applied an object, before converge learned the result.
TEST(CrashTest, AnObjectAppliedJustBeforeACrashIsPrunedOnceGitDropsIt) {
  testing::TempDir tmp;
  std::string state = tmp.Join("state");
  testing::GitRepo repo = testing::GitRepo::Init(tmp.Join("repo"));
  repo.WriteFile("cloud.yaml", R"(apiVersion: converge.dev/v1alpha1
kind: Cloud
metadata:
  name: c1
spec:
  provider: sim
  region: r1
  simulation: {clusterCreateSeconds: 0, podStartSeconds: 0, upgradeStepSeconds: 0, scaleSeconds: 0}
)");
  repo.WriteFile("alpha.yaml", ClusterYaml("alpha"));
  repo.WriteFile("ns.yaml", kNamespace);
  for (int i = 0; i < 4; i++) repo.WriteFile("cm" + std::to_string(i) + ".yaml", ConfigMapYaml("cm" + std::to_string(i), "v1"));
  repo.Commit("fleet");

  auto sync = [&](bool crash) -> Status {
    testing::SimulatedEnv env;
    ProviderRegistry registry;
    auto faults = testing::FaultInjector::Create();
    auto guard = faults->Install(registry, NewSimCloudFactory(), NewSimConnectorFactory());
    // Applies 1, 2, 3 are the Namespace, cm0 and cm1: die just after the sim applied cm1.
    if (crash) faults->AddRule({"Apply", 2, 1, Status::Ok(), 42, testing::FaultTiming::kAfterCall});
    auto store = Store::Open(state + "/converge.db", &env);
    if (!store.ok()) return store.status();
    Reconciler r(&env, store->get(), &registry, state);
    SyncRequest req;
    req.source.url = repo.path();
    req.apply.parallelism = 1;
    Result<ApplyOutcome> out = r.Sync(req, {});
    return out.ok() ? out->status : out.status();
  };
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Status st = sync(/*crash=*/true);
    _exit(st.ok() ? 0 : 1);  // not reached when the fault hits
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 42) << "the fault did not hit";

  testing::SimulatedEnv env;
  {
    auto store = Store::Open(state + "/converge.db", &env);
    ASSERT_TRUE(store.ok());
    auto rows = (*store)->inventory()->Load(0);
    ASSERT_TRUE(rows.ok());
    bool recorded = false;
    for (const InventoryEntry& e : *rows) recorded |= e.ref.key.name == "cm1";
    EXPECT_TRUE(recorded) << "cm1 exists live but converge has no row for it";
  }
  // Git drops cm1 before converge ever saw its apply finish: it is still converge's to prune.
  repo.RemoveFile("cm1.yaml");
  repo.Commit("drop cm1");
  ASSERT_TRUE(sync(/*crash=*/false).ok());
  ProviderRegistry registry;
  auto guard = testing::FaultInjector::Create()->Install(registry, NewSimCloudFactory(), NewSimConnectorFactory());
  CloudSpec cloud;
  cloud.name = "c1";
  cloud.provider = "sim";
  cloud.region = "r1";
  cloud.regions = {"r1"};
  auto provider = registry.CreateCloud(cloud, ProviderContext{&env, state});
  ASSERT_TRUE(provider.ok()) << provider.status().message();
  auto endpoint = (*provider)->Endpoint("alpha", {});
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().message();
  auto conn = registry.Connect(*endpoint, ProviderContext{&env, state});
  ASSERT_TRUE(conn.ok());
  EXPECT_TRUE((*conn)->Get(ObjectKey{"", "ConfigMap", "web", "cm1"}, {}).status().IsNotFound());
  EXPECT_TRUE((*conn)->Get(ObjectKey{"", "ConfigMap", "web", "cm2"}, {}).ok());
}

class TwoSourcesTest : public ::testing::TestWithParam<int> {};

TEST_P(TwoSourcesTest, SyncInOneProcessAtOnce) {
  testing::TempDir tmp;
  testing::SimulatedEnv env;
  ProviderRegistry registry;
  FakeProvider fake("fake");
  fake.set_auto_complete(true);
  auto guard = fake.Install(registry);
  // An infrastructure repository owns the Cloud and two Clusters; each app repo places onto one.
  std::vector<testing::GitRepo> repos;
  for (const char* name : {"team-a", "team-b"}) {
    testing::GitRepo repo = testing::GitRepo::Init(tmp.Join(name));
    repo.WriteFile("cloud.yaml", std::string(kCloud).replace(std::string(kCloud).find("c1"), 2, std::string("c-") + name));
    repo.WriteFile("cluster.yaml", ClusterYaml(std::string("k-") + name, std::string("c-") + name));
    repo.WriteFile("ns.yaml", kNamespace);
    for (int i = 0; i < 20; i++) repo.WriteFile("cm" + std::to_string(i) + ".yaml", ConfigMapYaml("cm" + std::to_string(i), name));
    repo.Commit("fleet");
    repos.push_back(repo);
  }
  std::string state = tmp.Join("state");
  std::vector<Status> results(2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; i++) {
    threads.emplace_back([&, i] {
      auto store = Store::Open(state + "/converge.db", &env);  // each its own connection
      if (!store.ok()) {
        results[i] = store.status();
        return;
      }
      Reconciler r(&env, store->get(), &registry, state);
      SyncRequest req;
      req.source.url = repos[i].path();
      req.apply.parallelism = GetParam();
      Result<ApplyOutcome> out = r.Sync(req, {});
      results[i] = out.ok() ? out->status : out.status();
    });
  }
  for (std::thread& t : threads) t.join();
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(fake.ObjectCount("k-team-a"), 21u);
  EXPECT_EQ(fake.ObjectCount("k-team-b"), 21u);
}

INSTANTIATE_TEST_SUITE_P(Threads, TwoSourcesTest, ::testing::Values(1, 4),
                         [](const auto& info) { return std::to_string(info.param) + "threads"; });

}  // namespace
}  // namespace converge
