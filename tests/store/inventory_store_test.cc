// InventoryStore beyond the basic round trip (store_test.cc): the body-less index, loading just
// the bodies asked for, and cluster markers written in the same transaction as the rows.
#include "engine/store/inventory_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/store/store_fixture.h"

namespace converge {
namespace {

class InventoryTest : public StoreTest {
 protected:
  void SetUp() override {
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
    auto a = store_->sources()->Upsert("file:///a", "main", "");
    auto b = store_->sources()->Upsert("file:///b", "main", "");
    ASSERT_TRUE(a.ok() && b.ok());
    source_ = a->id;
    other_ = b->id;
  }
  InventoryStore* inventory() { return store_->inventory(); }

  std::unique_ptr<Store> store_;
  int64_t source_ = 0;
  int64_t other_ = 0;
};

TEST_F(InventoryTest, TheIndexHasEveryRowButNoBodies) {
  std::vector<InventoryEntry> rows;
  for (int i = 0; i < 50; ++i) rows.push_back(MakeEntry(source_, i));
  ASSERT_TRUE(inventory()->Write({rows, {}}).ok());
  ASSERT_TRUE(inventory()->Write({{MakeEntry(other_, 99)}, {}}).ok());

  auto full = inventory()->Load(source_);
  auto index = inventory()->LoadIndex(source_);
  ASSERT_TRUE(full.ok() && index.ok());
  ASSERT_EQ(index->size(), 50u);
  ASSERT_EQ(full->size(), index->size());
  for (size_t i = 0; i < index->size(); ++i) {
    InventoryEntry want = (*full)[i];
    EXPECT_FALSE(want.last_applied.empty());
    EXPECT_EQ((*index)[i].last_applied, "") << (*index)[i].ref.ToString();
    want.last_applied.clear();
    ExpectSameEntry((*index)[i], want, want.updated_at);  // everything else is there
  }
  auto all = inventory()->LoadIndex(0);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 51u);
}

TEST_F(InventoryTest, LoadLastAppliedReturnsExactlyTheAskedRowsThatExist) {
  std::vector<InventoryEntry> rows;
  for (int i = 0; i < 20; ++i) rows.push_back(MakeEntry(source_, i));
  rows[3].last_applied = std::string("{\"with\":\"nul\0byte\"}", 20);
  ASSERT_TRUE(inventory()->Write({rows, {}}).ok());
  // One owner per object: another source cannot write a row for an object this one has.
  Status taken = inventory()->Write({{MakeEntry(other_, 5)}, {}});
  EXPECT_EQ(taken.code(), Code::kConflict) << taken.ToString();
  ASSERT_TRUE(inventory()->Write({{MakeEntry(other_, 25)}, {}}).ok());

  const ObjectRef absent = Ref("nowhere", "", "ConfigMap", "x", "y");
  auto bodies = inventory()->LoadLastApplied(source_, {rows[3].ref, rows[7].ref, absent});
  ASSERT_TRUE(bodies.ok()) << bodies.status().ToString();
  ASSERT_EQ(bodies->size(), 2u);
  EXPECT_EQ(bodies->at(rows[3].ref), rows[3].last_applied);
  EXPECT_EQ(bodies->at(rows[7].ref), rows[7].last_applied);
  EXPECT_EQ(bodies->count(absent), 0u);

  // Another source's rows are not this source's.
  auto theirs = inventory()->LoadLastApplied(other_, {rows[3].ref, MakeEntry(other_, 25).ref});
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(theirs->size(), 1u);
  EXPECT_EQ(theirs->begin()->first, MakeEntry(other_, 25).ref);
  auto none = inventory()->LoadLastApplied(source_, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(InventoryTest, MarkersAreSetReadAndCleared) {
  ASSERT_TRUE(inventory()->SetMarker({source_, "alpha", "rv-10", 0}).ok());
  ASSERT_TRUE(inventory()->SetMarker({source_, "beta", "rv-3", 77}).ok());
  ASSERT_TRUE(inventory()->SetMarker({other_, "alpha", "rv-99", 0}).ok());
  env_.Advance(10);
  ASSERT_TRUE(inventory()->SetMarker({source_, "alpha", "rv-11", 0}).ok());  // rewritten in place

  auto markers = inventory()->LoadMarkers(source_);
  ASSERT_TRUE(markers.ok());
  ASSERT_EQ(markers->size(), 2u);
  EXPECT_EQ((*markers)[0].cluster, "alpha");
  EXPECT_EQ((*markers)[0].marker, "rv-11");
  EXPECT_EQ((*markers)[0].observed_at, env_.NowMillis());
  EXPECT_EQ((*markers)[1].cluster, "beta");
  EXPECT_EQ((*markers)[1].observed_at, 77);

  ASSERT_TRUE(inventory()->ClearMarker(source_, "alpha").ok());
  markers = inventory()->LoadMarkers(source_);
  ASSERT_TRUE(markers.ok());
  ASSERT_EQ(markers->size(), 1u);
  EXPECT_EQ((*markers)[0].cluster, "beta");
  auto theirs = inventory()->LoadMarkers(other_);
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(theirs->size(), 1u);  // the other source's marker for alpha stays
  EXPECT_EQ((*theirs)[0].marker, "rv-99");
}

TEST_F(InventoryTest, MarkersAndRowsAreWrittenTogetherOrNotAtAll) {
  InventoryBatch good;
  good.upserts = {MakeEntry(source_, 1), MakeEntry(source_, 2)};
  good.set_markers = {{source_, "cluster-1", "m1", 0}};
  ASSERT_TRUE(inventory()->Write(good).ok());

  // A batch whose last row fails (its source does not exist) writes neither its rows, its
  // deletes nor its markers.
  InventoryBatch bad;
  bad.upserts = {MakeEntry(source_, 3), MakeEntry(source_ + 100, 4)};
  bad.deletes = {{source_, MakeEntry(source_, 1).ref}};
  bad.set_markers = {{source_, "cluster-1", "m2", 0}, {source_, "cluster-3", "m3", 0}};
  bad.clear_markers = {{source_, "cluster-1"}};
  Status s = inventory()->Write(bad);
  EXPECT_EQ(s.code(), Code::kNotFound) << s.ToString();
  auto rows = inventory()->Load(source_);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  auto markers = inventory()->LoadMarkers(source_);
  ASSERT_TRUE(markers.ok());
  ASSERT_EQ(markers->size(), 1u);
  EXPECT_EQ((*markers)[0].marker, "m1");

  // A marker for an unknown source fails the batch too, with its rows.
  InventoryBatch orphan;
  orphan.upserts = {MakeEntry(source_, 5)};
  orphan.set_markers = {{source_ + 100, "x", "m", 0}};
  EXPECT_EQ(inventory()->Write(orphan).code(), Code::kNotFound);
  rows = inventory()->Load(source_);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 2u);

  // Deletes and a marker clear in one batch.
  InventoryBatch prune;
  prune.deletes = {{source_, MakeEntry(source_, 1).ref}};
  prune.clear_markers = {{source_, "cluster-1"}};
  ASSERT_TRUE(inventory()->Write(prune).ok());
  rows = inventory()->Load(source_);
  markers = inventory()->LoadMarkers(source_);
  ASSERT_TRUE(rows.ok() && markers.ok());
  EXPECT_EQ(rows->size(), 1u);
  EXPECT_TRUE(markers->empty());
}

}  // namespace
}  // namespace converge
