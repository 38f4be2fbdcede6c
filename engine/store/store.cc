#include "engine/store/store.h"

#include <charconv>
#include <filesystem>
#include <set>

#include "engine/base/env.h"
#include "engine/sqlite/connection.h"
#include "engine/sqlite/error.h"
#include "engine/sqlite/migrator.h"

namespace converge {

namespace {

using sqlite::Migration;

// Schema migrations of component "store", applied in order by the Migrator, each in its own
// transaction with the version bump. NEVER edit a migration that has shipped: stores in the
// field already ran it. Change the schema by appending a migration and raising
// Store::kSchemaVersion.
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
    // Leases replace the one state-dir lock per apply; markers, action results, operations and
    // per-file results are what a cheap no-op plan, the run history and restarts need.
    {2, R"sql(
CREATE TABLE leases (
  source_id   INTEGER PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
  owner       TEXT NOT NULL,
  host        TEXT NOT NULL,
  pid         INTEGER NOT NULL,
  acquired_at INTEGER NOT NULL,
  renewed_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
);

CREATE TABLE cluster_markers (
  source_id   INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  cluster     TEXT NOT NULL,
  marker      TEXT NOT NULL,
  observed_at INTEGER NOT NULL,
  PRIMARY KEY (source_id, cluster)
);

CREATE TABLE sync_actions (
  run_id      INTEGER NOT NULL REFERENCES sync_runs(id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  cluster     TEXT NOT NULL,
  grp         TEXT NOT NULL,
  kind        TEXT NOT NULL,
  namespace   TEXT NOT NULL,
  name        TEXT NOT NULL,
  action      TEXT NOT NULL,
  outcome     TEXT NOT NULL,
  message     TEXT NOT NULL DEFAULT '',
  attempts    INTEGER NOT NULL DEFAULT 0,
  started_at  INTEGER NOT NULL DEFAULT 0,
  finished_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE operations (
  id          TEXT NOT NULL,
  source_id   INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  cloud       TEXT NOT NULL,
  cluster     TEXT NOT NULL,
  kind        TEXT NOT NULL,
  state       TEXT NOT NULL,
  message     TEXT NOT NULL DEFAULT '',
  started_at  INTEGER NOT NULL,
  finished_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (source_id, cluster, id)
);
CREATE INDEX operations_open ON operations (source_id, started_at) WHERE state = 'running';

CREATE TABLE file_results (
  blob_id TEXT NOT NULL,
  context TEXT NOT NULL,
  value   BLOB NOT NULL,
  PRIMARY KEY (blob_id, context)
);
)sql"},
    // How many rows of the cluster a marker vouches for (-1: unknown), so a no-op plan counts
    // them without reading them; and an index of pending rows, so "is anything pending" is one
    // lookup.
    {3, R"sql(
ALTER TABLE cluster_markers ADD COLUMN rows INTEGER NOT NULL DEFAULT -1;
CREATE INDEX inventory_pending ON inventory (source_id, cluster) WHERE pending = 1;
)sql"},
    // The git blob of the file each object came from, so a plan of a new commit reads only the
    // rows of files that changed (rows written before it have '' and are filled in by the next
    // plan that compares them).
    {4, R"sql(
ALTER TABLE inventory ADD COLUMN blob_id TEXT NOT NULL DEFAULT '';
CREATE INDEX inventory_by_blob ON inventory (source_id, blob_id);
)sql"},
};

static_assert(kMigrations[std::size(kMigrations) - 1].version == Store::kSchemaVersion,
              "the last migration must bring the store to kSchemaVersion");

// Converge builds before schema_versions kept the store's version in meta.schema_version.
Result<int> LegacyVersion(sqlite::Connection& conn) {
  sqlite::Statement has_meta = conn.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
  Result<bool> row = has_meta.Step();
  if (!row.ok()) return row.status();
  if (!*row) return 0;  // a new file, or one holding only other components' tables
  sqlite::Statement st = conn.Prepare("SELECT value FROM meta WHERE key = 'schema_version'");
  row = st.Step();
  if (!row.ok()) return row.status();
  if (!*row) return sqlite::CorruptError(conn.path(), "table meta has no schema_version");
  std::string text = st.Text(0);
  int version = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || end != text.data() + text.size() || version < 1) {
    return sqlite::CorruptError(conn.path(), "schema_version is \"" + text + "\", not a version number");
  }
  return version;
}

// Keeps meta.schema_version in step, so older builds refuse a file they do not understand.
Status WriteLegacyVersion(sqlite::Connection& conn, int version) {
  return conn
      .Prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?1) "
               "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .Bind(1, std::to_string(version))
      .Run();
}

const sqlite::Component& StoreComponent() {
  static const sqlite::Component component{"store", kMigrations, LegacyVersion, WriteLegacyVersion};
  return component;
}

// Every table the migrations create, so a file missing one (deleted by hand, a bad restore) is
// reported as damaged, naming the table, rather than failing later with SQL.
constexpr const char* kTables[] = {"meta",   "sources",         "sync_runs",    "inventory",  "events",      "parse_cache",
                                   "leases", "cluster_markers", "sync_actions", "operations", "file_results"};

Status CheckTables(sqlite::Connection& conn) {
  sqlite::Statement st = conn.Prepare("SELECT name FROM sqlite_master WHERE type = 'table'");
  std::set<std::string> present;
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    present.insert(st.Text(0));
  }
  std::string missing;
  for (const char* t : kTables) {
    if (!present.count(t)) missing += (missing.empty() ? "" : ", ") + std::string(t);
  }
  if (missing.empty()) return Status::Ok();
  return sqlite::CorruptError(conn.path(), "table " + missing + (missing.find(',') == std::string::npos ? " is" : " are") +
                                               " missing");
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, Env* env) {
  if (env == nullptr) env = Env::Default();
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    CONVERGE_RETURN_IF_ERROR(env->CreateDirs(parent.string()).WithContext("cannot open state store " + path));
  }
  Result<std::unique_ptr<sqlite::Connection>> conn = sqlite::Connection::Open(path);
  if (!conn.ok()) return conn.status();
  CONVERGE_RETURN_IF_ERROR(sqlite::Migrator(**conn).Run(StoreComponent()));
  CONVERGE_RETURN_IF_ERROR(CheckTables(**conn));
  return std::unique_ptr<Store>(new Store(std::move(conn).value(), path, env));
}

Store::Store(std::unique_ptr<sqlite::Connection> conn, std::string path, Env* env)
    : conn_(std::move(conn)),
      path_(std::move(path)),
      sources_(std::make_unique<SqliteSourceStore>(*conn_)),
      inventory_(std::make_unique<SqliteInventoryStore>(*conn_, env)),
      runs_(std::make_unique<SqliteRunLog>(*conn_, env)),
      events_(std::make_unique<EventLog>(*conn_, env)),
      operations_(std::make_unique<OperationStore>(*conn_, env)),
      parse_cache_(std::make_unique<SqliteParseCache>(*conn_)),
      file_results_(std::make_unique<FileResults>(*conn_)) {}

Store::~Store() = default;

bool Store::read_only() const { return conn_->read_only(); }

}  // namespace converge
