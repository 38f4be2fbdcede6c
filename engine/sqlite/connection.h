// Connection: one SQLite connection to a state file, with the project's settings (busy timeout,
// WAL, synchronous=NORMAL, foreign keys) and a cache of prepared statements. Every failure is a
// Status (error.h); nothing here throws. A damaged file is described, never repaired: on the first
// SQLITE_CORRUPT / SQLITE_NOTADB a connection runs PRAGMA quick_check(1) once (read-only) to say
// what is damaged. Opening never writes to the file; WAL is switched on just before the first
// write transaction, so a file that is refused (newer, damaged) is left byte-for-byte unchanged.
// One connection is used by one thread at a time; its Statements must not outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "engine/base/status.h"
#include "engine/sqlite/statement.h"

struct sqlite3;

namespace converge::sqlite {

struct OpenOptions {
  bool create = true;             // create the file when it is missing
  int busy_timeout_ms = 10000;    // how long to wait for another connection's write lock
  bool wal = true;                // journal_mode=WAL, set before the first write transaction
};

class Connection {
 public:
  // Opens `path` and reads its schema: a file that is not a database, or an empty one, is Corrupt
  // here; a missing file (create=false) or an unreadable one is Unavailable. A missing file is
  // created (create=true) with its header already written, under a temporary name linked into
  // place, so an empty state file always means damage. Opens read-write where this process may
  // write the file and its directory, read-only otherwise (immutable when there is no -wal file:
  // SQLite could not create the -shm it would need; read_only() then says so and writes fail).
  // Writes nothing to an existing file.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, const OpenOptions& options = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements that return no rows (DDL, PRAGMA).
  Status Exec(const std::string& sql);
  // A prepared statement for `sql` (exactly one statement) from the cache: the cached one when it
  // is free, a fresh uncached one while the cached one is in use (nested use). A prepare error is
  // kept in the Statement and returned by its status(), Step() and Run().
  Statement Prepare(const std::string& sql);

  // Rows changed by the last INSERT/UPDATE/DELETE; rowid of the last INSERT.
  int64_t changes() const;
  int64_t last_insert_rowid() const;
  // True inside BEGIN ... COMMIT (or an outermost SAVEPOINT).
  bool in_transaction() const;
  Status SetBusyTimeout(int ms);
  // Switches the file to WAL once (a no-op afterwards, or with wal=false). Called by Transaction
  // and Savepoint before they begin; must not run inside a transaction.
  Status EnsureWal();

  // The Status for SQLite result code `rc` of a call on this connection (error.h), naming `what`.
  // CORRUPT/NOTADB are described by quick_check, run at most once per connection.
  Status Error(int rc, const std::string& what);

  const std::string& path() const { return path_; }
  // Opened read-only, because this process may not write the file or its directory.
  bool read_only() const { return read_only_; }
  // Statements currently held in the cache (for tests of the cache).
  size_t cached_statements() const { return cache_.size(); }
  // A new savepoint name, unique on this connection.
  std::string NextSavepointName();

 private:
  Connection(sqlite3* db, std::string path, OpenOptions options);
  // "quick_check: ..." for a damaged file; "" when quick_check cannot run or finds nothing.
  const std::string& DescribeDamage();

  struct Slot {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };

  sqlite3* db_;
  std::string path_;
  OpenOptions options_;
  bool wal_on_ = false;
  bool read_only_ = false;
  int savepoints_ = 0;
  std::optional<std::string> damage_;
  std::unordered_map<std::string, Slot> cache_;  // by SQL text; nodes are stable, Statements point in
};

}  // namespace converge::sqlite
