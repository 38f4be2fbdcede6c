// BuildApplyGraph: which steps a plan becomes and which edges join them (apply_graph.h states the
// rules; each test breaks if one rule is dropped).
#include "engine/apply/apply_graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace converge::apply_internal {
namespace {

using ::testing::HasSubstr;

Action Make(ChangeType type, const std::string& cluster, Json body, int wave = 0) {
  Action a;
  a.type = type;
  a.ref = ObjectRef{cluster, KeyOf(body)};
  a.api_version = body.value("apiVersion", "");
  a.wave = wave;
  if (type != ChangeType::kDelete) a.desired = std::make_shared<Json>(std::move(body));
  return a;
}
Json Ns(const std::string& name) { return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}}; }
Json Cm(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"namespace", ns}}}};
}
Json Deploy(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", {{"name", name}, {"namespace", ns}}}};
}
Json Crd(const std::string& group, const std::string& kind) {
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", "things." + group}}},
          {"spec", {{"group", group}, {"names", {{"kind", kind}, {"plural", "things"}}}}}};
}
Json Custom(const std::string& group, const std::string& kind, const std::string& ns, const std::string& name) {
  return {{"apiVersion", group + "/v1"}, {"kind", kind}, {"metadata", {{"name", name}, {"namespace", ns}}}};
}
Json ClusterBody(const std::string& name) {
  return {{"apiVersion", kConvergeApiVersion}, {"kind", "Cluster"}, {"metadata", {{"name", name}}}};
}

class ApplyGraphTest : public ::testing::Test {
 protected:
  ApplyGraph Build() { return BuildApplyGraph(plan_, fleet_, options_); }
  // The step whose end is action `i`'s end.
  dag::StepId End(const ApplyGraph& g, int i) { return g.action_end[static_cast<size_t>(i)]; }
  static bool Has(const ApplyGraph& g, dag::StepId step, dag::StepId prerequisite, dag::EdgeKind kind) {
    for (const dag::Edge& e : g.graph.prerequisites(step))
      if (e.other == prerequisite && e.kind == kind) return true;
    return false;
  }
  static bool Needs(const ApplyGraph& g, dag::StepId step, dag::StepId prerequisite) {
    return Has(g, step, prerequisite, dag::EdgeKind::kNeeds);
  }
  // Whether `step` (transitively, over any edge) comes after `before`.
  static bool ComesAfter(const ApplyGraph& g, dag::StepId step, dag::StepId before) {
    std::vector<dag::StepId> stack = {step};
    std::set<dag::StepId> seen;
    while (!stack.empty()) {
      dag::StepId s = stack.back();
      stack.pop_back();
      for (const dag::Edge& e : g.graph.prerequisites(s)) {
        if (e.other == before) return true;
        if (seen.insert(e.other).second) stack.push_back(e.other);
      }
    }
    return false;
  }
  dag::StepId Find(const ApplyGraph& g, StepKind kind, const std::string& cluster) {
    for (size_t i = 0; i < g.steps.size(); i++)
      if (g.steps[i].kind == kind && g.steps[i].cluster == cluster) return static_cast<dag::StepId>(i);
    return dag::kNoStep;
  }

  Plan plan_;
  FleetTargets fleet_;
  ApplyOptions options_;
};

TEST_F(ApplyGraphTest, ObjectsNeedTheirNamespaceOnly) {
  plan_.actions = {Make(ChangeType::kCreate, "a", Ns("x")), Make(ChangeType::kCreate, "a", Ns("y")),
                   Make(ChangeType::kCreate, "a", Cm("x", "c")), Make(ChangeType::kCreate, "a", Cm("y", "d"))};
  ApplyGraph g = Build();
  EXPECT_TRUE(Needs(g, End(g, 2), End(g, 0)));
  EXPECT_FALSE(ComesAfter(g, End(g, 2), End(g, 1)));  // y failing must not stop what lives in x
  EXPECT_TRUE(Needs(g, End(g, 3), End(g, 1)));
  EXPECT_TRUE(g.graph.CheckAcyclic().ok());
}

TEST_F(ApplyGraphTest, CustomResourcesNeedTheirCrd) {
  plan_.actions = {Make(ChangeType::kCreate, "a", Crd("example.com", "Thing")),
                   Make(ChangeType::kCreate, "a", Crd("other.io", "Widget")),
                   Make(ChangeType::kCreate, "a", Custom("example.com", "Thing", "default", "t"))};
  ApplyGraph g = Build();
  EXPECT_TRUE(Needs(g, End(g, 2), End(g, 0)));
  EXPECT_FALSE(ComesAfter(g, End(g, 2), End(g, 1)));
}

TEST_F(ApplyGraphTest, DependsOnAddsEdges) {
  plan_.actions = {Make(ChangeType::kCreate, "a", Cm("default", "config")),
                   Make(ChangeType::kCreate, "a", Deploy("default", "web"))};
  plan_.actions[1].depends_on = {ObjectKey{"", "ConfigMap", "default", "config"}};
  ApplyGraph g = Build();
  EXPECT_TRUE(Needs(g, End(g, 1), End(g, 0)));
}

TEST_F(ApplyGraphTest, EachWaveNeedsThePreviousWavesHealth) {
  plan_.actions = {Make(ChangeType::kCreate, "a", Deploy("default", "db"), 0),
                   Make(ChangeType::kCreate, "a", Deploy("default", "api"), 1),
                   Make(ChangeType::kCreate, "a", Deploy("default", "web"), 2),
                   Make(ChangeType::kCreate, "b", Deploy("default", "other"), 5)};
  ApplyGraph g = Build();
  std::vector<dag::StepId> gates;
  for (size_t i = 0; i < g.steps.size(); i++)
    if (g.steps[i].kind == StepKind::kWaveHealthy) gates.push_back(static_cast<dag::StepId>(i));
  ASSERT_EQ(gates.size(), 2u);  // a: after wave 0 and after wave 1; b has one wave
  const ApplyStep& gate0 = g.steps[static_cast<size_t>(gates[0])];
  EXPECT_EQ(gate0.wave, 0);
  EXPECT_THAT(gate0.what, HasSubstr("sync wave 0 on cluster a"));
  EXPECT_EQ(gate0.keys.size(), 1u);
  EXPECT_TRUE(Needs(g, gates[0], End(g, 0)));
  EXPECT_TRUE(Needs(g, End(g, 1), gates[0]));
  EXPECT_TRUE(Needs(g, End(g, 2), gates[1]));
  EXPECT_TRUE(Needs(g, gates[1], gates[0]));
  EXPECT_FALSE(ComesAfter(g, End(g, 3), gates[0]));  // another cluster does not wait
}

TEST_F(ApplyGraphTest, PruneFollowsAppliesNamespacesAfterTheirContentCrdsLast) {
  plan_.actions = {Make(ChangeType::kCreate, "a", Cm("x", "new")), Make(ChangeType::kDelete, "a", Cm("old", "c")),
                   Make(ChangeType::kDelete, "a", Ns("old")),
                   Make(ChangeType::kDelete, "a", Crd("example.com", "Thing"))};
  ApplyGraph g = Build();
  EXPECT_TRUE(ComesAfter(g, End(g, 1), End(g, 0)));  // a delete needs the applies done
  EXPECT_TRUE(ComesAfter(g, End(g, 2), End(g, 1)));  // the Namespace after what lived in it
  EXPECT_TRUE(ComesAfter(g, End(g, 3), End(g, 1)));  // CRDs after the other deletes
}

TEST_F(ApplyGraphTest, ObjectsWaitForTheirClusterAndItsPendingRecord) {
  plan_.actions = {Make(ChangeType::kCreate, "", ClusterBody("a")), Make(ChangeType::kCreate, "a", Ns("x"))};
  ApplyGraph g = Build();
  dag::StepId ready = Find(g, StepKind::kClusterReady, "a");
  ASSERT_NE(ready, dag::kNoStep);
  EXPECT_TRUE(Needs(g, ready, End(g, 0)));  // the cluster's operation ended
  dag::StepId pending = dag::kNoStep;
  for (const dag::Edge& e : g.graph.prerequisites(End(g, 1)))
    if (g.steps[static_cast<size_t>(e.other)].kind == StepKind::kRecordPending) pending = e.other;
  ASSERT_NE(pending, dag::kNoStep);
  EXPECT_TRUE(Needs(g, pending, ready));
  EXPECT_TRUE(g.graph.spec(pending).on_loop_thread);
  // The Cluster action: record pending, then start, then await.
  dag::StepId start = g.action_start[0];
  EXPECT_EQ(g.steps[static_cast<size_t>(start)].kind, StepKind::kStartOperation);
  EXPECT_TRUE(Needs(g, End(g, 0), start));
}

TEST_F(ApplyGraphTest, ClusterDeletesComeAfterEveryObjectStep) {
  plan_.actions = {Make(ChangeType::kCreate, "b", Ns("x")), Make(ChangeType::kDelete, "", ClusterBody("a"))};
  ApplyGraph g = Build();
  EXPECT_TRUE(ComesAfter(g, g.action_start[1], End(g, 0)));
}

TEST_F(ApplyGraphTest, UnfinishedOperationsArePolledBeforeAnythingNew) {
  ClusterSpec a;
  a.name = "a";
  fleet_.clusters["a"] = &a;
  fleet_.unfinished_operations["a"] = {Operation{"apply/a/7", "a", "apply"}};
  plan_.actions = {Make(ChangeType::kUpdate, "", ClusterBody("a"))};
  ApplyGraph g = Build();
  dag::StepId resume = dag::kNoStep;
  for (size_t i = 0; i < g.steps.size(); i++)
    if (g.steps[i].resume) resume = static_cast<dag::StepId>(i);
  ASSERT_NE(resume, dag::kNoStep);
  EXPECT_EQ(g.steps[static_cast<size_t>(resume)].resume->id, "apply/a/7");
  EXPECT_TRUE(ComesAfter(g, g.action_start[0], resume));
  EXPECT_FALSE(Needs(g, g.action_start[0], resume));  // however the old one ended
}

TEST_F(ApplyGraphTest, PoolsAndPlanOrder) {
  options_.parallelism = 3;
  options_.cluster_parallelism = 2;
  plan_.actions = {Make(ChangeType::kCreate, "a", Cm("default", "x")), Make(ChangeType::kCreate, "a", Cm("default", "y"))};
  ApplyGraph g = Build();
  EXPECT_EQ(g.pool_capacity.at("global"), 3);
  EXPECT_EQ(g.pool_capacity.at("cluster/a"), 2);
  EXPECT_LT(g.graph.spec(End(g, 0)).priority, g.graph.spec(End(g, 1)).priority);
  EXPECT_THAT(g.graph.spec(End(g, 0)).pools, ::testing::ElementsAre("global", "cluster/a"));
}

TEST_F(ApplyGraphTest, WaitAddsFinalHealthAndRunningChecks) {
  options_.wait = true;
  ClusterSpec idle;
  idle.name = "idle";
  fleet_.clusters["idle"] = &idle;
  plan_.actions = {Make(ChangeType::kCreate, "a", Cm("default", "x"))};
  ApplyGraph g = Build();
  dag::StepId final_step = Find(g, StepKind::kFinalHealthy, "a");
  ASSERT_NE(final_step, dag::kNoStep);
  EXPECT_TRUE(ComesAfter(g, final_step, End(g, 0)));
  EXPECT_NE(Find(g, StepKind::kClusterReady, "idle"), dag::kNoStep);
}

}  // namespace
}  // namespace converge::apply_internal
