#include "engine/store/store.h"

#include <charconv>
#include <filesystem>

#include "engine/base/env.h"
#include "engine/store/sqlite_util.h"

namespace converge {

namespace {

using sqlite::Statement;
using sqlite::Transaction;

// Another connection (another converge, or the sim provider) may hold the write lock briefly.
constexpr int kBusyTimeoutMs = 10000;

struct Migration {
  int version;
  const char* sql;
};

// Schema migrations, applied in order, each in its own transaction together with the version
// bump in meta. NEVER edit a migration that has shipped: stores in the field already ran it.
// Change the schema by appending a new migration and raising Store::kSchemaVersion.
//
// sync_runs and events use AUTOINCREMENT so ids are never reused and "newest first" is simply
// "id descending" (the rowid, no extra index needed).
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE sources (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  url          TEXT NOT NULL,
  ref          TEXT NOT NULL,
  path         TEXT NOT NULL,
  last_commit  TEXT NOT NULL DEFAULT '',
  last_sync_at INTEGER NOT NULL DEFAULT 0,
  UNIQUE (url, ref, path)
);

CREATE TABLE sync_runs (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  source_id   INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  operation   TEXT NOT NULL,
  commit_sha  TEXT NOT NULL DEFAULT '',
  started_at  INTEGER NOT NULL,
  finished_at INTEGER NOT NULL DEFAULT 0,
  result      TEXT NOT NULL,
  created     INTEGER NOT NULL DEFAULT 0,
  updated     INTEGER NOT NULL DEFAULT 0,
  deleted     INTEGER NOT NULL DEFAULT 0,
  unchanged   INTEGER NOT NULL DEFAULT 0,
  message     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sync_runs_by_source ON sync_runs (source_id, id DESC);
CREATE INDEX sync_runs_running ON sync_runs (id) WHERE result = 'running';

CREATE TABLE inventory (
  source_id      INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  cluster        TEXT NOT NULL,
  grp            TEXT NOT NULL,
  kind           TEXT NOT NULL,
  namespace      TEXT NOT NULL,
  name           TEXT NOT NULL,
  api_version    TEXT NOT NULL DEFAULT '',
  last_applied   TEXT NOT NULL DEFAULT '',
  desired_hash   TEXT NOT NULL DEFAULT '',
  live_version   TEXT NOT NULL DEFAULT '',
  health         TEXT NOT NULL DEFAULT '',
  health_message TEXT NOT NULL DEFAULT '',
  drift          INTEGER NOT NULL DEFAULT 0,
  pending        INTEGER NOT NULL DEFAULT 0,
  updated_at     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (source_id, cluster, grp, kind, namespace, name)
);

CREATE TABLE events (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  at        INTEGER NOT NULL,
  source_id INTEGER NOT NULL DEFAULT 0,  -- 0: not tied to a source (no foreign key)
  level     TEXT NOT NULL,
  reason    TEXT NOT NULL,
  object    TEXT NOT NULL DEFAULT '',
  message   TEXT NOT NULL DEFAULT ''
);

CREATE TABLE parse_cache (
  blob_id TEXT PRIMARY KEY,
  parsed  BLOB NOT NULL
);
)sql"},
};

static_assert(kMigrations[std::size(kMigrations) - 1].version == Store::kSchemaVersion,
              "the last migration must bring the store to kSchemaVersion");

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

// Runs PRAGMA quick_check; anything but "ok" (or a file that is not a database) is Corrupt.
Status CheckIntegrity(sqlite3* db, const std::string& path) {
  Statement st(db, "PRAGMA quick_check(1)", path);  // stop at the first problem
  CONVERGE_RETURN_IF_ERROR(st.status());
  Result<bool> row = st.Step();
  if (!row.ok()) return row.status();
  if (!*row) return sqlite::CorruptError(path, "quick_check returned nothing");
  std::string first = st.Text(0);
  if (first != "ok") {
    // e.g. "*** in database main ***\nPage 87: btreeInitPage() returns error code 11": one line.
    const std::string header = "*** in database main ***\n";
    if (first.rfind(header, 0) == 0) first.erase(0, header.size());
    for (char& c : first) {
      if (c == '\n') c = ' ';
    }
    if (first.size() > 200) first = first.substr(0, 200) + "...";
    return sqlite::CorruptError(path, "quick_check: " + first);
  }
  return Status::Ok();
}

// Returns the stored schema version; 0 for a file without our meta table (new, or holding only
// other components' tables, e.g. the sim provider's).
Result<int> ReadSchemaVersion(sqlite3* db, const std::string& path) {
  Statement has_meta(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'", path);
  Result<bool> row = has_meta.Step();
  if (!row.ok()) return row.status();
  if (!*row || has_meta.Int64(0) == 0) return 0;

  Statement st(db, "SELECT value FROM meta WHERE key = 'schema_version'", path);
  row = st.Step();
  if (!row.ok()) return row.status();
  if (!*row) return sqlite::CorruptError(path, "table meta has no schema_version");
  std::string text = st.Text(0);
  int version = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || end != text.data() + text.size() || version < 1) {
    return sqlite::CorruptError(path, "schema_version is \"" + text + "\", not a version number");
  }
  return version;
}

Status NewerSchemaError(const std::string& path, int version) {
  return Status::Unsupported("state store " + path + " was written by a newer converge (schema " +
                             std::to_string(version) + ", this build knows up to " +
                             std::to_string(Store::kSchemaVersion) + "): upgrade converge");
}

// Applies every migration above `from`, each in its own transaction. Re-reads the version inside
// the transaction, so two processes opening a new file at once migrate it once.
Status Migrate(sqlite3* db, const std::string& path, int from) {
  for (const Migration& m : kMigrations) {
    if (m.version <= from) continue;
    Transaction tx(db, path);
    CONVERGE_RETURN_IF_ERROR(tx.Begin());
    Result<int> current = ReadSchemaVersion(db, path);
    if (!current.ok()) return current.status();
    if (*current > Store::kSchemaVersion) return NewerSchemaError(path, *current);
    if (*current >= m.version) continue;  // another process got there first; tx rolls back
    CONVERGE_RETURN_IF_ERROR(sqlite::Exec(db, m.sql, path)
                                 .WithContext("migration to schema " + std::to_string(m.version)));
    Statement bump(db,
                   "INSERT INTO meta (key, value) VALUES ('schema_version', ?1) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                   path);
    bump.Bind(1, std::to_string(m.version));
    CONVERGE_RETURN_IF_ERROR(bump.Run());
    CONVERGE_RETURN_IF_ERROR(tx.Commit());
  }
  return Status::Ok();
}

constexpr const char* kSyncRunColumns =
    "r.id, r.source_id, s.url, r.operation, r.commit_sha, r.started_at, r.finished_at, r.result, "
    "r.created, r.updated, r.deleted, r.unchanged, r.message";

SyncRun ReadSyncRun(const Statement& st) {
  SyncRun run;
  run.id = st.Int64(0);
  run.source_id = st.Int64(1);
  run.source_url = st.Text(2);
  run.operation = st.Text(3);
  run.commit = st.Text(4);
  run.started_at = st.Int64(5);
  run.finished_at = st.Int64(6);
  run.result = st.Text(7);
  run.created = static_cast<int>(st.Int64(8));
  run.updated = static_cast<int>(st.Int64(9));
  run.deleted = static_cast<int>(st.Int64(10));
  run.unchanged = static_cast<int>(st.Int64(11));
  run.message = st.Text(12);
  return run;
}

constexpr const char* kInventoryColumns =
    "source_id, cluster, grp, kind, namespace, name, api_version, last_applied, desired_hash, "
    "live_version, health, health_message, drift, pending, updated_at";

InventoryEntry ReadInventoryEntry(const Statement& st) {
  InventoryEntry e;
  e.source_id = st.Int64(0);
  e.ref.cluster = st.Text(1);
  e.ref.key.group = st.Text(2);
  e.ref.key.kind = st.Text(3);
  e.ref.key.ns = st.Text(4);
  e.ref.key.name = st.Text(5);
  e.api_version = st.Text(6);
  e.last_applied = st.Text(7);
  e.desired_hash = st.Text(8);
  e.live_version = st.Text(9);
  e.health = st.Text(10);
  e.health_message = st.Text(11);
  e.drift = st.Int64(12) != 0;
  e.pending = st.Int64(13) != 0;
  e.updated_at = st.Int64(14);
  return e;
}

// Binds source_id and the object identity to parameters first..first+5.
void BindRef(Statement& st, int first, int64_t source_id, const ObjectRef& ref) {
  st.Bind(first, source_id);
  st.Bind(first + 1, ref.cluster);
  st.Bind(first + 2, ref.key.group);
  st.Bind(first + 3, ref.key.kind);
  st.Bind(first + 4, ref.key.ns);
  st.Bind(first + 5, ref.key.name);
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, Env* env) {
  if (env == nullptr) env = Env::Default();
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    CONVERGE_RETURN_IF_ERROR(env->CreateDirs(parent.string()).WithContext("cannot open state store " + path));
  }

  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) return sqlite::Error(db.get(), rc, "cannot open the file", path);
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);

  // Read-only checks first: a damaged or newer file must be left exactly as it is.
  CONVERGE_RETURN_IF_ERROR(CheckIntegrity(db.get(), path));
  Result<int> version = ReadSchemaVersion(db.get(), path);
  if (!version.ok()) return version.status();
  if (*version > kSchemaVersion) return NewerSchemaError(path, *version);

  CONVERGE_RETURN_IF_ERROR(sqlite::Exec(db.get(), "PRAGMA journal_mode = WAL", path));
  CONVERGE_RETURN_IF_ERROR(sqlite::Exec(db.get(), "PRAGMA synchronous = NORMAL", path));
  CONVERGE_RETURN_IF_ERROR(sqlite::Exec(db.get(), "PRAGMA foreign_keys = ON", path));
  CONVERGE_RETURN_IF_ERROR(Migrate(db.get(), path, *version));

  return std::unique_ptr<Store>(new Store(db.release(), path, env));
}

Store::Store(sqlite3* db, std::string path, Env* env) : db_(db), path_(std::move(path)), env_(env) {}

Store::~Store() { sqlite3_close_v2(db_); }

// ---- sources ----

Result<SourceRecord> Store::UpsertSource(const std::string& url, const std::string& ref, const std::string& path) {
  Transaction tx(db_, path_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  Statement ins(db_, "INSERT INTO sources (url, ref, path) VALUES (?1, ?2, ?3) ON CONFLICT (url, ref, path) DO NOTHING",
                path_);
  ins.Bind(1, url);
  ins.Bind(2, ref);
  ins.Bind(3, path);
  CONVERGE_RETURN_IF_ERROR(ins.Run());
  Statement sel(db_,
                "SELECT id, url, ref, path, last_commit, last_sync_at FROM sources "
                "WHERE url = ?1 AND ref = ?2 AND path = ?3",
                path_);
  sel.Bind(1, url);
  sel.Bind(2, ref);
  sel.Bind(3, path);
  Result<bool> row = sel.Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Internal("source " + url + " vanished right after it was written to " + path_);
  SourceRecord rec{sel.Int64(0), sel.Text(1), sel.Text(2), sel.Text(3), sel.Text(4), sel.Int64(5)};
  sel.Reset();
  CONVERGE_RETURN_IF_ERROR(tx.Commit());
  return rec;
}

Result<std::vector<SourceRecord>> Store::ListSources() {
  Statement st(db_, "SELECT id, url, ref, path, last_commit, last_sync_at FROM sources ORDER BY id", path_);
  std::vector<SourceRecord> out;
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(SourceRecord{st.Int64(0), st.Text(1), st.Text(2), st.Text(3), st.Text(4), st.Int64(5)});
  }
  return out;
}

Status Store::SetSourceSynced(int64_t source_id, const std::string& commit, int64_t at) {
  Transaction tx(db_, path_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  Statement st(db_, "UPDATE sources SET last_commit = ?2, last_sync_at = ?3 WHERE id = ?1", path_);
  st.Bind(1, source_id);
  st.Bind(2, commit);
  st.Bind(3, at);
  CONVERGE_RETURN_IF_ERROR(st.Run());
  if (sqlite3_changes(db_) == 0) {
    return Status::NotFound("source id " + std::to_string(source_id) + " is not in state store " + path_);
  }
  return tx.Commit();
}

// ---- sync runs ----

Result<int64_t> Store::BeginSyncRun(int64_t source_id, const std::string& operation, const std::string& commit) {
  Transaction tx(db_, path_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  Statement st(db_,
               "INSERT INTO sync_runs (source_id, operation, commit_sha, started_at, result) "
               "VALUES (?1, ?2, ?3, ?4, 'running')",
               path_);
  st.Bind(1, source_id);
  st.Bind(2, operation);
  st.Bind(3, commit);
  st.Bind(4, env_->NowMillis());
  Status s = st.Run();
  if (s.code() == Code::kConflict) {
    return Status::NotFound("cannot record a " + operation + " run: source id " + std::to_string(source_id) +
                            " is not in state store " + path_);
  }
  CONVERGE_RETURN_IF_ERROR(s);
  int64_t id = sqlite3_last_insert_rowid(db_);
  CONVERGE_RETURN_IF_ERROR(tx.Commit());
  return id;
}

Status Store::FinishSyncRun(const SyncRun& run) {
  if (run.result.empty() || run.result == "running") {
    return Status::Invalid("FinishSyncRun for run " + std::to_string(run.id) +
                           " needs a final result (succeeded, failed or interrupted), got \"" + run.result + "\"");
  }
  Transaction tx(db_, path_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  // The commit may only be known after the run started (the fetch resolves the ref): keep the
  // stored one when the caller passes none.
  Statement st(db_,
               "UPDATE sync_runs SET finished_at = ?2, result = ?3, created = ?4, updated = ?5, "
               "deleted = ?6, unchanged = ?7, message = ?8, "
               "commit_sha = CASE WHEN ?9 = '' THEN commit_sha ELSE ?9 END WHERE id = ?1",
               path_);
  st.Bind(1, run.id);
  st.Bind(2, run.finished_at != 0 ? run.finished_at : env_->NowMillis());
  st.Bind(3, run.result);
  st.Bind(4, static_cast<int64_t>(run.created));
  st.Bind(5, static_cast<int64_t>(run.updated));
  st.Bind(6, static_cast<int64_t>(run.deleted));
  st.Bind(7, static_cast<int64_t>(run.unchanged));
  st.Bind(8, run.message);
  st.Bind(9, run.commit);
  CONVERGE_RETURN_IF_ERROR(st.Run());
  if (sqlite3_changes(db_) == 0) {
    return Status::NotFound("sync run " + std::to_string(run.id) + " is not in state store " + path_);
  }
  return tx.Commit();
}

Result<std::vector<SyncRun>> Store::ListSyncRuns(int limit) {
  std::string sql = std::string("SELECT ") + kSyncRunColumns +
                    " FROM sync_runs r JOIN sources s ON s.id = r.source_id ORDER BY r.id DESC LIMIT ?1";
  Statement st(db_, sql, path_);
  st.Bind(1, static_cast<int64_t>(limit > 0 ? limit : -1));
  std::vector<SyncRun> out;
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(ReadSyncRun(st));
  }
  return out;
}

Status Store::MarkInterrupted() {
  Transaction tx(db_, path_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  Statement st(db_,
               "UPDATE sync_runs SET result = 'interrupted', "
               "message = CASE WHEN message = '' THEN 'the process ended before the run finished' "
               "ELSE message END WHERE result = 'running'",
               path_);
  CONVERGE_RETURN_IF_ERROR(st.Run());
  return tx.Commit();
}

// ---- inventory ----

Result<std::vector<InventoryEntry>> Store::LoadInventory(int64_t source_id) {
  std::string sql = std::string("SELECT ") + kInventoryColumns + " FROM inventory";
  if (source_id != 0) sql += " WHERE source_id = ?1";
  sql += " ORDER BY source_id, cluster, grp, kind, namespace, name";
  Statement st(db_, sql, path_);
  if (source_id != 0) st.Bind(1, source_id);
  std::vector<InventoryEntry> out;
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(ReadInventoryEntry(st));
  }
  return out;
}

Status Store::WriteInventory(const std::vector<InventoryEntry>& upserts,
                             const std::vector<std::pair<int64_t, ObjectRef>>& deletes) {
  if (upserts.empty() && deletes.empty()) return Status::Ok();
  const int64_t now = env_->NowMillis();
  Transaction tx(db_, path_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  if (!upserts.empty()) {
    Statement up(db_,
                 std::string("INSERT INTO inventory (") + kInventoryColumns +
                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
                     "ON CONFLICT (source_id, cluster, grp, kind, namespace, name) DO UPDATE SET "
                     "api_version = excluded.api_version, last_applied = excluded.last_applied, "
                     "desired_hash = excluded.desired_hash, live_version = excluded.live_version, "
                     "health = excluded.health, health_message = excluded.health_message, "
                     "drift = excluded.drift, pending = excluded.pending, updated_at = excluded.updated_at",
                 path_);
    CONVERGE_RETURN_IF_ERROR(up.status());
    for (const InventoryEntry& e : upserts) {
      BindRef(up, 1, e.source_id, e.ref);
      up.Bind(7, e.api_version);
      up.Bind(8, e.last_applied);
      up.Bind(9, e.desired_hash);
      up.Bind(10, e.live_version);
      up.Bind(11, e.health);
      up.Bind(12, e.health_message);
      up.Bind(13, static_cast<int64_t>(e.drift ? 1 : 0));
      up.Bind(14, static_cast<int64_t>(e.pending ? 1 : 0));
      up.Bind(15, e.updated_at != 0 ? e.updated_at : now);
      Status s = up.Run();
      if (!s.ok()) {
        if (s.code() == Code::kConflict) {
          return Status::NotFound("cannot record " + e.ref.ToString() + " in the inventory: source id " +
                                  std::to_string(e.source_id) + " is not in state store " + path_);
        }
        return s.WithContext("inventory row " + e.ref.ToString());
      }
    }
  }
  if (!deletes.empty()) {
    Statement del(db_,
                  "DELETE FROM inventory WHERE source_id = ?1 AND cluster = ?2 AND grp = ?3 AND kind = ?4 "
                  "AND namespace = ?5 AND name = ?6",
                  path_);
    CONVERGE_RETURN_IF_ERROR(del.status());
    for (const auto& [source_id, ref] : deletes) {
      BindRef(del, 1, source_id, ref);
      CONVERGE_RETURN_IF_ERROR(del.Run().WithContext("inventory row " + ref.ToString()));
    }
  }
  return tx.Commit();
}

// ---- events ----

Status Store::AddEvent(const Event& event) {
  Transaction tx(db_, path_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  Statement st(db_,
               "INSERT INTO events (at, source_id, level, reason, object, message) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
               path_);
  st.Bind(1, event.at != 0 ? event.at : env_->NowMillis());
  st.Bind(2, event.source_id);
  st.Bind(3, event.level);
  st.Bind(4, event.reason);
  st.Bind(5, event.object);
  st.Bind(6, event.message);
  CONVERGE_RETURN_IF_ERROR(st.Run());
  return tx.Commit();
}

Result<std::vector<Event>> Store::ListEvents(int limit) {
  Statement st(db_,
               "SELECT id, at, source_id, level, reason, object, message FROM events "
               "ORDER BY id DESC LIMIT ?1",
               path_);
  st.Bind(1, static_cast<int64_t>(limit > 0 ? limit : -1));
  std::vector<Event> out;
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(Event{st.Int64(0), st.Int64(1), st.Int64(2), st.Text(3), st.Text(4), st.Text(5), st.Text(6)});
  }
  return out;
}

// ---- parse cache ----

std::optional<std::string> Store::Get(const std::string& blob_id) {
  Statement st(db_, "SELECT parsed FROM parse_cache WHERE blob_id = ?1", path_);
  st.Bind(1, blob_id);
  Result<bool> row = st.Step();
  if (!row.ok() || !*row) return std::nullopt;  // a cache: errors read as misses
  return st.Text(0);
}

void Store::Put(const std::string& blob_id, const std::string& parsed) {
  // Content-addressed: an existing row already holds the same value. A failed write only costs a
  // re-parse next time, so errors are ignored. A single statement is its own transaction.
  Statement st(db_, "INSERT OR IGNORE INTO parse_cache (blob_id, parsed) VALUES (?1, ?2)", path_);
  st.Bind(1, blob_id);
  st.BindBlob(2, parsed);
  (void)st.Run();
}

}  // namespace converge
