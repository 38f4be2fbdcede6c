#include "engine/store/sqlite_util.h"

namespace converge::sqlite {

Status CorruptError(const std::string& path, const std::string& sqlite_message) {
  return Status::Corrupt("state store " + path + " is damaged (" + sqlite_message +
                         "): restore it from a backup or move it away to start fresh");
}

Status Error(sqlite3* db, int rc, const std::string& what, const std::string& path) {
  std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string where = what + " in state store " + path + ": " + msg;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(where + " (another process held the database for too long; retry)");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return CorruptError(path, msg);
    case SQLITE_CONSTRAINT:
      return Status::Conflict(where);
    case SQLITE_FULL:
      return Status::Unavailable(where + " (free disk space and retry)", false);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Status::Unavailable(where + " (check that the file and its directory are writable)", false);
    default:
      return Status::Internal(where);
  }
}

Status Exec(sqlite3* db, const char* sql, const std::string& path) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (err != nullptr) sqlite3_free(err);  // sqlite3_errmsg still holds the message
  if (rc != SQLITE_OK) return Error(db, rc, std::string("cannot run \"") + sql + "\"", path);
  return Status::Ok();
}

Statement::Statement(sqlite3* db, std::string_view sql, const std::string& path)
    : db_(db), path_(path), sql_(sql) {
  int rc = sqlite3_prepare_v2(db_, sql_.data(), static_cast<int>(sql_.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    status_ = Error(db_, rc, "cannot prepare \"" + sql_ + "\"", path_);
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
  }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::Bind(int index, int64_t value) {
  if (stmt_ == nullptr) return;
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::Bind(int index, const std::string& text) {
  if (stmt_ == nullptr) return;
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::BindBlob(int index, const std::string& bytes) {
  if (stmt_ == nullptr) return;
  int rc = sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

Result<bool> Statement::Step() {
  if (!status_.ok()) return status_;
  if (bind_rc_ != SQLITE_OK) return Error(db_, bind_rc_, "cannot bind a parameter of \"" + sql_ + "\"", path_);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error(db_, rc, "cannot run \"" + sql_ + "\"", path_);
}

Status Statement::Run() {
  Result<bool> r = Step();
  Reset();
  if (!r.ok()) return r.status();
  return Status::Ok();
}

void Statement::Reset() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

int64_t Statement::Int64(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::Text(int column) const {
  // column_blob works for TEXT and BLOB columns and keeps embedded NUL bytes.
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return std::string();
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

Transaction::~Transaction() {
  if (active_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Status Transaction::Begin() {
  CONVERGE_RETURN_IF_ERROR(Exec(db_, "BEGIN IMMEDIATE", path_));
  active_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  if (!active_) return Status::Internal("commit without an open transaction in state store " + path_);
  Status st = Exec(db_, "COMMIT", path_);
  // A failed COMMIT (e.g. SQLITE_BUSY) leaves the transaction open; the destructor rolls it back.
  if (st.ok()) active_ = false;
  return st;
}

}  // namespace converge::sqlite
