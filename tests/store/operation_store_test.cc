// OperationStore and FileResults on a real file, including across a reopen (a restart).
#include "engine/store/operation_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/store/file_results.h"
#include "tests/store/store_fixture.h"

namespace converge {
namespace {

class OperationsTest : public StoreTest {
 protected:
  void SetUp() override {
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
    auto src = store_->sources()->Upsert("file:///repo", "main", "");
    ASSERT_TRUE(src.ok());
    source_ = src->id;
  }

  OperationRecord Op(const std::string& id, const std::string& cluster) {
    OperationRecord op;
    op.id = id;
    op.source_id = source_;
    op.cloud = "huawei";
    op.cluster = cluster;
    op.kind = "create";
    op.state = "succeeded";  // ignored: Record stores running
    return op;
  }

  std::unique_ptr<Store> store_;
  int64_t source_ = 0;
};

TEST_F(OperationsTest, OpenOperationsSurviveARestartUntilFinished) {
  ASSERT_TRUE(store_->operations()->Record(Op("op-1", "alpha")).ok());
  env_.Advance(5);
  ASSERT_TRUE(store_->operations()->Record(Op("op-2", "beta")).ok());
  ASSERT_TRUE(store_->operations()->Record(Op("op-1", "beta")).ok());  // ids are per cluster
  store_.reset();  // the process goes away

  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  auto open = store_->operations()->ListOpen(source_);
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  ASSERT_EQ(open->size(), 3u);
  EXPECT_EQ((*open)[0].id, "op-1");
  EXPECT_EQ((*open)[0].cluster, "alpha");
  EXPECT_EQ((*open)[0].state, "running");
  EXPECT_EQ((*open)[0].cloud, "huawei");
  EXPECT_EQ((*open)[0].kind, "create");
  EXPECT_EQ((*open)[0].started_at, env_.NowMillis() - 5);
  EXPECT_EQ((*open)[0].finished_at, 0);

  env_.Advance(100);
  ASSERT_TRUE(store_->operations()->Finish(source_, "alpha", "op-1", "succeeded", "").ok());
  ASSERT_TRUE(store_->operations()->Finish(source_, "beta", "op-2", "failed", "quota exceeded").ok());
  open = store_->operations()->ListOpen(source_);
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].cluster, "beta");
  EXPECT_EQ((*open)[0].id, "op-1");
  EXPECT_EQ(Query(db_path_, "SELECT state || ' ' || message || ' ' || finished_at FROM operations WHERE id = 'op-2'"),
            "failed quota exceeded " + std::to_string(env_.NowMillis()));
}

TEST_F(OperationsTest, MistakesAreRefused) {
  ASSERT_TRUE(store_->operations()->Record(Op("op-1", "alpha")).ok());
  EXPECT_EQ(store_->operations()->Record(Op("op-1", "alpha")).code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->operations()->Finish(source_, "alpha", "op-9", "failed", "").code(), Code::kNotFound);
  EXPECT_EQ(store_->operations()->Finish(source_, "alpha", "op-1", "running", "").code(), Code::kInvalid);
  OperationRecord orphan = Op("op-3", "alpha");
  orphan.source_id = source_ + 100;
  EXPECT_EQ(store_->operations()->Record(orphan).code(), Code::kNotFound);
  auto open = store_->operations()->ListOpen(source_);
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->size(), 1u);
}

TEST_F(StoreTest, FileResultsAreContentAddressedAndPersist) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  FileResults* results = store->file_results();
  auto miss = results->Get("blob1", "render/v1");
  ASSERT_TRUE(miss.ok());
  EXPECT_FALSE(miss->has_value());
  const std::string value("rendered\0bytes", 14);
  ASSERT_TRUE(results->Put("blob1", "render/v1", value).ok());
  ASSERT_TRUE(results->Put("blob1", "render/v1", "other").ok());  // the first value stays
  ASSERT_TRUE(results->Put("blob1", "validate/v1", "ok").ok());   // another context: its own value
  store.reset();

  store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto hit = store->file_results()->Get("blob1", "render/v1");
  ASSERT_TRUE(hit.ok());
  ASSERT_TRUE(hit->has_value());
  EXPECT_EQ(**hit, value);
  auto other = store->file_results()->Get("blob1", "validate/v1");
  ASSERT_TRUE(other.ok() && other->has_value());
  EXPECT_EQ(**other, "ok");
  auto absent = store->file_results()->Get("blob2", "render/v1");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());
}

}  // namespace
}  // namespace converge
