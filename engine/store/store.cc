#include "engine/store/store.h"

#include <charconv>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "engine/base/env.h"
#include "engine/source/identity.h"
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
// Migration 5. Until 5 a source was (url as typed, ref, path as typed): `./repo`, `/abs/repo`
// and `file:///abs/repo`, or two refs of one repository, were separate sources that overwrote
// each other's objects. Now a source is (normalized url, normalized path) with the ref as a
// property (engine/source/identity.h), and an object has one owner:
//   1. sources whose recorded url and path normalize to the same identity are merged into the one
//      synced last: the others' inventory rows move to it (where both have a row, the one updated
//      last stays), and so do their runs, events and operations; the survivor's last commit and
//      change markers are cleared, so its next plan reads Git in full. A relative path recorded
//      by an older converge cannot be resolved (the directory it was typed in is unknown): it is
//      kept as recorded, a source of its own.
//   2. an object that several sources still hold stays with the one that applied it last; the
//      others forget it (an event says so, and their next plan reads Git in full and refuses to
//      take it over: see the ownership check in engine/reconcile).
//   3. unique indexes make both rules hold from now on.
Status Run(sqlite::Connection& conn, const std::string& sql, std::initializer_list<int64_t> ids) {
  sqlite::Statement st = conn.Prepare(sql);
  int i = 1;
  for (int64_t id : ids) st.Bind(i++, id);
  return st.Run();
}

constexpr const char* kSameObject =
    "o.cluster = inventory.cluster AND o.grp = inventory.grp AND o.kind = inventory.kind AND "
    "o.namespace = inventory.namespace AND o.name = inventory.name";

Status MergeInto(sqlite::Connection& conn, int64_t survivor, int64_t loser) {
  const std::string same = kSameObject;
  CONVERGE_RETURN_IF_ERROR(Run(conn,
                               "DELETE FROM inventory WHERE source_id = ?2 AND EXISTS (SELECT 1 FROM inventory o "
                               "WHERE o.source_id = ?1 AND " + same + " AND o.updated_at >= inventory.updated_at)",
                               {survivor, loser}));
  CONVERGE_RETURN_IF_ERROR(Run(conn,
                               "DELETE FROM inventory WHERE source_id = ?1 AND EXISTS (SELECT 1 FROM inventory o "
                               "WHERE o.source_id = ?2 AND " + same + ")",
                               {survivor, loser}));
  for (const char* sql : {"UPDATE inventory SET source_id = ?1 WHERE source_id = ?2",
                          "UPDATE sync_runs SET source_id = ?1 WHERE source_id = ?2",
                          "UPDATE events SET source_id = ?1 WHERE source_id = ?2",
                          "UPDATE OR IGNORE operations SET source_id = ?1 WHERE source_id = ?2",
                          "DELETE FROM operations WHERE source_id = ?2", "DELETE FROM leases WHERE source_id = ?2",
                          "DELETE FROM cluster_markers WHERE source_id IN (?1, ?2)",
                          "DELETE FROM sources WHERE id = ?2"}) {
    CONVERGE_RETURN_IF_ERROR(Run(conn, sql, {survivor, loser}));
  }
  return Status::Ok();
}

Status MergeSources(sqlite::Connection& conn) {
  struct Row {
    int64_t id, synced_at;
    std::string url, path;
  };
  std::map<std::pair<std::string, std::string>, std::vector<Row>> by_identity;
  {
    sqlite::Statement st = conn.Prepare("SELECT id, url, path, last_sync_at FROM sources ORDER BY id");
    for (;;) {
      Result<bool> row = st.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      Row r{st.Int64(0), st.Int64(3), st.Text(1), st.Text(2)};
      bool resolved = false;
      std::string url = NormalizeRecordedUrl(r.url, &resolved);
      Result<std::string> path = NormalizeSourcePath(r.path);
      by_identity[{url, path.ok() ? *path : r.path}].push_back(std::move(r));
    }
  }
  for (auto& [identity, rows] : by_identity) {
    // The survivor: the source synced last (the newest id on a tie).
    const Row* survivor = &rows[0];
    for (const Row& r : rows)
      if (std::tie(r.synced_at, r.id) > std::tie(survivor->synced_at, survivor->id)) survivor = &r;
    for (const Row& r : rows)
      if (r.id != survivor->id) CONVERGE_RETURN_IF_ERROR(MergeInto(conn, survivor->id, r.id));
    sqlite::Statement st = conn.Prepare(rows.size() > 1
                                            ? "UPDATE sources SET url = ?2, path = ?3, last_commit = '' WHERE id = ?1"
                                            : "UPDATE sources SET url = ?2, path = ?3 WHERE id = ?1");
    st.Bind(1, survivor->id).Bind(2, identity.first).Bind(3, identity.second);
    CONVERGE_RETURN_IF_ERROR(st.Run());
  }
  // Objects several sources hold: the row updated last (then the newest source) keeps it.
  CONVERGE_RETURN_IF_ERROR(conn.Exec(R"sql(
CREATE TEMP TABLE lost_rows AS
  SELECT inventory.rowid AS row, inventory.source_id AS source_id FROM inventory
  WHERE EXISTS (SELECT 1 FROM inventory o WHERE )sql" + std::string(kSameObject) + R"sql(
                AND o.source_id != inventory.source_id
                AND (o.updated_at > inventory.updated_at
                     OR (o.updated_at = inventory.updated_at AND o.source_id > inventory.source_id)));
INSERT INTO events (at, source_id, level, reason, object, message)
  SELECT CAST(strftime('%s', 'now') AS INTEGER) * 1000, source_id, 'warning', 'OwnershipResolved', '',
         count(*) || ' objects another source applied later are now that source''s alone; this one no longer manages them'
  FROM lost_rows GROUP BY source_id;
UPDATE sources SET last_commit = '' WHERE id IN (SELECT source_id FROM lost_rows);
DELETE FROM cluster_markers WHERE source_id IN (SELECT source_id FROM lost_rows);
DELETE FROM inventory WHERE rowid IN (SELECT row FROM lost_rows);
DROP TABLE lost_rows;
CREATE UNIQUE INDEX sources_identity ON sources (url, path);
CREATE UNIQUE INDEX inventory_owner ON inventory (cluster, grp, kind, namespace, name);
)sql"));
  return Status::Ok();
}

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
    // One source per repository, one owner per object (see MergeSources).
    {5, R"sql(
ALTER TABLE sources ADD COLUMN fleet_digest TEXT NOT NULL DEFAULT '';
)sql",
     MergeSources},
    // Older builds cached parsed files holding Secrets (values included) in parse_cache and
    // file_results; both are only caches, rebuilt by the next plan.
    {6, R"sql(
DELETE FROM parse_cache;
DELETE FROM file_results;
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
