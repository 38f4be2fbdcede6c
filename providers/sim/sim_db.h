// The sim's access to its tables: thin adapters over engine/sqlite (one Connection per Db, its
// cached prepared statements, Transactions) and the sim's schema, run as migrations of component
// "sim" by engine/sqlite's Migrator. Private to providers/sim.
//
// Errors. engine/sqlite returns Status and never throws. Inside the sim, the adapters below turn
// a failed Status into a thrown SimError (Fail / Check), and every public entry point of
// SimState converts it back to a Status (Guard in sim_state.h). The sim keeps this unwinding on
// purpose: an operation such as applying a Cluster runs dozens of statements across helpers
// (nodes, pods, workload status), and one failing statement must abandon the whole operation and
// roll back its write transaction; threading a Status through every helper would triple their
// size without changing what happens. It is control flow within one component: no exception
// crosses the sim's public interface, and nothing outside providers/sim sees one.
//
// Threads. A Db is used by one thread at a time. Write transactions on one file are serialized
// within the process by a mutex per path (shared by every Db on it) and across processes by
// SQLite (busy timeout 10 s).
//
// Tables (sim schema 1), in <state_dir>/converge.db next to the engine's tables; row structs and
// codecs in sim_rows.h:
//   sim_meta     one row: schema_version (the sim's version place before schema_versions; kept in
//                step by the Migrator), next_rv (the world's resourceVersion counter)
//   sim_clouds   name, regions (JSON list), timings in ms
//   sim_clusters desired Cluster manifest as applied, lifecycle timestamps (ready_at, upgrade_*,
//                scale_until), faults (JSON), next_event_at (earliest future node readiness)
//   sim_pools    per node pool: flavor, arch, count, per-node capacity, version, order
//   sim_nodes    per node: capacity, allocated requests, ready_at, labels (JSON)
//   sim_objects  per API object: key columns, body (JSON), applied (converge's last-applied JSON),
//                rv, and pod bookkeeping (owner, revision, node, requests, pending, ready,
//                next_event_at = when something is due: a pod starts, a progress deadline)
// Every mutation is one transaction; rows are rewritten in place, nothing is appended, so a crash
// leaves the world as of the last committed operation.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "engine/base/status.h"
#include "engine/sqlite/connection.h"
#include "engine/sqlite/row_codec.h"
#include "engine/sqlite/transaction.h"

namespace converge::sim {

// The sim schema this build knows (the number of its migrations).
inline constexpr int kSchemaVersion = 2;

// Thrown inside providers/sim only; see above.
struct SimError {
  Status status;
};
[[noreturn]] void Fail(Status status);
// Throws SimError unless `status` is ok.
void Check(const Status& status);

// A statement from the Db's cache whose failures throw SimError.
class Stmt {
 public:
  explicit Stmt(sqlite::Statement st) : st_(std::move(st)) {}

  // Parameters are 1-based; any type sqlite::Statement::Bind takes (nullopt binds NULL).
  template <typename T>
  Stmt& Bind(int index, const T& value) {
    st_.Bind(index, value);
    return *this;
  }
  Stmt& BindNull(int index) {
    st_.BindNull(index);
    return *this;
  }
  // Binds the whole row through its codec (parameter i+1 = column i).
  template <typename Row>
  Stmt& BindRow(const sqlite::RowCodec<Row>& codec, const Row& row) {
    codec.Bind(st_, row);
    return *this;
  }

  // True when a row is available; throws SimError on failure.
  bool Step();
  // Steps to completion (INSERT/UPDATE/DELETE).
  void Run();

  // Columns are 0-based; NULL reads as 0 / "".
  int64_t Int(int column) const { return st_.Int64(column); }
  double Double(int column) const { return st_.Double(column); }
  std::string Text(int column) const { return st_.Text(column); }
  bool IsNull(int column) const { return st_.IsNull(column); }
  // The current row through its codec (columns from `first`).
  template <typename Row>
  Row Read(const sqlite::RowCodec<Row>& codec, int first = 0) const {
    return codec.Read(st_, first);
  }

 private:
  sqlite::Statement st_;
};

class Db {
 public:
  // Opens (creating if needed) `path` and migrates the sim's tables (component "sim").
  // Unsupported when the file holds a sim schema newer than this build; Corrupt when it is not a
  // database.
  static Result<std::unique_ptr<Db>> Open(const std::string& path);

  // A cached prepared statement for `sql` (a fresh one if the cached one is in use).
  Stmt Prepare(const std::string& sql) { return Stmt(conn_->Prepare(sql)); }
  void Exec(const std::string& sql) { Check(conn_->Exec(sql)); }
  int64_t last_insert_rowid() const { return conn_->last_insert_rowid(); }

  const std::string& path() const { return conn_->path(); }
  sqlite::Connection& connection() { return *conn_; }
  // Serializes write transactions on this file within the process.
  std::mutex& write_mutex() { return *write_mutex_; }

 private:
  Db(std::unique_ptr<sqlite::Connection> conn, std::shared_ptr<std::mutex> write_mutex)
      : conn_(std::move(conn)), write_mutex_(std::move(write_mutex)) {}

  std::unique_ptr<sqlite::Connection> conn_;
  std::shared_ptr<std::mutex> write_mutex_;
};

// BEGIN IMMEDIATE under the process-wide write mutex; ROLLBACK unless Commit() ran. Throws
// SimError when the transaction cannot begin or commit.
class WriteTxn {
 public:
  explicit WriteTxn(Db& db);
  WriteTxn(const WriteTxn&) = delete;
  WriteTxn& operator=(const WriteTxn&) = delete;
  void Commit() { Check(tx_.Commit()); }

 private:
  std::unique_lock<std::mutex> lock_;  // declared first: released after the rollback
  sqlite::Transaction tx_;
};

}  // namespace converge::sim
