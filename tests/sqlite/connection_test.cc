// Connection and Statement against real SQLite files: binds and columns, the statement cache,
// the error mapping, and damage found on use and described without touching the file.
#include "engine/sqlite/connection.h"

#include <sqlite3.h>

#include <filesystem>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/sqlite/transaction.h"
#include "tests/testing/temp_dir.h"

namespace converge::sqlite {
namespace {

using ::converge::testing::ReadAll;
using ::converge::testing::TempDir;
using ::converge::testing::WriteAll;
using ::testing::HasSubstr;

std::unique_ptr<Connection> MustOpen(const std::string& path, OpenOptions options = {}) {
  Result<std::unique_ptr<Connection>> conn = Connection::Open(path, options);
  EXPECT_TRUE(conn.ok()) << conn.status().ToString();
  return conn.ok() ? std::move(conn).value() : nullptr;
}

// Runs `sql` on a plain sqlite3 handle (no converge code involved).
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

std::string JournalMode(Connection& conn) {
  Statement st = conn.Prepare("PRAGMA journal_mode");
  Result<bool> row = st.Step();
  return row.ok() && *row ? st.Text(0) : "?";
}

class ConnectionTest : public ::testing::Test {
 protected:
  TempDir dir_{"converge-sqlite"};
  std::string path_ = dir_.Join("test.db");
};

TEST_F(ConnectionTest, BindsAndReadsEveryType) {
  auto conn = MustOpen(path_);
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Exec("CREATE TABLE t (i INTEGER, n INTEGER, b INTEGER, d REAL, s TEXT, v TEXT, c TEXT, "
                         "blob BLOB, nul TEXT, o1 INTEGER, o2 INTEGER, e TEXT)")
                  .ok());
  const std::string with_nul("a\0b\0c", 5);
  const std::string bytes("\x00\xff\x01", 3);
  Statement ins = conn->Prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  ins.Bind(1, std::numeric_limits<int64_t>::max())
      .Bind(2, -7)
      .Bind(3, true)
      .Bind(4, 2.5)
      .Bind(5, with_nul)
      .Bind(6, std::string_view("view"))
      .Bind(7, "literal")
      .BindBlob(8, bytes)
      .BindNull(9)
      .Bind(10, std::optional<int64_t>(42))
      .Bind(11, std::optional<int64_t>())
      .Bind(12, std::string());
  ASSERT_TRUE(ins.Run().ok());

  Statement sel = conn->Prepare("SELECT i, n, b, d, s, v, c, blob, nul, o1, o2, e, typeof(c) FROM t");
  Result<bool> row = sel.Step();
  ASSERT_TRUE(row.ok() && *row) << row.status().ToString();
  EXPECT_EQ(sel.Int64(0), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(sel.Int(1), -7);
  EXPECT_TRUE(sel.Bool(2));
  EXPECT_DOUBLE_EQ(sel.Double(3), 2.5);
  EXPECT_EQ(sel.Text(4), with_nul);  // embedded NULs survive
  EXPECT_EQ(sel.Text(5), "view");
  EXPECT_EQ(sel.Text(6), "literal");  // a const char* binds text, not a bool
  EXPECT_EQ(sel.Text(12), "text");
  EXPECT_EQ(sel.Text(7), bytes);
  EXPECT_TRUE(sel.IsNull(8));
  EXPECT_EQ(sel.Text(8), "");
  EXPECT_EQ(sel.Int64(8), 0);
  EXPECT_EQ(sel.OptionalInt64(9), 42);
  EXPECT_EQ(sel.OptionalInt64(10), std::nullopt);
  EXPECT_TRUE(sel.IsNull(10));
  EXPECT_FALSE(sel.IsNull(11));  // "" is text, not NULL
  EXPECT_EQ(sel.Text(11), "");
  row = sel.Step();
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(*row);
}

TEST_F(ConnectionTest, BindErrorIsReportedByRunAndClearedByReset) {
  auto conn = MustOpen(path_);
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Exec("CREATE TABLE t (x INTEGER)").ok());
  Statement st = conn->Prepare("INSERT INTO t VALUES (?1)");
  st.Bind(5, int64_t{1});  // no parameter 5
  st.Bind(1, int64_t{1});
  EXPECT_FALSE(st.status().ok());
  Status s = st.Run();
  EXPECT_EQ(s.code(), Code::kInternal) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("cannot bind a parameter of \"INSERT INTO t VALUES (?1)\""));
  EXPECT_THAT(s.message(), HasSubstr(path_));
  // Run() reset the statement: it works again.
  EXPECT_TRUE(st.status().ok());
  EXPECT_TRUE(st.Bind(1, int64_t{2}).Run().ok());
  Statement count = conn->Prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(*count.Step());
  EXPECT_EQ(count.Int64(0), 1);  // the failed run inserted nothing
}

TEST_F(ConnectionTest, PrepareErrorIsKeptAndNotCached) {
  auto conn = MustOpen(path_);
  ASSERT_NE(conn, nullptr);
  const size_t before = conn->cached_statements();
  Statement st = conn->Prepare("SELEKT nothing");
  EXPECT_FALSE(st.status().ok());
  st.Bind(1, int64_t{1});  // binding a failed statement is harmless
  Status s = st.Run();
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("cannot prepare \"SELEKT nothing\""));
  EXPECT_FALSE(st.Step().ok());
  EXPECT_EQ(conn->cached_statements(), before);

  Statement two = conn->Prepare("SELECT 1; SELECT 2");
  EXPECT_EQ(two.status().code(), Code::kInternal);
  EXPECT_THAT(two.status().message(), HasSubstr("exactly one SQL statement"));
}

TEST_F(ConnectionTest, CacheHandsBackTheSameStatementWithoutOldBindings) {
  auto conn = MustOpen(path_);
  ASSERT_NE(conn, nullptr);
  const size_t before = conn->cached_statements();
  const std::string sql = "SELECT ?1";
  {
    Statement st = conn->Prepare(sql);
    st.Bind(1, int64_t{5});
    ASSERT_TRUE(*st.Step());
    EXPECT_EQ(st.Int64(0), 5);
  }  // left mid-way: the cache resets it
  for (int i = 0; i < 10; ++i) {
    Statement st = conn->Prepare(sql);
    ASSERT_TRUE(st.status().ok());
    ASSERT_TRUE(*st.Step());
    EXPECT_TRUE(st.IsNull(0)) << "bindings of an earlier use leaked into use " << i;
  }
  EXPECT_EQ(conn->cached_statements(), before + 1);
}

TEST_F(ConnectionTest, NestedUseOfOneSqlGetsAFreshStatement) {
  auto conn = MustOpen(path_);
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)").ok());
  const std::string sql = "SELECT x FROM t ORDER BY x";
  Statement outer = conn->Prepare(sql);
  ASSERT_TRUE(*outer.Step());
  EXPECT_EQ(outer.Int64(0), 1);
  {
    Statement inner = conn->Prepare(sql);  // the cached one is in use
    std::vector<int64_t> all;
    while (*inner.Step()) all.push_back(inner.Int64(0));
    EXPECT_EQ(all, (std::vector<int64_t>{1, 2, 3}));
  }  // inner goes away: it must not reset or free the outer statement
  std::vector<int64_t> rest;
  while (*outer.Step()) rest.push_back(outer.Int64(0));
  EXPECT_EQ(rest, (std::vector<int64_t>{2, 3}));
}

TEST_F(ConnectionTest, ChangesAndLastInsertRowid) {
  auto conn = MustOpen(path_);
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)").ok());
  ASSERT_TRUE(conn->Prepare("INSERT INTO t (x) VALUES (?1)").Bind(1, 10).Run().ok());
  ASSERT_TRUE(conn->Prepare("INSERT INTO t (x) VALUES (?1)").Bind(1, 20).Run().ok());
  EXPECT_EQ(conn->last_insert_rowid(), 2);
  ASSERT_TRUE(conn->Prepare("UPDATE t SET x = 0").Run().ok());
  EXPECT_EQ(conn->changes(), 2);
}

TEST_F(ConnectionTest, AWriteLockHeldElsewhereIsRetryableUnavailable) {
  auto holder = MustOpen(path_);
  auto other = MustOpen(path_);
  ASSERT_NE(holder, nullptr);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(holder->Exec("CREATE TABLE t (x INTEGER)").ok());
  Transaction held(*holder);
  ASSERT_TRUE(held.Begin().ok());
  ASSERT_TRUE(other->SetBusyTimeout(0).ok());

  Transaction tx(*other);
  Status s = tx.Begin();
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_TRUE(s.retryable());
  EXPECT_THAT(s.message(), HasSubstr("in state store " + path_));
  EXPECT_THAT(s.message(), HasSubstr("another process held the database for too long; retry"));
  Status write = other->Prepare("INSERT INTO t VALUES (1)").Run();
  EXPECT_EQ(write.code(), Code::kUnavailable) << write.ToString();
  EXPECT_TRUE(write.retryable());
}

TEST_F(ConnectionTest, ConstraintViolationIsConflict) {
  auto conn = MustOpen(path_);
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Exec("CREATE TABLE t (x INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE(conn->Prepare("INSERT INTO t VALUES (1)").Run().ok());
  Status s = conn->Prepare("INSERT INTO t VALUES (1)").Run();
  EXPECT_EQ(s.code(), Code::kConflict) << s.ToString();
  EXPECT_FALSE(s.retryable());
}

TEST_F(ConnectionTest, OpenWritesNothingAndTheFirstTransactionTurnsOnWal) {
  RawExec(path_, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)");
  const std::string before = ReadAll(path_);
  {
    auto conn = MustOpen(path_);
    ASSERT_NE(conn, nullptr);
    Statement st = conn->Prepare("SELECT x FROM t");
    ASSERT_TRUE(*st.Step());
    EXPECT_EQ(JournalMode(*conn), "delete");
  }
  EXPECT_EQ(ReadAll(path_), before);

  auto conn = MustOpen(path_);
  ASSERT_NE(conn, nullptr);
  Transaction tx(*conn);
  ASSERT_TRUE(tx.Begin().ok());
  ASSERT_TRUE(tx.Commit().ok());
  EXPECT_EQ(JournalMode(*conn), "wal");

  auto plain = MustOpen(dir_.Join("plain.db"), OpenOptions{.wal = false});
  ASSERT_NE(plain, nullptr);
  Transaction plain_tx(*plain);
  ASSERT_TRUE(plain_tx.Begin().ok());
  ASSERT_TRUE(plain_tx.Commit().ok());
  EXPECT_EQ(JournalMode(*plain), "delete");
}

TEST_F(ConnectionTest, MissingFileWithoutCreateIsUnavailable) {
  Result<std::unique_ptr<Connection>> conn = Connection::Open(dir_.Join("absent.db"), OpenOptions{.create = false});
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), Code::kUnavailable) << conn.status().ToString();
  EXPECT_THAT(conn.status().message(), HasSubstr(dir_.Join("absent.db")));
  EXPECT_FALSE(std::filesystem::exists(dir_.Join("absent.db")));
}

// A new file is linked into place with its header written: it is never seen empty, however many
// openers race to create it.
void CreateConcurrently(int threads) {
  TempDir dir{"converge-sqlite"};
  std::string path = dir.Join("new.db");
  std::vector<std::thread> workers;
  std::vector<std::string> errors(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([&, i] {
      Result<std::unique_ptr<Connection>> conn = Connection::Open(path);
      if (!conn.ok()) errors[static_cast<size_t>(i)] = conn.status().ToString();
    });
  }
  for (auto& w : workers) w.join();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  EXPECT_GT(std::filesystem::file_size(path), 0u);
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename().string(), "new.db");  // no temporary file left
  }
}

TEST(ConnectionCreateTest, NewFileIsNeverEmpty1Thread) { CreateConcurrently(1); }
TEST(ConnectionCreateTest, NewFileIsNeverEmpty4Threads) { CreateConcurrently(4); }

TEST_F(ConnectionTest, EmptyFileIsCorruptAndLeftEmpty) {
  WriteAll(path_, "");
  Result<std::unique_ptr<Connection>> conn = Connection::Open(path_);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), Code::kCorrupt);
  EXPECT_THAT(conn.status().message(), HasSubstr(path_ + " is damaged (it is empty: 0 bytes"));
  EXPECT_EQ(std::filesystem::file_size(path_), 0u);
}

TEST_F(ConnectionTest, ForeignKeysAreEnforced) {
  auto conn = MustOpen(path_);
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Exec("CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (p INTEGER REFERENCES p(id))").ok());
  EXPECT_EQ(conn->Prepare("INSERT INTO c VALUES (7)").Run().code(), Code::kConflict);
}

TEST_F(ConnectionTest, AFileThatIsNotADatabaseIsCorruptAtOpenAndLeftUnchanged) {
  std::string garbage;
  for (int i = 0; i < 8192; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) % 256));
  WriteAll(path_, garbage);
  Result<std::unique_ptr<Connection>> conn = Connection::Open(path_);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), Code::kCorrupt) << conn.status().ToString();
  EXPECT_EQ(conn.status().message(), "state store " + path_ +
                                         " is damaged (file is not a database): restore it from a backup or move "
                                         "it away to start fresh");
  EXPECT_EQ(ReadAll(path_), garbage);
}

TEST_F(ConnectionTest, DamageIsFoundOnUseDescribedByQuickCheckAndLeftUnchanged) {
  {
    auto conn = MustOpen(path_);
    ASSERT_NE(conn, nullptr);
    ASSERT_TRUE(conn->Exec("CREATE TABLE small (x INTEGER); INSERT INTO small VALUES (1);"
                           "CREATE TABLE big (id INTEGER PRIMARY KEY, body TEXT)")
                    .ok());
    Transaction tx(*conn);
    ASSERT_TRUE(tx.Begin().ok());
    for (int i = 0; i < 3000; ++i) {
      ASSERT_TRUE(conn->Prepare("INSERT INTO big (body) VALUES (?1)").Bind(1, std::string(200, 'x')).Run().ok());
    }
    ASSERT_TRUE(tx.Commit().ok());
  }  // closing the last connection checkpoints the WAL into the main file
  std::string bytes = ReadAll(path_);
  ASSERT_GT(bytes.size(), 256u * 1024);
  // Overwrite B-tree pages in the middle of the file; the first pages (schema, small) stay intact.
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 8192; ++i) bytes[i] = static_cast<char>(0xA5);
  WriteAll(path_, bytes);

  auto conn = MustOpen(path_);  // the schema is readable: opening succeeds
  ASSERT_NE(conn, nullptr);
  {
    Statement small = conn->Prepare("SELECT x FROM small");
    Result<bool> row = small.Step();
    ASSERT_TRUE(row.ok() && *row) << row.status().ToString();  // undamaged pages still read

    Statement scan = conn->Prepare("SELECT count(*), sum(length(body)) FROM big");
    Result<bool> damaged = scan.Step();
    ASSERT_FALSE(damaged.ok());
    const Status& s = damaged.status();
    EXPECT_EQ(s.code(), Code::kCorrupt) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr("state store " + path_ + " is damaged (quick_check: "));
    EXPECT_THAT(s.message(), HasSubstr("): restore it from a backup or move it away to start fresh"));
    EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("\n")));  // one readable line
  }
  conn.reset();
  EXPECT_EQ(ReadAll(path_), bytes);
}

}  // namespace
}  // namespace converge::sqlite
