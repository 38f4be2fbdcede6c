#include "providers/sim/sim_db.h"

#include <map>
#include <utility>

#include "engine/sqlite/migrator.h"

namespace converge::sim {
namespace {

// Migrations of component "sim", applied in order by the Migrator. NEVER edit one that has
// shipped; append a new one and raise kSchemaVersion.
//
// Migration 1 is the schema converge created before the sim had migrations, which made it with
// CREATE ... IF NOT EXISTS and recorded version 1 in sim_meta. Such files read as version 1 (the
// legacy place) and skip it; were it run on one anyway, it would change nothing.
constexpr sqlite::Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE IF NOT EXISTS sim_meta(
  schema_version INTEGER NOT NULL,
  next_rv INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sim_clouds(
  name TEXT PRIMARY KEY,
  regions TEXT NOT NULL,
  create_ms INTEGER NOT NULL,
  pod_start_ms INTEGER NOT NULL,
  upgrade_step_ms INTEGER NOT NULL,
  scale_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sim_clusters(
  name TEXT PRIMARY KEY,
  cloud TEXT NOT NULL,
  region TEXT NOT NULL,
  zone TEXT NOT NULL,
  manifest TEXT NOT NULL,
  uid TEXT NOT NULL,
  rv INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  ready_at INTEGER NOT NULL,
  version TEXT NOT NULL,
  upgrade_to TEXT NOT NULL DEFAULT '',
  upgrade_at INTEGER NOT NULL DEFAULT 0,
  upgrade_pools TEXT NOT NULL DEFAULT '[]',
  scale_until INTEGER NOT NULL DEFAULT 0,
  deletion_protection INTEGER NOT NULL DEFAULT 0,
  faults TEXT NOT NULL DEFAULT '{}',
  next_event_at INTEGER,
  next_ip INTEGER NOT NULL DEFAULT 10);
CREATE TABLE IF NOT EXISTS sim_pools(
  cluster TEXT NOT NULL,
  name TEXT NOT NULL,
  ord INTEGER NOT NULL,
  flavor TEXT NOT NULL,
  arch TEXT NOT NULL,
  count INTEGER NOT NULL,
  cpu_milli INTEGER NOT NULL,
  mem_bytes INTEGER NOT NULL,
  version TEXT NOT NULL,
  PRIMARY KEY(cluster, name));
CREATE TABLE IF NOT EXISTS sim_nodes(
  cluster TEXT NOT NULL,
  name TEXT NOT NULL,
  pool TEXT NOT NULL,
  idx INTEGER NOT NULL,
  cpu_milli INTEGER NOT NULL,
  mem_bytes INTEGER NOT NULL,
  alloc_cpu INTEGER NOT NULL DEFAULT 0,
  alloc_mem INTEGER NOT NULL DEFAULT 0,
  ready_at INTEGER NOT NULL,
  labels TEXT NOT NULL,
  PRIMARY KEY(cluster, name));
CREATE TABLE IF NOT EXISTS sim_objects(
  id INTEGER PRIMARY KEY,
  cluster TEXT NOT NULL,
  grp TEXT NOT NULL,
  kind TEXT NOT NULL,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  body TEXT NOT NULL,
  applied TEXT,
  rv INTEGER NOT NULL,
  owner_kind TEXT NOT NULL DEFAULT '',
  owner_name TEXT NOT NULL DEFAULT '',
  revision TEXT NOT NULL DEFAULT '',
  node TEXT NOT NULL DEFAULT '',
  pin_node TEXT NOT NULL DEFAULT '',
  cpu_milli INTEGER NOT NULL DEFAULT 0,
  mem_bytes INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL DEFAULT 0,
  pending INTEGER NOT NULL DEFAULT 0,
  ready INTEGER NOT NULL DEFAULT 0,
  next_event_at INTEGER);
CREATE UNIQUE INDEX IF NOT EXISTS sim_objects_key ON sim_objects(cluster, grp, kind, namespace, name);
CREATE INDEX IF NOT EXISTS sim_objects_owner ON sim_objects(cluster, namespace, owner_kind, owner_name);
CREATE INDEX IF NOT EXISTS sim_objects_node ON sim_objects(cluster, node);
CREATE INDEX IF NOT EXISTS sim_objects_event ON sim_objects(cluster, next_event_at)
  WHERE next_event_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS sim_objects_pending ON sim_objects(cluster, created_ms) WHERE pending = 1;
CREATE INDEX IF NOT EXISTS sim_nodes_ready ON sim_nodes(cluster, ready_at);
INSERT INTO sim_meta(schema_version, next_rv) SELECT 1, 1 WHERE NOT EXISTS (SELECT 1 FROM sim_meta);
)sql"},
    // A per-cluster counter every change to an object of the cluster bumps (kept by triggers, so
    // no write path can forget it): with the cluster's uid it is the cluster's change marker, read
    // in one lookup whatever the cluster holds.
    {2, R"sql(
ALTER TABLE sim_clusters ADD COLUMN objects_rv INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER sim_objects_inserted AFTER INSERT ON sim_objects BEGIN
  UPDATE sim_clusters SET objects_rv = objects_rv + 1 WHERE name = NEW.cluster;
END;
CREATE TRIGGER sim_objects_updated AFTER UPDATE ON sim_objects BEGIN
  UPDATE sim_clusters SET objects_rv = objects_rv + 1 WHERE name = NEW.cluster;
END;
CREATE TRIGGER sim_objects_deleted AFTER DELETE ON sim_objects BEGIN
  UPDATE sim_clusters SET objects_rv = objects_rv + 1 WHERE name = OLD.cluster;
END;
)sql"},
};

static_assert(kMigrations[std::size(kMigrations) - 1].version == kSchemaVersion,
              "the last migration must bring the sim to kSchemaVersion");

// sim_meta.schema_version: where converge kept the sim's version before schema_versions.
Result<int> LegacyVersion(sqlite::Connection& conn) {
  sqlite::Statement has = conn.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sim_meta'");
  Result<bool> row = has.Step();
  if (!row.ok()) return row.status();
  if (!*row) return 0;
  sqlite::Statement st = conn.Prepare("SELECT schema_version FROM sim_meta LIMIT 1");
  row = st.Step();
  if (!row.ok()) return row.status();
  return *row ? st.Int(0) : 0;
}

Status WriteLegacyVersion(sqlite::Connection& conn, int version) {
  return conn.Prepare("UPDATE sim_meta SET schema_version = ?1").Bind(1, version).Run();
}

const sqlite::Component& SimComponent() {
  static const sqlite::Component component{"sim", kMigrations, LegacyVersion, WriteLegacyVersion};
  return component;
}

// One write mutex per database path, shared by every Db of the process.
std::shared_ptr<std::mutex> WriteMutexFor(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<std::mutex>>* mutexes =
      new std::map<std::string, std::shared_ptr<std::mutex>>();
  std::lock_guard<std::mutex> lock(mu);
  auto& m = (*mutexes)[path];
  if (!m) m = std::make_shared<std::mutex>();
  return m;
}

}  // namespace

void Fail(Status status) { throw SimError{std::move(status)}; }

void Check(const Status& status) {
  if (!status.ok()) Fail(status);
}

bool Stmt::Step() {
  Result<bool> row = st_.Step();
  if (!row.ok()) Fail(row.status().WithContext("sim"));
  return *row;
}

void Stmt::Run() { Check(st_.Run().WithContext("sim")); }

Result<std::unique_ptr<Db>> Db::Open(const std::string& path) {
  Result<std::unique_ptr<sqlite::Connection>> conn = sqlite::Connection::Open(path);
  if (!conn.ok()) return conn.status().WithContext("sim");
  std::shared_ptr<std::mutex> write_mutex = WriteMutexFor(path);
  {
    // Migrations write: they take their turn like any other write of this process.
    std::lock_guard<std::mutex> lock(*write_mutex);
    CONVERGE_RETURN_IF_ERROR(sqlite::Migrator(**conn).Run(SimComponent()));
  }
  return std::unique_ptr<Db>(new Db(std::move(conn).value(), std::move(write_mutex)));
}

WriteTxn::WriteTxn(Db& db) : lock_(db.write_mutex()), tx_(db.connection()) { Check(tx_.Begin()); }

}  // namespace converge::sim
