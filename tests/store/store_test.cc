// Store (opening, migrations, damage, and the parts it had before the split by concept), against
// real SQLite files in a temporary directory.
#include "engine/store/store.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/store/store_fixture.h"
#include "tests/testing/processes.h"

namespace converge {
namespace {

using ::testing::HasSubstr;

using testing::ReadAll;
using testing::TempDir;
using testing::WriteAll;

TEST_F(StoreTest, FreshOpenCreatesParentDirAndSchema) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->path(), db_path_);
  EXPECT_TRUE(std::filesystem::exists(db_path_));

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  int tables = 0;
  std::string version;
  sqlite3_exec(
      db,
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
      "('meta', 'sources', 'sync_runs', 'inventory', 'events', 'parse_cache')",
      [](void* out, int, char** vals, char**) {
        *static_cast<int*>(out) = std::atoi(vals[0]);
        return 0;
      },
      &tables, nullptr);
  sqlite3_exec(
      db, "SELECT value FROM meta WHERE key = 'schema_version'",
      [](void* out, int, char** vals, char**) {
        *static_cast<std::string*>(out) = vals[0];
        return 0;
      },
      &version, nullptr);
  std::string mode;
  sqlite3_exec(
      db, "PRAGMA journal_mode",
      [](void* out, int, char** vals, char**) {
        *static_cast<std::string*>(out) = vals[0];
        return 0;
      },
      &mode, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(tables, 6);
  EXPECT_EQ(version, std::to_string(Store::kSchemaVersion));  // older builds read it there
  EXPECT_EQ(mode, "wal");
  EXPECT_EQ(Query(db_path_,
                  "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                  "('leases', 'cluster_markers', 'sync_actions', 'operations', 'file_results')"),
            "5");
  EXPECT_EQ(Query(db_path_, "SELECT version FROM schema_versions WHERE component = 'store'"),
            std::to_string(Store::kSchemaVersion));
}

TEST_F(StoreTest, ReopenKeepsData) {
  int64_t source_id = 0;
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto src = store->sources()->Upsert("file:///repo", "main", "fleet");
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    source_id = src->id;
    ASSERT_TRUE(store->sources()->SetSynced(source_id, "abc123", 42).ok());
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto sources = store->sources()->List();
  ASSERT_TRUE(sources.ok());
  ASSERT_EQ(sources->size(), 1u);
  EXPECT_EQ((*sources)[0].id, source_id);
  EXPECT_EQ((*sources)[0].last_commit, "abc123");
  EXPECT_EQ((*sources)[0].last_sync_at, 42);
}

TEST_F(StoreTest, OpensAFileThatHoldsOnlyOtherComponentsTables) {
  std::filesystem::create_directories(dir_.Join("state"));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE sim_clusters (name TEXT PRIMARY KEY)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->sources()->Upsert("u", "r", "p").ok());
}

TEST_F(StoreTest, NewerSchemaIsRefusedAndFileUntouched) {
  std::filesystem::create_directories(dir_.Join("state"));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                         "INSERT INTO meta VALUES ('schema_version', '99');",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  std::string before = ReadAll(db_path_);

  auto store = Store::Open(db_path_, &env_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kUnsupported);
  EXPECT_EQ(store.status().message(), "state store " + db_path_ +
                                          " was written by a newer converge (store schema 99, this build knows up "
                                          "to " +
                                          std::to_string(Store::kSchemaVersion) + "): upgrade converge");
  EXPECT_EQ(ReadAll(db_path_), before);
}

TEST_F(StoreTest, AVersionOneStoreIsMigratedForwardOnceKeepingItsData) {
  int64_t source_id = 0;
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto src = store->sources()->Upsert("file:///repo", "main", "");
    ASSERT_TRUE(src.ok());
    source_id = src->id;
    ASSERT_TRUE(store->inventory()->Write({{MakeEntry(source_id, 1)}, {}}).ok());
  }
  // Turn the file into what a converge of schema 1 left: no later tables, no schema_versions.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TABLE leases; DROP TABLE cluster_markers; DROP TABLE sync_actions; "
                         "DROP TABLE operations; DROP TABLE file_results; DROP TABLE schema_versions; "
                         "DROP INDEX inventory_pending; DROP INDEX inventory_by_blob; "
                         "ALTER TABLE inventory DROP COLUMN blob_id; "
                         "DROP INDEX sources_identity; DROP INDEX inventory_owner; "
                         "ALTER TABLE sources DROP COLUMN fleet_digest; "
                         "UPDATE meta SET value = '1' WHERE key = 'schema_version';",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Query(db_path_, "SELECT value FROM meta WHERE key = 'schema_version'"), std::to_string(Store::kSchemaVersion));
  EXPECT_EQ(Query(db_path_, "SELECT version FROM schema_versions WHERE component = 'store'"),
            std::to_string(Store::kSchemaVersion));
  auto rows = store->inventory()->Load(source_id);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u);
  auto lease = store->sources()->AcquireLease(source_id, LeaseOwner{"me", "host", 1}, 1000, env_.NowMillis());
  EXPECT_TRUE(lease.ok()) << lease.status().ToString();  // the new tables are there
}

TEST_F(StoreTest, GarbageFileIsCorruptAndLeftUnchanged) {
  std::filesystem::create_directories(dir_.Join("state"));
  std::string garbage;
  for (int i = 0; i < 8192; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) % 256));
  WriteAll(db_path_, garbage);

  auto store = Store::Open(db_path_, &env_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kCorrupt);
  EXPECT_THAT(store.status().message(), HasSubstr("state store " + db_path_ + " is damaged ("));
  EXPECT_THAT(store.status().message(),
              HasSubstr("restore it from a backup or move it away to start fresh"));
  EXPECT_EQ(ReadAll(db_path_), garbage);
}

TEST_F(StoreTest, DamagedPageIsCorruptAndLeftUnchanged) {
  int64_t source_id = 0;
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto src = store->sources()->Upsert("u", "r", "p");
    ASSERT_TRUE(src.ok());
    std::vector<InventoryEntry> rows;
    for (int i = 0; i < 2000; ++i) {
      InventoryEntry e;
      e.source_id = src->id;
      e.ref = Ref("c", "apps", "Deployment", "ns", "obj-" + std::to_string(i));
      e.last_applied = std::string(200, 'x');
      rows.push_back(e);
    }
    ASSERT_TRUE(store->inventory()->Write({rows, {}}).ok());
    source_id = src->id;
  }  // closing the last connection checkpoints the WAL into the main file
  std::string bytes = ReadAll(db_path_);
  ASSERT_GT(bytes.size(), 64u * 1024);
  // Overwrite the middle of the file (inventory B-tree pages), keeping the schema pages intact.
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 8192; ++i) bytes[i] = static_cast<char>(0xA5);
  WriteAll(db_path_, bytes);

  {
    // Integrity is checked when damage shows, not on every open: opening reads only the schema.
    auto store = Store::Open(db_path_, &env_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto sources = (*store)->sources()->List();  // pages that are intact still read
    ASSERT_TRUE(sources.ok()) << sources.status().ToString();
    EXPECT_EQ(sources->size(), 1u);
    // The first operation that touches the damaged pages says so, with quick_check's finding.
    auto rows = (*store)->inventory()->Load(source_id);
    ASSERT_FALSE(rows.ok());
    EXPECT_EQ(rows.status().code(), Code::kCorrupt) << rows.status().ToString();
    EXPECT_THAT(rows.status().message(), HasSubstr("state store " + db_path_ + " is damaged (quick_check: "));
    EXPECT_THAT(rows.status().message(), HasSubstr("restore it from a backup or move it away to start fresh"));
    EXPECT_THAT(rows.status().message(), ::testing::Not(HasSubstr("\n")));  // one readable line
  }
  EXPECT_EQ(ReadAll(db_path_), bytes);
}

TEST_F(StoreTest, EmptyFileIsDamagedAndLeftUnchanged) {
  // A new state file is never empty (its header is written before it is linked into place), so
  // an empty one was truncated: taking it for a new store would forget everything converge manages.
  std::filesystem::create_directories(dir_.Join("state"));
  WriteAll(db_path_, "");
  auto store = Store::Open(db_path_, &env_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kCorrupt);
  EXPECT_THAT(store.status().message(), HasSubstr("state store " + db_path_ + " is damaged (it is empty: 0 bytes"));
  EXPECT_THAT(store.status().message(), HasSubstr("restore it from a backup or move it away to start fresh"));
  EXPECT_EQ(std::filesystem::file_size(db_path_), 0u);
}

TEST_F(StoreTest, ANewFileIsNeverEmptyAndLeavesNoTemporaryFile) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_GT(std::filesystem::file_size(db_path_), 0u);
  for (const auto& e : std::filesystem::directory_iterator(dir_.Join("state"))) {
    EXPECT_EQ(e.path().string().find(".new."), std::string::npos) << e.path();
  }
}

TEST_F(StoreTest, MissingTableIsDamagedNamingTheTable) {
  { ASSERT_NE(OpenStore(), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE inventory", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = Store::Open(db_path_, &env_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kCorrupt);
  EXPECT_EQ(store.status().message(), "state store " + db_path_ +
                                          " is damaged (table inventory is missing): restore it from a backup or move "
                                          "it away to start fresh");
}

TEST_F(StoreTest, UpsertSourceIsIdempotent) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto a = store->sources()->Upsert("file:///repo", "main", "fleet");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(store->sources()->SetSynced(a->id, "c1", 100).ok());
  auto again = store->sources()->Upsert("file:///repo", "main", "fleet");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, a->id);
  EXPECT_EQ(again->last_commit, "c1");  // upsert does not reset sync state
  EXPECT_EQ(again->last_sync_at, 100);
  auto other = store->sources()->Upsert("file:///repo", "main", "other");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->id, a->id);
  EXPECT_EQ(other->last_commit, "");

  auto all = store->sources()->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].path, "fleet");
  EXPECT_EQ((*all)[1].path, "other");
}

TEST_F(StoreTest, SetSourceSyncedUnknownIdIsNotFound) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Status s = store->sources()->SetSynced(77, "c", 1);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("77"));
}

TEST_F(StoreTest, SyncRunsBeginFinishAndListNewestFirst) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto src = store->sources()->Upsert("file:///repo", "main", "");
  ASSERT_TRUE(src.ok());

  auto first = store->runs()->Begin(src->id, "plan", "c1");
  ASSERT_TRUE(first.ok());
  const int64_t first_started = env_.NowMillis();
  env_.Advance(1000);
  SyncRun done;
  done.id = *first;
  done.result = "succeeded";
  done.created = 3;
  done.updated = 2;
  done.deleted = 1;
  done.unchanged = 7;
  done.message = "ok";
  ASSERT_TRUE(store->runs()->Finish(done).ok());
  env_.Advance(1000);
  auto second = store->runs()->Begin(src->id, "apply", "");
  ASSERT_TRUE(second.ok());
  EXPECT_GT(*second, *first);

  auto runs = store->runs()->List(10);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 2u);
  const SyncRun& newest = (*runs)[0];
  EXPECT_EQ(newest.id, *second);
  EXPECT_EQ(newest.operation, "apply");
  EXPECT_EQ(newest.result, "running");
  EXPECT_EQ(newest.finished_at, 0);
  EXPECT_EQ(newest.source_url, "file:///repo");
  const SyncRun& oldest = (*runs)[1];
  EXPECT_EQ(oldest.id, *first);
  EXPECT_EQ(oldest.commit, "c1");  // kept when FinishSyncRun passes no commit
  EXPECT_EQ(oldest.started_at, first_started);
  EXPECT_EQ(oldest.finished_at, first_started + 1000);
  EXPECT_EQ(oldest.result, "succeeded");
  EXPECT_EQ(oldest.created, 3);
  EXPECT_EQ(oldest.updated, 2);
  EXPECT_EQ(oldest.deleted, 1);
  EXPECT_EQ(oldest.unchanged, 7);
  EXPECT_EQ(oldest.message, "ok");

  // The commit resolved during the run replaces the empty one.
  SyncRun failed;
  failed.id = *second;
  failed.result = "failed";
  failed.commit = "c2";
  failed.finished_at = 5;
  ASSERT_TRUE(store->runs()->Finish(failed).ok());
  runs = store->runs()->List(1);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].commit, "c2");
  EXPECT_EQ((*runs)[0].finished_at, 5);
  EXPECT_EQ((*runs)[0].result, "failed");
}

TEST_F(StoreTest, SyncRunErrors) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->runs()->Begin(12, "apply", "c").status().code(), Code::kNotFound);
  SyncRun missing;
  missing.id = 999;
  missing.result = "succeeded";
  EXPECT_EQ(store->runs()->Finish(missing).code(), Code::kNotFound);
  SyncRun still_running;
  still_running.id = 1;
  still_running.result = "running";
  EXPECT_EQ(store->runs()->Finish(still_running).code(), Code::kInvalid);
}

TEST_F(StoreTest, MarkInterruptedFlipsOnlyRunningRuns) {
  int64_t finished = 0, crashed = 0, src_id = 0;
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto src = store->sources()->Upsert("u", "r", "p");
    ASSERT_TRUE(src.ok());
    src_id = src->id;
    finished = *store->runs()->Begin(src->id, "apply", "c1");
    SyncRun run;
    run.id = finished;
    run.result = "succeeded";
    ASSERT_TRUE(store->runs()->Finish(run).ok());
    crashed = *store->runs()->Begin(src->id, "apply", "c2");
  }  // the "process" goes away without finishing the second run
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto runs = store->runs()->List(0);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ((*runs)[0].result, "running");

  ASSERT_TRUE(store->runs()->MarkInterrupted(src_id).ok());
  runs = store->runs()->List(0);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].id, crashed);
  EXPECT_EQ((*runs)[0].result, "interrupted");
  EXPECT_EQ((*runs)[0].finished_at, 0);
  EXPECT_FALSE((*runs)[0].message.empty());
  EXPECT_EQ((*runs)[1].id, finished);
  EXPECT_EQ((*runs)[1].result, "succeeded");
  EXPECT_TRUE(store->runs()->MarkInterrupted(src_id).ok());  // nothing running: a no-op
}

TEST_F(StoreTest, InventoryRoundTripOfTenThousandRowsInOneCall) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto src = store->sources()->Upsert("file:///a", "main", "");
  auto other = store->sources()->Upsert("file:///b", "main", "");
  ASSERT_TRUE(src.ok() && other.ok());

  constexpr int kRows = 10000;
  std::vector<InventoryEntry> rows;
  std::map<ObjectRef, InventoryEntry> want;
  for (int i = 0; i < kRows; ++i) {
    rows.push_back(MakeEntry(src->id, i));
    want[rows.back().ref] = rows.back();
  }
  ASSERT_TRUE(store->inventory()->Write({rows, {}}).ok());
  InventoryEntry foreign = MakeEntry(other->id, kRows);  // one owner per object: another object
  foreign.updated_at = 7;
  ASSERT_TRUE(store->inventory()->Write({{foreign}, {}}).ok());

  auto loaded = store->inventory()->Load(src->id);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->size(), static_cast<size_t>(kRows));
  for (const InventoryEntry& got : *loaded) {
    auto it = want.find(got.ref);
    ASSERT_NE(it, want.end()) << got.ref.ToString();
    ExpectSameEntry(got, it->second, env_.NowMillis());
  }
  auto everything = store->inventory()->Load(0);
  ASSERT_TRUE(everything.ok());
  EXPECT_EQ(everything->size(), static_cast<size_t>(kRows + 1));

  // Update half, delete a quarter, in one call; the other source is untouched.
  env_.Advance(5000);
  std::vector<InventoryEntry> updates;
  std::vector<std::pair<int64_t, ObjectRef>> deletes;
  for (int i = 0; i < kRows; ++i) {
    if (i % 2 == 0) {
      InventoryEntry e = MakeEntry(src->id, i);
      e.desired_hash = "new";
      e.pending = false;
      e.health = "Progressing";
      updates.push_back(e);
      want[e.ref] = e;
    } else if (i % 4 == 1) {
      deletes.push_back({src->id, MakeEntry(src->id, i).ref});
      want.erase(MakeEntry(src->id, i).ref);
    }
  }
  deletes.push_back({other->id, Ref("nope", "", "ConfigMap", "x", "y")});  // absent: not an error
  ASSERT_TRUE(store->inventory()->Write({updates, deletes}).ok());

  loaded = store->inventory()->Load(src->id);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), want.size());
  for (const InventoryEntry& got : *loaded) {
    auto it = want.find(got.ref);
    ASSERT_NE(it, want.end()) << got.ref.ToString();
    const bool updated = it->second.desired_hash == "new";
    ExpectSameEntry(got, it->second, updated ? env_.NowMillis() : env_.NowMillis() - 5000);
  }
  auto theirs = store->inventory()->Load(other->id);
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(theirs->size(), 1u);
  ExpectSameEntry((*theirs)[0], foreign, 7);
}

TEST_F(StoreTest, WriteInventoryIsAllOrNothing) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto src = store->sources()->Upsert("u", "r", "p");
  ASSERT_TRUE(src.ok());
  std::vector<InventoryEntry> rows = {MakeEntry(src->id, 1), MakeEntry(src->id + 100, 2)};  // 2nd: no source
  Status s = store->inventory()->Write({rows, {}});
  EXPECT_EQ(s.code(), Code::kNotFound) << s.ToString();
  auto loaded = store->inventory()->Load(0);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->empty());
}

TEST_F(StoreTest, EventsAreAppendedAndListedNewestFirst) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Event e;
  e.level = "info";
  e.reason = "Applied";
  e.object = "cluster-a: Deployment/guestbook/frontend";
  e.message = "created";
  ASSERT_TRUE(store->events()->Add(e).ok());
  env_.Advance(10);
  e.level = "error";
  e.reason = "ApplyFailed";
  e.message = "boom";
  e.at = 123;
  ASSERT_TRUE(store->events()->Add(e).ok());
  ASSERT_TRUE(store->events()->Add(e).ok());

  auto events = store->events()->List(2);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_GT((*events)[0].id, (*events)[1].id);
  EXPECT_EQ((*events)[0].reason, "ApplyFailed");
  EXPECT_EQ((*events)[0].at, 123);
  auto all = store->events()->List(0);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  const Event& first = (*all)[2];
  EXPECT_EQ(first.level, "info");
  EXPECT_EQ(first.reason, "Applied");
  EXPECT_EQ(first.object, "cluster-a: Deployment/guestbook/frontend");
  EXPECT_EQ(first.message, "created");
  EXPECT_EQ(first.at, env_.NowMillis() - 10);
  EXPECT_EQ(first.source_id, 0);
}

TEST_F(StoreTest, ParseCacheGetPut) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ParseCache* cache = store->parse_cache();
  EXPECT_EQ(cache->Get("blob1"), std::nullopt);
  std::string parsed = std::string("line1\n\0binary", 13);
  EXPECT_TRUE(cache->Put("blob1", parsed).ok());
  EXPECT_EQ(cache->Get("blob1"), parsed);
  EXPECT_TRUE(cache->Put("blob1", "something else").ok());  // content-addressed: the first value stays
  EXPECT_EQ(cache->Get("blob1"), parsed);
  EXPECT_EQ(cache->Get("blob2"), std::nullopt);

  store.reset();
  store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->parse_cache()->Get("blob1"), parsed);
}

TEST_F(StoreTest, TwoConnectionsShareTheFile) {
  auto a = OpenStore();
  auto b = OpenStore();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto src = a->sources()->Upsert("u", "r", "p");
  ASSERT_TRUE(src.ok());
  auto same = b->sources()->Upsert("u", "r", "p");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->id, src->id);
  ASSERT_TRUE(b->inventory()->Write({{MakeEntry(src->id, 1)}, {}}).ok());
  auto loaded = a->inventory()->Load(src->id);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->size(), 1u);
}

}  // namespace
}  // namespace converge

namespace converge {
namespace {

// Migration 5: the sources an older converge kept per spelling become one per repository, and
// objects several sources held get one owner.
TEST_F(StoreTest, OlderStoresGetOneSourcePerRepositoryAndOneOwnerPerObject) {
  { ASSERT_NE(OpenStore(), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  // What a converge of schema 4 left, spelling by spelling.
  const char* kSchema4 = R"sql(
DROP INDEX sources_identity; DROP INDEX inventory_owner; ALTER TABLE sources DROP COLUMN fleet_digest;
UPDATE schema_versions SET version = 4 WHERE component = 'store';
UPDATE meta SET value = '4' WHERE key = 'schema_version';
INSERT INTO sources (id, url, ref, path, last_commit, last_sync_at) VALUES
  (1, '/abs/repo', '', '', 'c1', 100),
  (2, 'file:///abs/repo', 'main', 'fleet/', 'c2', 200),
  (3, '/abs/repo/', '', './fleet', 'c3', 300),
  (4, 'repo', 'main', '', 'c4', 400),
  (5, 'https://GitHub.com/o/r.git', 'main', '', 'c5', 50),
  (6, 'https://github.com/o/r', '', '', 'c6', 60);
INSERT INTO inventory (source_id, cluster, grp, kind, namespace, name, last_applied, updated_at) VALUES
  (2, 'a', '', 'ConfigMap', 'ns', 'x', 'x of 2', 10),
  (3, 'a', '', 'ConfigMap', 'ns', 'x', 'x of 3', 20),
  (2, 'a', '', 'ConfigMap', 'ns', 'y', 'y of 2', 10),
  (1, 'a', '', 'ConfigMap', 'ns', 'z', 'z of 1', 5),
  (4, 'a', '', 'ConfigMap', 'ns', 'z', 'z of 4', 9);
INSERT INTO sync_runs (source_id, operation, started_at, result) VALUES (2, 'apply', 1, 'succeeded');
INSERT INTO cluster_markers (source_id, cluster, marker, observed_at) VALUES (3, 'a', 'm', 1), (1, 'a', 'm', 1);
)sql";
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db, kSchema4, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  sqlite3_close(db);

  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto sources = store->sources()->List();
  ASSERT_TRUE(sources.ok()) << sources.status().ToString();
  std::map<int64_t, SourceRecord> by_id;
  for (const SourceRecord& s : *sources) by_id[s.id] = s;
  ASSERT_EQ(by_id.size(), 4u) << "2 merged into 3 (synced last), 5 into 6";
  EXPECT_EQ(by_id[1].url, "file:///abs/repo");
  EXPECT_EQ(by_id[1].path, "");
  EXPECT_EQ(by_id[3].url, "file:///abs/repo");
  EXPECT_EQ(by_id[3].path, "fleet");
  EXPECT_EQ(by_id[3].last_commit, "") << "a merged inventory may mix commits: the next plan reads Git";
  EXPECT_EQ(by_id[4].url, "repo") << "a relative path of unknown directory stays as recorded";
  EXPECT_EQ(by_id[6].url, "https://github.com/o/r");
  EXPECT_EQ(by_id[6].last_commit, "");
  EXPECT_EQ(by_id[1].last_commit, "") << "source 1 lost an object to a later owner";
  EXPECT_EQ(by_id[4].last_commit, "c4");

  EXPECT_EQ(Query(db_path_, "SELECT group_concat(source_id || ':' || name || '=' || last_applied, ',') FROM "
                            "(SELECT * FROM inventory ORDER BY name)"),
            "3:x=x of 3,3:y=y of 2,4:z=z of 4");
  EXPECT_EQ(Query(db_path_, "SELECT count(*) FROM sync_runs WHERE source_id = 3"), "1") << "history moves along";
  EXPECT_EQ(Query(db_path_, "SELECT count(*) FROM cluster_markers"), "0");
  EXPECT_EQ(Query(db_path_, "SELECT source_id || ' ' || reason FROM events"), "1 OwnershipResolved");

  // From now on an identity is one row, whatever the ref.
  auto again = store->sources()->Upsert("file:///abs/repo", "dev", "fleet");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, 3);
  EXPECT_EQ(again->ref, "dev");
  auto peek = store->sources()->Upsert("file:///abs/repo", "other", "fleet", /*take_ref=*/false);
  ASSERT_TRUE(peek.ok());
  EXPECT_EQ(peek->ref, "dev") << "a plan does not move the source's ref";
}

}  // namespace
}  // namespace converge
