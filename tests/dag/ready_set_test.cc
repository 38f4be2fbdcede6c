// Graph and ReadySet: edges, cycles, readiness, pools, priorities, skip propagation with causes,
// suspend/resume and abandon. Pure bookkeeping, so every case is a few lines.
#include "engine/dag/ready_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace converge::dag {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

StepSpec S(const std::string& name, std::vector<std::string> pools = {}, int priority = 0) {
  return StepSpec{name, std::move(pools), false, priority};
}

// Drains FindWork into a list of names.
std::vector<std::string> Take(const Graph& g, ReadySet& r) {
  std::vector<std::string> out;
  while (auto s = r.FindWork()) out.push_back(g.name(*s));
  return out;
}

TEST(GraphTest, CycleIsNamedInRunOrder) {
  Graph g;
  StepId a = g.Add(S("a")), b = g.Add(S("b")), c = g.Add(S("c"));
  g.Needs(b, a);
  g.Needs(c, b);
  EXPECT_TRUE(g.CheckAcyclic().ok());
  g.After(a, c);
  Status st = g.CheckAcyclic();
  EXPECT_EQ(st.code(), Code::kInvalid);
  EXPECT_THAT(st.message(), HasSubstr("dependency cycle: "));
  // Every member is named, and the text closes the loop.
  for (const char* n : {"a", "b", "c"}) EXPECT_THAT(st.message(), HasSubstr(n));
  EXPECT_THAT(st.message(), ::testing::AnyOf(HasSubstr("a -> b -> c -> a"), HasSubstr("b -> c -> a -> b"),
                                              HasSubstr("c -> a -> b -> c")));
}

TEST(GraphTest, SelfEdgeIsACycle) {
  Graph g;
  StepId a = g.Add(S("a"));
  g.Needs(a, a);
  EXPECT_THAT(g.CheckAcyclic().message(), HasSubstr("a -> a"));
}

TEST(GraphTest, DuplicateEdgeKeepsTheStrongerKind) {
  Graph g;
  StepId a = g.Add(S("a")), b = g.Add(S("b"));
  g.After(b, a);
  g.Needs(b, a);
  ASSERT_EQ(g.prerequisites(b).size(), 1u);
  EXPECT_EQ(g.prerequisites(b)[0].kind, EdgeKind::kNeeds);
  ASSERT_EQ(g.dependents(a).size(), 1u);
  EXPECT_EQ(g.dependents(a)[0].kind, EdgeKind::kNeeds);
}

TEST(ReadySetTest, OnlyStepsWithoutPendingPrerequisitesAreReady) {
  Graph g;
  StepId a = g.Add(S("a")), b = g.Add(S("b")), c = g.Add(S("c"));
  g.Needs(c, a);
  g.Needs(c, b);
  ReadySet r(g, {});
  EXPECT_THAT(Take(g, r), ElementsAre("a", "b"));
  EXPECT_TRUE(r.StepFinished(a, Outcome::kSucceeded).empty());
  EXPECT_FALSE(r.FindWork());  // c still waits on b
  r.StepFinished(b, Outcome::kSucceeded);
  EXPECT_THAT(Take(g, r), ElementsAre("c"));
  r.StepFinished(c, Outcome::kSucceeded);
  EXPECT_TRUE(r.done());
}

TEST(ReadySetTest, PriorityThenIdDecidesAmongReadySteps) {
  Graph g;
  g.Add(S("late", {}, 5));
  g.Add(S("early", {}, 1));
  g.Add(S("early-too", {}, 1));
  ReadySet r(g, {});
  EXPECT_THAT(Take(g, r), ElementsAre("early", "early-too", "late"));
}

TEST(ReadySetTest, PoolsBoundWhatRunsAtOnce) {
  Graph g;
  for (int i = 0; i < 3; i++) g.Add(S("a" + std::to_string(i), {"global", "cluster/a"}, i));
  for (int i = 0; i < 3; i++) g.Add(S("b" + std::to_string(i), {"global", "cluster/b"}, i));
  ReadySet r(g, {{"global", 3}, {"cluster/a", 1}, {"cluster/b", 1}});
  EXPECT_THAT(Take(g, r), ElementsAre("a0", "b0"));  // one per cluster
  r.StepFinished(0, Outcome::kSucceeded);             // a0
  EXPECT_THAT(Take(g, r), ElementsAre("a1"));
  EXPECT_EQ(r.active(), 2u);
}

TEST(ReadySetTest, GlobalPoolCapsAcrossGroups) {
  Graph g;
  for (const char* c : {"a", "b", "c"}) g.Add(S(c, {"global", std::string("cluster/") + c}));
  ReadySet r(g, {{"global", 2}});
  EXPECT_EQ(Take(g, r).size(), 2u);
  r.StepFinished(0, Outcome::kSucceeded);
  EXPECT_EQ(Take(g, r).size(), 1u);
}

TEST(ReadySetTest, LoopThreadStepsNeedNoSlot) {
  Graph g;
  g.Add(S("busy", {"p"}));
  StepSpec inline_step = S("record", {"p"});
  inline_step.on_loop_thread = true;
  g.Add(inline_step);
  ReadySet r(g, {{"p", 1}});
  EXPECT_THAT(Take(g, r), ElementsAre("busy", "record"));
}

TEST(ReadySetTest, FailureSkipsOnlyWhatNeedsItAndNamesTheRootCause) {
  Graph g;
  StepId ns = g.Add(S("namespace"));
  StepId deploy = g.Add(S("deployment"));
  StepId svc = g.Add(S("service"));
  StepId gate = g.Add(S("wave-0-healthy"));
  StepId late = g.Add(S("wave-1-configmap"));
  StepId other = g.Add(S("other-namespace-object"));
  g.Needs(deploy, ns);
  g.Needs(svc, ns);
  g.Needs(gate, deploy);
  g.Needs(gate, svc);
  g.Needs(late, gate);
  ReadySet r(g, {});
  Take(g, r);  // namespace, other
  std::vector<StepId> skipped = r.StepFinished(ns, Outcome::kFailed);
  EXPECT_THAT(skipped, ElementsAre(deploy, svc, gate, late));
  for (StepId s : skipped) {
    EXPECT_EQ(r.outcome(s), Outcome::kSkipped);
    EXPECT_EQ(r.cause(s), ns);
  }
  EXPECT_EQ(r.outcome(other), Outcome::kRunning);  // independent work goes on
  r.StepFinished(other, Outcome::kSucceeded);
  EXPECT_TRUE(r.done());
}

TEST(ReadySetTest, AfterEdgesRunWhateverTheOutcome) {
  Graph g;
  StepId apply = g.Add(S("apply"));
  StepId cleanup = g.Add(S("cleanup"));
  StepId report = g.Add(S("report"));
  g.After(cleanup, apply);
  g.Needs(report, apply);
  ReadySet r(g, {});
  Take(g, r);
  EXPECT_THAT(r.StepFinished(apply, Outcome::kFailed), ElementsAre(report));
  EXPECT_THAT(Take(g, r), ElementsAre("cleanup"));
}

TEST(ReadySetTest, AfterEdgeFromASkippedStepStillReleases) {
  Graph g;
  StepId a = g.Add(S("a")), b = g.Add(S("b")), c = g.Add(S("c"));
  g.Needs(b, a);
  g.After(c, b);
  ReadySet r(g, {});
  Take(g, r);
  EXPECT_THAT(r.StepFinished(a, Outcome::kFailed), ElementsAre(b));
  EXPECT_THAT(Take(g, r), ElementsAre("c"));
}

TEST(ReadySetTest, SuspendedStepGivesItsSlotBackUntilResumed) {
  Graph g;
  StepId waiter = g.Add(S("waiter", {"p"}));
  StepId other = g.Add(S("other", {"p"}));
  ReadySet r(g, {{"p", 1}});
  EXPECT_EQ(r.FindWork(), waiter);
  EXPECT_FALSE(r.FindWork());
  r.Suspend(waiter);
  EXPECT_TRUE(r.suspended(waiter));
  EXPECT_EQ(r.FindWork(), other);
  r.Resume(waiter);
  EXPECT_FALSE(r.FindWork());  // other holds the only slot
  r.StepFinished(other, Outcome::kSucceeded);
  EXPECT_EQ(r.FindWork(), waiter);
  EXPECT_EQ(r.outcome(waiter), Outcome::kRunning);
}

TEST(ReadySetTest, AbandonEndsPendingStepsButNotRunningOnes) {
  Graph g;
  StepId a = g.Add(S("a")), b = g.Add(S("b")), c = g.Add(S("c"));
  g.Needs(b, a);
  ReadySet r(g, {{"x", 1}});
  EXPECT_EQ(r.FindWork(), a);
  EXPECT_THAT(r.Abandon(), ElementsAre(b, c));
  EXPECT_FALSE(r.done());
  EXPECT_TRUE(r.StepFinished(a, Outcome::kSucceeded).empty());
  EXPECT_TRUE(r.done());
  EXPECT_EQ(r.outcome(b), Outcome::kNotRun);
}

TEST(ReadySetTest, NotRunSkipsDependents) {
  Graph g;
  StepId a = g.Add(S("a")), b = g.Add(S("b"));
  g.Needs(b, a);
  ReadySet r(g, {});
  r.FindWork();
  EXPECT_THAT(r.StepFinished(a, Outcome::kNotRun), ElementsAre(b));
  EXPECT_EQ(r.outcome(a), Outcome::kNotRun);
}

TEST(ReadySetTest, LongChainsSkipWithoutRecursion) {
  Graph g;
  StepId prev = g.Add(S("root"));
  for (int i = 0; i < 50000; i++) {
    StepId s = g.Add(S("s"));
    g.Needs(s, prev);
    prev = s;
  }
  ReadySet r(g, {});
  r.FindWork();
  EXPECT_EQ(r.StepFinished(0, Outcome::kFailed).size(), 50000u);
  EXPECT_TRUE(r.done());
}

}  // namespace
}  // namespace converge::dag
