// Transaction and Savepoint on a real SQLite file.
#include "engine/sqlite/transaction.h"

#include <gtest/gtest.h>

#include "tests/testing/temp_dir.h"

namespace converge::sqlite {
namespace {

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Connection>> conn = Connection::Open(dir_.Join("test.db"));
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
    ASSERT_TRUE(conn_->Exec("CREATE TABLE t (x TEXT)").ok());
  }

  void Insert(const std::string& x) { ASSERT_TRUE(conn_->Prepare("INSERT INTO t VALUES (?1)").Bind(1, x).Run().ok()); }

  std::string Rows() {
    std::string out;
    Statement st = conn_->Prepare("SELECT x FROM t ORDER BY rowid");
    while (*st.Step()) out += st.Text(0);
    return out;
  }

  converge::testing::TempDir dir_{"converge-sqlite"};
  std::unique_ptr<Connection> conn_;
};

TEST_F(TransactionTest, CommitKeepsTheChanges) {
  {
    Transaction tx(*conn_);
    ASSERT_TRUE(tx.Begin().ok());
    EXPECT_TRUE(conn_->in_transaction());
    Insert("a");
    ASSERT_TRUE(tx.Commit().ok());
    EXPECT_FALSE(conn_->in_transaction());
  }
  EXPECT_EQ(Rows(), "a");
}

TEST_F(TransactionTest, DestructionWithoutCommitRollsBack) {
  {
    Transaction tx(*conn_);
    ASSERT_TRUE(tx.Begin().ok());
    Insert("a");
  }
  EXPECT_FALSE(conn_->in_transaction());
  EXPECT_EQ(Rows(), "");
}

TEST_F(TransactionTest, MisuseIsInternal) {
  Transaction tx(*conn_);
  EXPECT_EQ(tx.Commit().code(), Code::kInternal);  // never begun
  ASSERT_TRUE(tx.Begin().ok());
  EXPECT_EQ(tx.Begin().code(), Code::kInternal);
  ASSERT_TRUE(tx.Commit().ok());
  EXPECT_EQ(tx.Commit().code(), Code::kInternal);
}

TEST_F(TransactionTest, ASavepointRollsBackAloneAndTheTransactionGoesOn) {
  {
    Transaction tx(*conn_);
    ASSERT_TRUE(tx.Begin().ok());
    Insert("a");
    {
      Savepoint sp(*conn_);
      ASSERT_TRUE(sp.Begin().ok());
      Insert("b");
    }  // this part failed: b goes, a stays
    {
      Savepoint sp(*conn_);
      ASSERT_TRUE(sp.Begin().ok());
      Insert("c");
      {
        Savepoint inner(*conn_);
        ASSERT_TRUE(inner.Begin().ok());
        Insert("d");
      }
      ASSERT_TRUE(sp.Release().ok());
    }
    EXPECT_TRUE(conn_->in_transaction());
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_EQ(Rows(), "ac");
}

TEST_F(TransactionTest, ReleasedSavepointChangesStillRollBackWithTheTransaction) {
  {
    Transaction tx(*conn_);
    ASSERT_TRUE(tx.Begin().ok());
    Savepoint sp(*conn_);
    ASSERT_TRUE(sp.Begin().ok());
    Insert("a");
    ASSERT_TRUE(sp.Release().ok());
  }
  EXPECT_EQ(Rows(), "");
}

TEST_F(TransactionTest, AnOutermostSavepointIsATransactionOfItsOwn) {
  {
    Savepoint sp(*conn_);
    ASSERT_TRUE(sp.Begin().ok());
    EXPECT_TRUE(conn_->in_transaction());
    Insert("a");
  }
  EXPECT_FALSE(conn_->in_transaction());
  EXPECT_EQ(Rows(), "");
  {
    Savepoint sp(*conn_);
    ASSERT_TRUE(sp.Begin().ok());
    Insert("b");
    ASSERT_TRUE(sp.Release().ok());
  }
  EXPECT_FALSE(conn_->in_transaction());
  EXPECT_EQ(Rows(), "b");
}

}  // namespace
}  // namespace converge::sqlite
