// Small RAII helpers over the SQLite C API for the store: a prepared Statement, a Transaction
// guard (BEGIN IMMEDIATE, rolled back unless committed) and the mapping of SQLite result codes
// to Status with the file path and what to do. Private to engine/store (and the sim provider if
// it wants them). Thread-compatible: one connection is used by one thread at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/status.h"

namespace converge::sqlite {

// Turns an SQLite error into a Status naming `what` failed, the file and what to do:
// BUSY/LOCKED -> Unavailable (retryable), CORRUPT/NOTADB -> Corrupt, CONSTRAINT -> Conflict,
// FULL/IOERR/CANTOPEN/READONLY/PERM -> Unavailable (not retryable), otherwise Internal.
Status Error(sqlite3* db, int rc, const std::string& what, const std::string& path);

// The "damaged store" error, shared by Open and every later call that meets corruption.
Status CorruptError(const std::string& path, const std::string& sqlite_message);

// Runs one or more statements without results (DDL, PRAGMA, BEGIN/COMMIT).
Status Exec(sqlite3* db, const char* sql, const std::string& path);

// A prepared statement. Bind errors are remembered and reported by the next Step/Run.
class Statement {
 public:
  // Prepares `sql`; check status() before use. `path` must outlive the statement.
  Statement(sqlite3* db, std::string_view sql, const std::string& path);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  const Status& status() const { return status_; }

  // Parameters are 1-based, as in SQLite.
  void Bind(int index, int64_t value);
  void Bind(int index, const std::string& text);
  void BindBlob(int index, const std::string& bytes);

  // Returns true when a row is available, false when done, an error otherwise.
  Result<bool> Step();
  // Steps to completion (for INSERT/UPDATE/DELETE), then resets the statement.
  Status Run();
  // Resets the statement and clears its bindings so it can run again.
  void Reset();

  // Columns are 0-based, as in SQLite. NULL reads as 0 / "".
  int64_t Int64(int column) const;
  std::string Text(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  const std::string& path_;
  std::string sql_;
  Status status_;
  int bind_rc_ = SQLITE_OK;
};

// BEGIN IMMEDIATE on Begin(); ROLLBACK on destruction unless Commit() succeeded.
class Transaction {
 public:
  Transaction(sqlite3* db, const std::string& path) : db_(db), path_(path) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status Begin();
  Status Commit();

 private:
  sqlite3* db_;
  const std::string& path_;
  bool active_ = false;
};

}  // namespace converge::sqlite
