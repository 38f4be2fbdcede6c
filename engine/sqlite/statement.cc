#include "engine/sqlite/statement.h"

#include <sqlite3.h>

#include "engine/sqlite/connection.h"

namespace converge::sqlite {

Statement::Statement(Connection* conn, sqlite3_stmt* stmt, bool* in_use, Status status)
    : conn_(conn), stmt_(stmt), in_use_(in_use), prepared_(stmt != nullptr), status_(std::move(status)) {}

Statement::Statement(Statement&& other) noexcept
    : conn_(other.conn_),
      stmt_(other.stmt_),
      in_use_(other.in_use_),
      prepared_(other.prepared_),
      status_(std::move(other.status_)) {
  other.stmt_ = nullptr;
  other.in_use_ = nullptr;
}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (in_use_ == nullptr) {
    sqlite3_finalize(stmt_);
    return;
  }
  // Back to the cache: reset first, so an unfinished read does not hold its snapshot.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *in_use_ = false;
}

void Statement::Remember(int rc) {
  if (rc == SQLITE_OK || !status_.ok()) return;
  status_ = conn_->Error(rc, "cannot bind a parameter of \"" + Describe() + "\"");
}

Statement& Statement::Bind(int index, int64_t value) {
  if (stmt_ != nullptr) Remember(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  if (stmt_ != nullptr) Remember(sqlite3_bind_double(stmt_, index, value));
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  // A non-null pointer even for "", so an empty string binds '' and not NULL.
  if (stmt_ != nullptr) {
    Remember(sqlite3_bind_text64(stmt_, index, text.empty() ? "" : text.data(), text.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8));
  }
  return *this;
}

Statement& Statement::Bind(int index, const std::optional<int64_t>& value) {
  return value ? Bind(index, *value) : BindNull(index);
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  if (stmt_ != nullptr) {
    Remember(sqlite3_bind_blob64(stmt_, index, bytes.empty() ? "" : bytes.data(), bytes.size(), SQLITE_TRANSIENT));
  }
  return *this;
}

Statement& Statement::BindNull(int index) {
  if (stmt_ != nullptr) Remember(sqlite3_bind_null(stmt_, index));
  return *this;
}

Result<bool> Statement::Step() {
  if (!status_.ok()) return status_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return conn_->Error(rc, "cannot run \"" + Describe() + "\"");
}

Status Statement::Run() {
  Result<bool> row = Step();
  while (row.ok() && *row) row = Step();
  Status out = row.status();
  Reset();
  return out;
}

void Statement::Reset() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  status_ = Status::Ok();
}

int64_t Statement::Int64(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Statement::Text(int column) const {
  // column_blob works for TEXT and BLOB columns and keeps embedded NUL bytes.
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return std::string();
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

bool Statement::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::optional<int64_t> Statement::OptionalInt64(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int64(column);
}

std::string Statement::Describe() const {
  if (stmt_ == nullptr) return "";
  std::string sql = sqlite3_sql(stmt_);
  for (char& c : sql) {
    if (c == '\n') c = ' ';
  }
  return sql.size() > 160 ? sql.substr(0, 160) + "..." : sql;
}

}  // namespace converge::sqlite
