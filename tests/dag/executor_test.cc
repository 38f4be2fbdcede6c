// Executor on the simulated scheduler: order, pools, waits and retries as timers (simulated time
// only moves to the next due timer), failure isolation with causes, stop requests, and the same
// results at 1 and 4 worker threads.
#include "engine/dag/executor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "engine/base/scheduler.h"
#include "tests/testing/fake_step_runner.h"
#include "tests/testing/simulated_env.h"

namespace converge::dag {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Attempt = testing::FakeStepRunner::Attempt;

StepSpec S(const std::string& name, std::vector<std::string> pools = {}, int priority = 0) {
  return StepSpec{name, std::move(pools), false, priority};
}

class ExecutorTest : public ::testing::TestWithParam<int> {
 protected:
  std::vector<StepResult> Run(const Graph& g, testing::FakeStepRunner& runner, ExecutorOptions options = {},
                              ExecutionObserver* observer = nullptr) {
    std::unique_ptr<Scheduler> scheduler = env_.NewScheduler(GetParam());
    Executor executor(g, &runner, scheduler.get(), std::move(options));
    std::vector<StepResult> results = executor.Run(observer);
    stopped_ = executor.stopped();
    return results;
  }

  testing::SimulatedEnv env_;
  bool stopped_ = false;
};

TEST_P(ExecutorTest, RunsEveryStepAfterItsPrerequisites) {
  Graph g;
  StepId ns = g.Add(S("namespace"));
  StepId a = g.Add(S("a")), b = g.Add(S("b"));
  StepId gate = g.Add(S("gate"));
  g.Needs(a, ns);
  g.Needs(b, ns);
  g.Needs(gate, a);
  g.Needs(gate, b);
  testing::FakeStepRunner runner(g);
  std::vector<StepResult> r = Run(g, runner);
  for (const StepResult& s : r) EXPECT_EQ(s.outcome, Outcome::kSucceeded);
  std::vector<std::string> order = runner.started();
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order.front(), "namespace");
  EXPECT_EQ(order.back(), "gate");
}

TEST_P(ExecutorTest, OneSlotPerPoolKeepsPlanOrder) {
  Graph g;
  for (int i = 0; i < 6; i++) g.Add(S("s" + std::to_string(i), {"cluster/a"}, i));
  testing::FakeStepRunner runner(g);
  Run(g, runner, ExecutorOptions{{{"cluster/a", 1}}, nullptr});
  EXPECT_THAT(runner.started(), ElementsAre("s0", "s1", "s2", "s3", "s4", "s5"));
  EXPECT_EQ(runner.pool_max("cluster/a"), 1);
}

TEST_P(ExecutorTest, PoolsBoundConcurrency) {
  if (GetParam() < 3) GTEST_SKIP() << "needs at least 3 workers to show a bound of 2";
  Graph g;
  for (int i = 0; i < 8; i++) g.Add(S("s" + std::to_string(i), {"global"}));
  testing::FakeStepRunner runner(g);
  runner.HoldUntilRunning(2);
  std::vector<StepResult> r = Run(g, runner, ExecutorOptions{{{"global", 2}}, nullptr});
  EXPECT_EQ(runner.max_running(), 2);  // reached, never exceeded
  for (const StepResult& s : r) EXPECT_EQ(s.outcome, Outcome::kSucceeded);
}

TEST_P(ExecutorTest, WorkersRunIndependentStepsAtOnce) {
  if (GetParam() < 2) GTEST_SKIP() << "one worker runs one step at a time";
  Graph g;
  for (int i = 0; i < 4; i++) g.Add(S("s" + std::to_string(i)));
  testing::FakeStepRunner runner(g);
  runner.HoldUntilRunning(2);
  Run(g, runner);
  EXPECT_GE(runner.max_running(), 2);
}

TEST_P(ExecutorTest, WaitsAreTimersOnSimulatedTime) {
  Graph g;
  StepId wait = g.Add(S("wave-0-healthy", {"cluster/a"}));
  StepId next = g.Add(S("wave-1", {"cluster/a"}));
  StepId other = g.Add(S("other", {"cluster/a"}));
  g.Needs(next, wait);
  testing::FakeStepRunner runner(g);
  runner.Script("wave-0-healthy", {Attempt{false, Status::Unavailable("1/2 ready"), 1'000},
                                   Attempt{false, Status::Unavailable("1/2 ready"), 1'000}, Attempt{}});
  int64_t start = env_.MonotonicMillis();
  std::vector<StepResult> r = Run(g, runner, ExecutorOptions{{{"cluster/a", 1}}, nullptr});
  EXPECT_EQ(r[wait].outcome, Outcome::kSucceeded);
  EXPECT_EQ(r[wait].attempts, 3);
  EXPECT_EQ(r[next].outcome, Outcome::kSucceeded);
  EXPECT_EQ(env_.MonotonicMillis() - start, 2'000);  // exactly the two waits, on the simulated clock
  EXPECT_EQ(env_.slept(), 0);                         // and nothing slept
  // While the gate waited it gave its slot back: `other` ran in between.
  std::vector<std::string> order = runner.started();
  EXPECT_EQ(order[0], "wave-0-healthy");
  EXPECT_EQ(order[1], "other");
  EXPECT_EQ(r[other].outcome, Outcome::kSucceeded);
}

TEST_P(ExecutorTest, FailureSkipsOnlyWhatNeedsItAndSaysWhichFailure) {
  Graph g;
  StepId ns = g.Add(S("b: Namespace/app"));
  StepId deploy = g.Add(S("b: Deployment/app/web"));
  StepId cm = g.Add(S("b: ConfigMap/app/late"));
  StepId elsewhere = g.Add(S("a: Deployment/app/web"));
  g.Needs(deploy, ns);
  g.Needs(cm, deploy);
  testing::FakeStepRunner runner(g);
  runner.Script("b: Namespace/app", {Attempt{true, Status::Unavailable("connection refused", false)}});
  std::vector<StepResult> r = Run(g, runner);
  EXPECT_EQ(r[ns].outcome, Outcome::kFailed);
  EXPECT_EQ(r[elsewhere].outcome, Outcome::kSucceeded);
  for (StepId s : {deploy, cm}) {
    EXPECT_EQ(r[s].outcome, Outcome::kSkipped);
    EXPECT_EQ(r[s].cause, ns);
    EXPECT_THAT(r[s].status.message(), HasSubstr("waits on b: Namespace/app, which failed: connection refused"));
  }
  EXPECT_EQ(runner.attempts("b: Deployment/app/web"), 0);
}

TEST_P(ExecutorTest, FinishCanFailAStep) {
  struct Runner : testing::FakeStepRunner {
    using FakeStepRunner::FakeStepRunner;
    Status Finish(StepId, const Status&) override { return Status::Unavailable("disk full", false); }
  };
  Graph g;
  StepId a = g.Add(S("a")), b = g.Add(S("b"));
  g.Needs(b, a);
  Runner runner(g);
  std::vector<StepResult> r = Run(g, runner);
  EXPECT_EQ(r[a].outcome, Outcome::kFailed);
  EXPECT_EQ(r[a].status.message(), "disk full");
  EXPECT_EQ(r[b].outcome, Outcome::kSkipped);
}

TEST_P(ExecutorTest, StopStartsNothingNewAndEndsEveryStep) {
  Graph g;
  StepId first = g.Add(S("first", {"p"}, 0));
  StepId waiting = g.Add(S("waiting", {"w"}, 1));
  StepId later = g.Add(S("later", {"p"}, 2));
  StepId after = g.Add(S("after-later", {"p"}, 3));
  g.Needs(after, later);
  std::atomic<bool> stop{false};
  testing::FakeStepRunner runner(g);
  runner.Script("waiting", {Attempt{false, Status::Unavailable("not ready"), 60'000}});
  runner.OnStart("first", [&] { stop = true; });  // as if SIGINT arrived while `first` ran
  int64_t start = env_.MonotonicMillis();
  std::vector<StepResult> r = Run(g, runner, ExecutorOptions{{{"p", 1}}, &stop});
  EXPECT_TRUE(stopped_);
  EXPECT_EQ(r[first].outcome, Outcome::kSucceeded);  // it was running: it finished
  EXPECT_EQ(r[later].outcome, Outcome::kNotRun);
  EXPECT_THAT(r[later].status.message(), HasSubstr("not started"));
  EXPECT_EQ(r[after].outcome, Outcome::kNotRun);
  if (r[waiting].attempts > 0) {
    EXPECT_EQ(r[waiting].outcome, Outcome::kNotRun);
    EXPECT_THAT(r[waiting].status.message(), HasSubstr("interrupted while waiting: not ready"));
  }
  EXPECT_LT(env_.MonotonicMillis() - start, 60'000);  // the wait was cancelled, not sat out
  EXPECT_EQ(runner.attempts("later"), 0);
}

TEST_P(ExecutorTest, ObserverSeesStartsWaitsAndEveryEnd) {
  struct Recording : ExecutionObserver {
    void StepStarted(StepId s, const StepContext& c) override { events.push_back("start " + std::to_string(s) + "#" + std::to_string(c.attempt)); }
    void StepWaiting(StepId s, const Status& why, int64_t) override { events.push_back("wait " + std::to_string(s) + " " + why.message()); }
    void StepFinished(StepId s, const StepResult& r) override { events.push_back("end " + std::to_string(s) + " " + OutcomeName(r.outcome)); }
    std::vector<std::string> events;
  };
  Graph g;
  StepId a = g.Add(S("a"));
  StepId b = g.Add(S("b"));
  g.Needs(b, a);
  testing::FakeStepRunner runner(g);
  runner.Script("a", {Attempt{false, Status::Unavailable("busy"), 5}, Attempt{true, Status::Invalid("bad")}});
  Recording rec;
  Run(g, runner, {}, &rec);
  EXPECT_THAT(rec.events, ElementsAre("start 0#1", "wait 0 busy", "start 0#2", "end 0 failed", "end 1 skipped"));
}

TEST_P(ExecutorTest, ThousandsOfStepsOnTwentyClusters) {
  Graph g;
  std::map<std::string, int> capacity{{"global", 4}};
  for (int c = 0; c < 20; c++) {
    std::string pool = "cluster/c" + std::to_string(c);
    capacity[pool] = 1;
    StepId prev = kNoStep;
    for (int i = 0; i < 100; i++) {
      StepId s = g.Add(S("c" + std::to_string(c) + "-" + std::to_string(i), {"global", pool}, i));
      if (i % 10 == 0 && prev != kNoStep) g.Needs(s, prev);
      prev = s;
    }
  }
  testing::FakeStepRunner runner(g);
  std::vector<StepResult> r = Run(g, runner, ExecutorOptions{capacity, nullptr});
  for (const StepResult& s : r) ASSERT_EQ(s.outcome, Outcome::kSucceeded);
  EXPECT_LE(runner.max_running(), 4);
  EXPECT_EQ(runner.started().size(), 2000u);
}

INSTANTIATE_TEST_SUITE_P(Threads, ExecutorTest, ::testing::Values(0, 1, 4),
                         [](const auto& info) { return std::to_string(info.param) + "threads"; });

}  // namespace
}  // namespace converge::dag
