#include "providers/sim/sim_db.h"

#include "engine/sqlite/error.h"

#include <utility>

namespace converge::sim {
namespace {

const char* const kSchema = R"sql(
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
)sql";

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

Stmt::Stmt(Db* db, sqlite3_stmt* stmt, bool owned) : db_(db), stmt_(stmt), owned_(owned) {}

Stmt::Stmt(Stmt&& other) noexcept : db_(other.db_), stmt_(other.stmt_), owned_(other.owned_) {
  other.stmt_ = nullptr;
}

Stmt::~Stmt() {
  if (stmt_ == nullptr) return;
  if (owned_) {
    sqlite3_finalize(stmt_);
  } else {
    db_->Release(stmt_);
  }
}

Stmt& Stmt::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) Fail(db_->Error(rc, "cannot bind a parameter"));
  return *this;
}

Stmt& Stmt::Bind(int index, const std::string& text) {
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) Fail(db_->Error(rc, "cannot bind a parameter"));
  return *this;
}

Stmt& Stmt::Bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK) Fail(db_->Error(rc, "cannot bind a parameter"));
  return *this;
}

Stmt& Stmt::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) Fail(db_->Error(rc, "cannot bind a parameter"));
  return *this;
}

bool Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Fail(db_->Error(rc, std::string("cannot run \"") + sqlite3_sql(stmt_) + "\""));
}

void Stmt::Run() {
  while (Step()) {
  }
}

int64_t Stmt::Int(int column) const { return sqlite3_column_int64(stmt_, column); }
double Stmt::Double(int column) const { return sqlite3_column_double(stmt_, column); }
bool Stmt::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::string Stmt::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, column));
}

Db::Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)), write_mutex_(WriteMutexFor(path_)) {}

Db::~Db() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  sqlite3_close(db_);
}

Status Db::Error(int rc, const std::string& what) const {
  // The same file as the store, so the same mapping of SQLite errors to Status.
  return sqlite::MapError(rc, db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc), "sim: " + what, path_);
}

void Db::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (err != nullptr) sqlite3_free(err);
  if (rc != SQLITE_OK) Fail(Error(rc, "cannot run statement"));
}

Stmt Db::Prepare(const std::string& sql) {
  Cached& cached = cache_[sql];
  if (cached.stmt != nullptr && !cached.in_use) {
    cached.in_use = true;
    return Stmt(this, cached.stmt, false);
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    Fail(Error(rc, "cannot prepare \"" + sql + "\""));
  }
  if (cached.stmt == nullptr) {
    cached.stmt = stmt;
    cached.in_use = true;
    return Stmt(this, stmt, false);
  }
  return Stmt(this, stmt, true);  // the cached one is busy (nested use)
}

void Db::Release(sqlite3_stmt* stmt) {
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  const char* sql = sqlite3_sql(stmt);
  auto it = cache_.find(sql == nullptr ? "" : sql);
  if (it != cache_.end() && it->second.stmt == stmt) it->second.in_use = false;
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return Status::Unavailable("sim: cannot open " + path + ": " + msg +
                                   " (check that the state directory exists and is writable)",
                               false);
  }
  std::unique_ptr<Db> db(new Db(raw, path));
  try {
    sqlite3_busy_timeout(raw, 10000);
    db->Exec("PRAGMA journal_mode=WAL");
    db->Exec("PRAGMA synchronous=NORMAL");
    {
      WriteTxn txn(*db);
      db->Exec(kSchema);
      Stmt q = db->Prepare("SELECT schema_version FROM sim_meta LIMIT 1");
      if (q.Step()) {
        int64_t version = q.Int(0);
        if (version > kSchemaVersion) {
          return Status::Unsupported("sim: " + path + " holds simulated clouds of schema version " +
                                     std::to_string(version) + ", newer than this converge understands (" +
                                     std::to_string(kSchemaVersion) + "): upgrade converge");
        }
      } else {
        db->Prepare("INSERT INTO sim_meta(schema_version, next_rv) VALUES(?, 1)").Bind(1, int64_t{kSchemaVersion}).Run();
      }
      txn.Commit();
    }
  } catch (const SimError& e) {
    return e.status;
  }
  return db;
}

WriteTxn::WriteTxn(Db& db) : db_(db), lock_(db.write_mutex()) {
  db_.Exec("BEGIN IMMEDIATE");
  active_ = true;
}

WriteTxn::~WriteTxn() {
  if (active_) sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void WriteTxn::Commit() {
  db_.Exec("COMMIT");
  active_ = false;
}

}  // namespace converge::sim
