// Migrator on real files: fresh, forward, newer refused, legacy version places, failures, and
// processes (forked) that race or wait on the migrate lock.
#include "engine/sqlite/migrator.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/processes.h"
#include "tests/testing/temp_dir.h"

namespace converge::sqlite {
namespace {

using ::converge::testing::Pipe;
using ::converge::testing::ReadAll;
using ::converge::testing::TempDir;
using ::converge::testing::WaitForExit;
using ::converge::testing::WaitUntilBlockedOnFlock;

// No IF NOT EXISTS: running a migration twice fails, and `applied` counts each run.
constexpr Migration kDemo[] = {
    {1, "CREATE TABLE applied (version INTEGER NOT NULL); CREATE TABLE t1 (x INTEGER); INSERT INTO applied VALUES (1);"},
    {2, "CREATE TABLE t2 (x INTEGER); INSERT INTO applied VALUES (2);"},
    {3, "CREATE TABLE t3 (x INTEGER); INSERT INTO applied VALUES (3);"},
};

Component Demo(size_t known) { return Component{"demo", std::span<const Migration>(kDemo, known), {}, {}}; }

// A component whose older builds kept their version in old_meta(version).
Component Legacy(size_t known) {
  Component c = Demo(known);
  c.legacy_version = [](Connection& conn) -> Result<int> {
    Statement has = conn.Prepare("SELECT 1 FROM sqlite_master WHERE name = 'old_meta'");
    Result<bool> row = has.Step();
    if (!row.ok()) return row.status();
    if (!*row) return 0;
    Statement st = conn.Prepare("SELECT version FROM old_meta");
    row = st.Step();
    if (!row.ok()) return row.status();
    return *row ? st.Int(0) : 0;
  };
  c.write_legacy_version = [](Connection& conn, int version) -> Status {
    CONVERGE_RETURN_IF_ERROR(conn.Exec("CREATE TABLE IF NOT EXISTS old_meta (version INTEGER NOT NULL)"));
    CONVERGE_RETURN_IF_ERROR(conn.Exec("DELETE FROM old_meta"));
    return conn.Prepare("INSERT INTO old_meta VALUES (?1)").Bind(1, version).Run();
  };
  return c;
}

class MigratorTest : public ::testing::Test {
 protected:
  std::unique_ptr<Connection> Open() {
    Result<std::unique_ptr<Connection>> conn = Connection::Open(path_);
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    return conn.ok() ? std::move(conn).value() : nullptr;
  }

  Status Migrate(const Component& c) {
    auto conn = Open();
    if (conn == nullptr) return Status::Internal("no connection");
    return Migrator(*conn).Run(c);
  }

  int VersionOf(const Component& c) {
    auto conn = Open();
    if (conn == nullptr) return -1;
    Result<int> v = Migrator(*conn).Version(c);
    return v.ok() ? *v : -1;
  }

  // The versions recorded in `applied`, in order.
  std::vector<int> Applied() {
    auto conn = Open();
    std::vector<int> out;
    if (conn == nullptr) return out;
    Statement st = conn->Prepare("SELECT version FROM applied ORDER BY rowid");
    for (Result<bool> row = st.Step(); row.ok() && *row; row = st.Step()) out.push_back(st.Int(0));
    return out;
  }

  void Exec(const std::string& sql) {
    auto conn = Open();
    ASSERT_NE(conn, nullptr);
    ASSERT_TRUE(conn->Exec(sql).ok());
  }

  // Forks a process that migrates the file to `known` and then sends 'D' (or 'E' on failure);
  // its exit code is 0 on success. The child closes `held_lock` (a descriptor shares its flock).
  pid_t ForkMigrator(size_t known, Pipe& report, Pipe* start = nullptr, int held_lock = -1) {
    pid_t pid = fork();
    if (pid == 0) {
      if (held_lock >= 0) close(held_lock);
      report.CloseRead();
      if (start != nullptr) {
        start->CloseWrite();
        start->Receive();  // everyone starts when the parent closes its end
      }
      Status st = Migrate(Demo(known));
      if (!st.ok()) std::fprintf(stderr, "child %d: %s\n", getpid(), st.ToString().c_str());
      report.Send(st.ok() ? 'D' : 'E');
      _exit(st.ok() ? 0 : 3);
    }
    return pid;
  }

  // Takes the migrate lock as another process would; -1 on failure.
  int HoldMigrateLock() {
    int fd = open(Migrator::LockPath(path_).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  TempDir dir_{"converge-migrator"};
  std::string path_ = dir_.Join("test.db");
};

TEST_F(MigratorTest, FreshFileGetsEveryMigration) {
  EXPECT_EQ(VersionOf(Demo(3)), 0);
  ASSERT_TRUE(Migrate(Demo(3)).ok());
  EXPECT_EQ(VersionOf(Demo(3)), 3);
  EXPECT_EQ(Applied(), (std::vector<int>{1, 2, 3}));
  auto conn = Open();
  Statement st = conn->Prepare("SELECT component, version FROM schema_versions");
  ASSERT_TRUE(*st.Step());
  EXPECT_EQ(st.Text(0), "demo");
  EXPECT_EQ(st.Int(1), 3);
  EXPECT_FALSE(*st.Step());
}

TEST_F(MigratorTest, OlderFileGoesForwardOnlyThroughWhatItLacks) {
  ASSERT_TRUE(Migrate(Demo(1)).ok());
  EXPECT_EQ(VersionOf(Demo(1)), 1);
  ASSERT_TRUE(Migrate(Demo(3)).ok());
  EXPECT_EQ(Applied(), (std::vector<int>{1, 2, 3}));
  ASSERT_TRUE(Migrate(Demo(3)).ok());  // up to date: nothing runs again
  EXPECT_EQ(Applied(), (std::vector<int>{1, 2, 3}));
}

TEST_F(MigratorTest, ComponentsInOneFileKeepTheirOwnVersions) {
  ASSERT_TRUE(Migrate(Demo(2)).ok());
  constexpr Migration kOther[] = {{1, "CREATE TABLE other (x INTEGER)"}};
  Component other{"other", kOther, {}, {}};
  ASSERT_TRUE(Migrate(other).ok());
  EXPECT_EQ(VersionOf(other), 1);
  EXPECT_EQ(VersionOf(Demo(2)), 2);
}

TEST_F(MigratorTest, NewerFileIsRefusedAndLeftByteForByte) {
  ASSERT_TRUE(Migrate(Demo(3)).ok());
  const std::string before = ReadAll(path_);
  Status s = Migrate(Demo(2));
  EXPECT_EQ(s.code(), Code::kUnsupported) << s.ToString();
  EXPECT_EQ(s.message(), "state store " + path_ +
                             " was written by a newer converge (demo schema 3, this build knows up to 2): "
                             "upgrade converge");
  EXPECT_EQ(ReadAll(path_), before);
  EXPECT_EQ(Applied(), (std::vector<int>{1, 2, 3}));
}

TEST_F(MigratorTest, LegacyVersionIsReadAndKeptInStep) {
  // A file as an older build left it: migration 1's tables, its version only in old_meta.
  Exec(std::string(kDemo[0].sql) + "CREATE TABLE old_meta (version INTEGER NOT NULL); INSERT INTO old_meta VALUES (1);");
  EXPECT_EQ(VersionOf(Legacy(3)), 1);
  ASSERT_TRUE(Migrate(Legacy(3)).ok());
  EXPECT_EQ(Applied(), (std::vector<int>{1, 2, 3}));  // migration 1 was not run again
  auto conn = Open();
  Statement st = conn->Prepare("SELECT version FROM old_meta");
  ASSERT_TRUE(*st.Step());
  EXPECT_EQ(st.Int(0), 3);  // an older build reading old_meta sees 3 and refuses the file
}

TEST_F(MigratorTest, LegacyPlaceNewerThanThisBuildIsRefusedAndLeftUnchanged) {
  Exec("CREATE TABLE old_meta (version INTEGER NOT NULL); INSERT INTO old_meta VALUES (7);");
  const std::string before = ReadAll(path_);
  Status s = Migrate(Legacy(3));
  EXPECT_EQ(s.code(), Code::kUnsupported) << s.ToString();
  EXPECT_THAT(s.message(), ::testing::HasSubstr("(demo schema 7, this build knows up to 3)"));
  EXPECT_EQ(ReadAll(path_), before);
}

TEST_F(MigratorTest, TheLargerOfTheTwoPlacesWins) {
  ASSERT_TRUE(Migrate(Legacy(2)).ok());
  Exec("UPDATE old_meta SET version = 3");  // e.g. a newer build that wrote only the legacy place
  EXPECT_EQ(VersionOf(Legacy(2)), 3);
  EXPECT_EQ(Migrate(Legacy(2)).code(), Code::kUnsupported);
  Exec("UPDATE old_meta SET version = 1; UPDATE schema_versions SET version = 4");
  EXPECT_EQ(VersionOf(Legacy(3)), 4);
  EXPECT_EQ(Migrate(Legacy(3)).code(), Code::kUnsupported);
}

TEST_F(MigratorTest, AFailingMigrationRollsBackWithItsVersionBump) {
  ASSERT_TRUE(Migrate(Demo(1)).ok());
  constexpr Migration kBroken[] = {kDemo[0], {2, "CREATE TABLE t2 (x INTEGER); INSERT INTO nowhere VALUES (1);"}};
  Component broken{"demo", kBroken, {}, {}};
  Status s = Migrate(broken);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), ::testing::HasSubstr("migration of demo to schema 2"));
  EXPECT_THAT(s.message(), ::testing::HasSubstr("nowhere"));
  EXPECT_EQ(VersionOf(Demo(1)), 1);
  auto conn = Open();
  Statement st = conn->Prepare("SELECT count(*) FROM sqlite_master WHERE name = 't2'");
  ASSERT_TRUE(*st.Step());
  EXPECT_EQ(st.Int(0), 0);  // the first statement of the migration was rolled back too
}

TEST_F(MigratorTest, BadlyNumberedMigrationsAreInternal) {
  constexpr Migration kGap[] = {{1, "SELECT 1"}, {3, "SELECT 1"}};
  EXPECT_EQ(Migrate(Component{"gap", kGap, {}, {}}).code(), Code::kInternal);
}

TEST_F(MigratorTest, MigrationsWaitForTheMigrateLock) {
  int held = HoldMigrateLock();
  ASSERT_GE(held, 0);
  Pipe report;
  pid_t child = ForkMigrator(3, report, nullptr, held);
  report.CloseWrite();
  EXPECT_TRUE(WaitUntilBlockedOnFlock(child, Migrator::LockPath(path_), report));
  EXPECT_FALSE(report.Ready());
  EXPECT_EQ(VersionOf(Demo(3)), 0);  // nothing migrated while we hold the lock
  close(held);
  EXPECT_EQ(report.Receive(), 'D');
  EXPECT_EQ(WaitForExit(child), 0);
  EXPECT_EQ(Applied(), (std::vector<int>{1, 2, 3}));
}

TEST_F(MigratorTest, AnUpToDateFileNeedsNoLock) {
  ASSERT_TRUE(Migrate(Demo(3)).ok());
  int held = HoldMigrateLock();
  ASSERT_GE(held, 0);
  Pipe report;
  pid_t child = ForkMigrator(3, report, nullptr, held);
  report.CloseWrite();
  EXPECT_FALSE(WaitUntilBlockedOnFlock(child, Migrator::LockPath(path_), report));
  close(held);
  EXPECT_EQ(report.Receive(), 'D');
  EXPECT_EQ(WaitForExit(child), 0);
}

TEST_F(MigratorTest, MigrationsAnotherProcessAppliedWhileWeWaitedAreSkipped) {
  int held = HoldMigrateLock();
  ASSERT_GE(held, 0);
  Pipe report;
  pid_t child = ForkMigrator(3, report, nullptr, held);
  report.CloseWrite();
  ASSERT_TRUE(WaitUntilBlockedOnFlock(child, Migrator::LockPath(path_), report));
  // Meanwhile a process that takes no lock (an older converge) migrates the file.
  Exec(std::string(kDemo[0].sql) + kDemo[1].sql + kDemo[2].sql +
       "CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL);"
       "INSERT INTO schema_versions VALUES ('demo', 3);");
  close(held);
  EXPECT_EQ(report.Receive(), 'D');
  EXPECT_EQ(WaitForExit(child), 0);
  EXPECT_EQ(Applied(), (std::vector<int>{1, 2, 3}));
}

class MigratorRaceTest : public MigratorTest, public ::testing::WithParamInterface<int> {};

TEST_P(MigratorRaceTest, ProcessesOpeningANewFileAtOnceApplyEachMigrationOnce) {
  const int processes = GetParam();
  Pipe start;
  Pipe report;
  std::vector<pid_t> children;
  for (int i = 0; i < processes; ++i) children.push_back(ForkMigrator(3, report, &start));
  report.CloseWrite();
  start.CloseWrite();  // go
  for (pid_t child : children) EXPECT_EQ(WaitForExit(child), 0) << "child " << child;
  EXPECT_EQ(Applied(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(VersionOf(Demo(3)), 3);
}

INSTANTIATE_TEST_SUITE_P(Processes, MigratorRaceTest, ::testing::Values(2, 4),
                         [](const ::testing::TestParamInfo<int>& info) { return std::to_string(info.param); });

}  // namespace
}  // namespace converge::sqlite
