// RunLog beyond store_test.cc: per-action results and interrupting the runs of one source.
#include "engine/store/run_log.h"

#include <gtest/gtest.h>

#include "tests/store/store_fixture.h"

namespace converge {
namespace {

class RunLogTest : public StoreTest {
 protected:
  void SetUp() override {
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
    auto src = store_->sources()->Upsert("file:///repo", "main", "");
    ASSERT_TRUE(src.ok());
    source_ = src->id;
  }
  RunLog* runs() { return store_->runs(); }

  std::unique_ptr<Store> store_;
  int64_t source_ = 0;
};

ActionRecord Action(const std::string& name, const std::string& outcome, int attempts) {
  ActionRecord a;
  a.run_id = 999;  // ignored: AppendActions sets it
  a.seq = 42;      // ignored too
  a.ref = Ref("c1", "apps", "Deployment", "web", name);
  a.action = "update";
  a.outcome = outcome;
  a.message = outcome == "failed" ? "boom" : "";
  a.attempts = attempts;
  a.started_at = 100;
  a.finished_at = 200;
  return a;
}

TEST_F(RunLogTest, ActionResultsAreAppendedInOrderPerRun) {
  auto run = runs()->Begin(source_, "apply", "c1");
  auto other = runs()->Begin(source_, "apply", "c2");
  ASSERT_TRUE(run.ok() && other.ok());
  ASSERT_TRUE(runs()->AppendActions(*run, {Action("a", "succeeded", 1), Action("b", "failed", 3)}).ok());
  ASSERT_TRUE(runs()->AppendActions(*other, {Action("x", "succeeded", 1)}).ok());
  ASSERT_TRUE(runs()->AppendActions(*run, {Action("c", "skipped", 0)}).ok());
  ASSERT_TRUE(runs()->AppendActions(*run, {}).ok());

  auto got = runs()->ListActions(*run);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 3u);
  for (size_t i = 0; i < got->size(); ++i) {
    EXPECT_EQ((*got)[i].run_id, *run);
    EXPECT_EQ((*got)[i].seq, static_cast<int64_t>(i + 1));
  }
  EXPECT_EQ((*got)[0].ref, Ref("c1", "apps", "Deployment", "web", "a"));
  EXPECT_EQ((*got)[1].ref.key.name, "b");
  EXPECT_EQ((*got)[1].action, "update");
  EXPECT_EQ((*got)[1].outcome, "failed");
  EXPECT_EQ((*got)[1].message, "boom");
  EXPECT_EQ((*got)[1].attempts, 3);
  EXPECT_EQ((*got)[1].started_at, 100);
  EXPECT_EQ((*got)[1].finished_at, 200);
  EXPECT_EQ((*got)[2].outcome, "skipped");

  auto theirs = runs()->ListActions(*other);
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(theirs->size(), 1u);
  EXPECT_EQ((*theirs)[0].seq, 1);
}

TEST_F(RunLogTest, ActionsOfAnUnknownRunAreRefusedWhole) {
  Status s = runs()->AppendActions(12345, {Action("a", "succeeded", 1)});
  EXPECT_EQ(s.code(), Code::kNotFound) << s.ToString();
  auto got = runs()->ListActions(12345);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
}

TEST_F(RunLogTest, MarkInterruptedOfOneSourceLeavesTheOthersRunning) {
  auto second = store_->sources()->Upsert("file:///repo", "main", "apps");
  ASSERT_TRUE(second.ok());
  auto mine = runs()->Begin(source_, "apply", "c1");
  auto theirs = runs()->Begin(second->id, "apply", "c2");
  ASSERT_TRUE(mine.ok() && theirs.ok());
  ASSERT_TRUE(runs()->MarkInterrupted(source_).ok());
  auto list = runs()->List(0);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, *theirs);
  EXPECT_EQ((*list)[0].result, "running");
  EXPECT_EQ((*list)[1].id, *mine);
  EXPECT_EQ((*list)[1].result, "interrupted");
  EXPECT_EQ((*list)[1].message, "the process ended before the run finished");
}

}  // namespace
}  // namespace converge
