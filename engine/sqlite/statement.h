// Statement: one prepared SQLite statement borrowed from a Connection's cache (connection.h).
// Binding never fails loudly: the first bind error is remembered and returned by the next
// Step()/Run(), so a caller binds everything and checks one Status. Columns read NULL as 0 / ""
// unless asked for an optional. Used by the thread that owns its Connection; must not outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/base/status.h"

struct sqlite3_stmt;

namespace converge::sqlite {

class Connection;

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  // Resets the statement and hands it back to the cache (or finalizes it when it was not cached).
  ~Statement();

  // Ok, or why preparing failed, or the first bind error since the last Reset().
  const Status& status() const { return status_; }

  // Parameters are 1-based, as in SQLite. Text keeps embedded NUL bytes.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, bool value) { return Bind(index, static_cast<int64_t>(value ? 1 : 0)); }
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, const std::optional<int64_t>& value);  // nullopt binds NULL
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindNull(int index);

  // True when a row is available, false when the statement is done, an error otherwise (the
  // prepare or bind error, or the mapped SQLite error).
  Result<bool> Step();
  // Steps to completion (INSERT/UPDATE/DELETE/DDL), then resets the statement.
  Status Run();
  // Resets the statement and clears its bindings (and a remembered bind error) to run it again.
  void Reset();

  // Columns are 0-based, as in SQLite. Call only after Step() returned true.
  int64_t Int64(int column) const;
  int Int(int column) const { return static_cast<int>(Int64(column)); }
  bool Bool(int column) const { return Int64(column) != 0; }
  double Double(int column) const;
  std::string Text(int column) const;  // TEXT or BLOB bytes, NULs included
  bool IsNull(int column) const;
  std::optional<int64_t> OptionalInt64(int column) const;

  // The SQL text, shortened for messages.
  std::string Describe() const;

 private:
  friend class Connection;
  // `in_use` is the cache slot's flag (nullptr: this statement owns `stmt`).
  Statement(Connection* conn, sqlite3_stmt* stmt, bool* in_use, Status status);
  void Remember(int rc);

  Connection* conn_;
  sqlite3_stmt* stmt_;
  bool* in_use_;
  bool prepared_;
  Status status_;
};

}  // namespace converge::sqlite
