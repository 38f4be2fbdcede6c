// The sim's SQLite access: one connection (Db) with cached prepared statements (Stmt), write
// transactions (WriteTxn) and the sim_ schema. Private to providers/sim.
// Errors inside the sim's implementation are thrown as SimError and turned back into a Status at
// every public entry point (Guard), so one failed statement aborts and rolls back its transaction.
// A Db is used by one thread at a time; write transactions on the same file are serialized
// within the process by a mutex per path and across processes by SQLite (busy_timeout 10000).
//
// Tables (schema_version 1), in <state_dir>/converge.db next to the engine's tables:
//   sim_meta     one row: schema_version, next_rv (the world's resourceVersion counter)
//   sim_clouds   name, regions (JSON list), timings in ms
//   sim_clusters desired Cluster manifest as applied, lifecycle timestamps (ready_at, upgrade_*,
//                scale_until), faults (JSON), next_event_at (earliest future node readiness)
//   sim_pools    per node pool: flavor, arch, count, per-node capacity, version, order
//   sim_nodes    per node: capacity, allocated requests, ready_at, labels (JSON)
//   sim_objects  per API object: key columns, body (JSON), applied (converge's last-applied JSON),
//                rv, and pod bookkeeping (owner, revision, node, requests, pending, ready,
//                next_event_at = when something is due: a pod starts, a progress deadline)
// Every mutation is one transaction; rows are rewritten in place, nothing is appended.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/base/status.h"

namespace converge::sim {

inline constexpr int kSchemaVersion = 1;

// Thrown inside providers/sim only; see above.
struct SimError {
  Status status;
};
[[noreturn]] void Fail(Status status);

class Db;

// A prepared statement borrowed from the Db's cache; reset when the handle goes away.
class Stmt {
 public:
  Stmt(Db* db, sqlite3_stmt* stmt, bool owned);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&&) = delete;

  // Parameters are 1-based.
  Stmt& Bind(int index, int64_t value);
  Stmt& Bind(int index, const std::string& text);
  Stmt& Bind(int index, double value);
  Stmt& BindNull(int index);

  // True when a row is available; throws SimError on failure.
  bool Step();
  // Steps to completion (INSERT/UPDATE/DELETE).
  void Run();

  // Columns are 0-based; NULL reads as 0 / "".
  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  bool IsNull(int column) const;

 private:
  Db* db_;
  sqlite3_stmt* stmt_;
  bool owned_;
};

class Db {
 public:
  // Opens (creating if needed) `path` in WAL mode and makes sure the sim_ tables exist.
  // Unsupported when the file holds a sim schema newer than this build.
  static Result<std::unique_ptr<Db>> Open(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // A cached prepared statement for `sql` (a fresh one if the cached one is in use).
  Stmt Prepare(const std::string& sql);
  void Exec(const char* sql);
  // The Status for an SQLite result code, naming the file and what to do.
  Status Error(int rc, const std::string& what) const;

  const std::string& path() const { return path_; }
  sqlite3* raw() { return db_; }
  // Serializes write transactions on this file within the process.
  std::mutex& write_mutex() { return *write_mutex_; }

 private:
  friend class Stmt;
  Db(sqlite3* db, std::string path);
  void Release(sqlite3_stmt* stmt);

  sqlite3* db_;
  std::string path_;
  std::shared_ptr<std::mutex> write_mutex_;
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  std::map<std::string, Cached> cache_;
};

// BEGIN IMMEDIATE under the process-wide write mutex; ROLLBACK unless Commit() ran.
class WriteTxn {
 public:
  explicit WriteTxn(Db& db);
  ~WriteTxn();
  WriteTxn(const WriteTxn&) = delete;
  WriteTxn& operator=(const WriteTxn&) = delete;
  void Commit();

 private:
  Db& db_;
  std::unique_lock<std::mutex> lock_;
  bool active_ = false;
};

}  // namespace converge::sim
