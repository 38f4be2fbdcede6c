#include "engine/sqlite/connection.h"

#include <sqlite3.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "engine/sqlite/error.h"

namespace converge::sqlite {

namespace {

// SQL text for messages: one line, at most ~160 characters.
std::string ShortSql(std::string_view sql) {
  std::string out;
  for (char c : sql) {
    if (c == '\n' || c == '\t') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out.push_back(c);
    if (out.size() >= 160) return out + "...";
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool OnlySpaceOrSemicolons(const char* tail) {
  for (; tail != nullptr && *tail != '\0'; ++tail) {
    if (!std::isspace(static_cast<unsigned char>(*tail)) && *tail != ';') return false;
  }
  return true;
}

}  // namespace

namespace {

// "file:PATH?immutable=1" with PATH escaped for an SQLite URI.
std::string ImmutableUri(const std::string& path) {
  std::string out = "file:";
  for (unsigned char c : path) {
    if (c == '%' || c == '?' || c == '#' || c < 0x20) {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "?immutable=1";
}

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Creates an SQLite file at `path` that is never seen empty: a database with its header written
// is made under a temporary name and linked into place. Ok when another process linked its file
// first.
Status CreateFile(const std::string& path) {
  static std::atomic<uint64_t> made{0};  // unique per call: threads of one process may race here too
  std::string tmp = path + ".new." + std::to_string(getpid()) + "." + std::to_string(made.fetch_add(1));
  unlink(tmp.c_str());  // a leftover of a crashed process with this pid
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(tmp.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_exec(raw, "PRAGMA user_version = 0", nullptr, nullptr, nullptr);  // writes page 1
  std::string msg = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
  sqlite3_close_v2(raw);
  if (rc == SQLITE_OK && link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    rc = SQLITE_CANTOPEN;
    msg = std::strerror(errno);
  }
  unlink(tmp.c_str());
  if (rc != SQLITE_OK) return MapError(rc, msg, "cannot create the file", path);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, const OpenOptions& options) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT || !options.create) {
      return MapError(SQLITE_CANTOPEN, std::strerror(errno), "cannot open the file", path);
    }
    CONVERGE_RETURN_IF_ERROR(CreateFile(path));
    if (stat(path.c_str(), &st) != 0) return MapError(SQLITE_CANTOPEN, std::strerror(errno), "cannot open the file", path);
  }
  // Every file this layer creates has its header written before anyone can see it, so an empty
  // one was truncated: taking it for a new store would forget everything converge manages.
  if (S_ISREG(st.st_mode) && st.st_size == 0) {
    return CorruptError(path, "it is empty: 0 bytes, and a state file is never created empty");
  }
  // Where this process cannot write (a read-only state dir, or a file it does not own), the file
  // is opened read-only; without a -wal file there is nothing SQLite would need to create -shm for
  // (which it cannot), so it is opened immutable: no locks, no -shm.
  bool read_only = access(path.c_str(), W_OK) != 0 || access(DirOf(path).c_str(), W_OK) != 0;
  std::string name = path;
  int flags = SQLITE_OPEN_NOMUTEX;
  if (read_only) {
    flags |= SQLITE_OPEN_READONLY;
    struct stat wal {};
    if (stat((path + "-wal").c_str(), &wal) != 0) {
      name = ImmutableUri(path);
      flags |= SQLITE_OPEN_URI;
    }
  } else {
    flags |= SQLITE_OPEN_READWRITE;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    return MapError(rc, msg, "cannot open the file", path);
  }
  std::unique_ptr<Connection> conn(new Connection(raw, path, options));
  conn->read_only_ = read_only;
  sqlite3_extended_result_codes(raw, 1);
  CONVERGE_RETURN_IF_ERROR(conn->SetBusyTimeout(options.busy_timeout_ms));
  // Connection-local settings: they change nothing in the file.
  CONVERGE_RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys = ON"));
  CONVERGE_RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous = NORMAL"));
  // Reading the schema is cheap and finds a file that is not a database (NOTADB) now, rather than
  // at the first real query.
  Statement schema = conn->Prepare("SELECT count(*) FROM sqlite_master");
  Result<bool> row = schema.Step();
  if (!row.ok()) return row.status();
  return conn;
}

Connection::Connection(sqlite3* db, std::string path, OpenOptions options)
    : db_(db), path_(std::move(path)), options_(options) {}

Connection::~Connection() {
  for (auto& [sql, slot] : cache_) sqlite3_finalize(slot.stmt);
  sqlite3_close_v2(db_);
}

Status Connection::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (err != nullptr) sqlite3_free(err);  // sqlite3_errmsg still holds the message
  if (rc != SQLITE_OK) return Error(rc, "cannot run \"" + ShortSql(sql) + "\"");
  return Status::Ok();
}

Statement Connection::Prepare(const std::string& sql) {
  auto [it, inserted] = cache_.try_emplace(sql);
  Slot& slot = it->second;
  if (slot.stmt != nullptr && !slot.in_use) {
    slot.in_use = true;
    return Statement(this, slot.stmt, &slot.in_use, Status::Ok());
  }
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, &tail);
  Status status;
  if (rc != SQLITE_OK) {
    status = Error(rc, "cannot prepare \"" + ShortSql(sql) + "\"");
  } else if (stmt == nullptr || !OnlySpaceOrSemicolons(tail)) {
    status = Status::Internal("Prepare needs exactly one SQL statement, got \"" + ShortSql(sql) + "\" for state store " +
                              path_);
  }
  if (!status.ok()) {
    sqlite3_finalize(stmt);
    if (slot.stmt == nullptr) cache_.erase(it);
    return Statement(this, nullptr, nullptr, status);
  }
  if (slot.stmt == nullptr) {
    slot.stmt = stmt;
    slot.in_use = true;
    return Statement(this, stmt, &slot.in_use, Status::Ok());
  }
  return Statement(this, stmt, nullptr, Status::Ok());  // the cached one is busy: nested use
}

int64_t Connection::changes() const { return sqlite3_changes64(db_); }

int64_t Connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

bool Connection::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

Status Connection::SetBusyTimeout(int ms) {
  int rc = sqlite3_busy_timeout(db_, ms);
  if (rc != SQLITE_OK) return Error(rc, "cannot set the busy timeout");
  return Status::Ok();
}

Status Connection::EnsureWal() {
  if (!options_.wal || wal_on_) return Status::Ok();
  if (in_transaction()) {
    return Status::Internal("WAL must be switched on outside a transaction (state store " + path_ + ")");
  }
  CONVERGE_RETURN_IF_ERROR(Exec("PRAGMA journal_mode = WAL"));
  wal_on_ = true;
  return Status::Ok();
}

std::string Connection::NextSavepointName() { return "converge_sp_" + std::to_string(++savepoints_); }

Status Connection::Error(int rc, const std::string& what) {
  std::string msg = sqlite3_errmsg(db_);  // before quick_check replaces it
  int primary = rc & 0xff;
  std::string damage;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) damage = DescribeDamage();
  return MapError(rc, msg, what, path_, damage);
}

const std::string& Connection::DescribeDamage() {
  if (damage_) return *damage_;
  damage_.emplace();
  // Read-only, and stops at the first problem. Uses the C API directly: its own failure (e.g. a
  // file that is not a database at all) just leaves the description empty.
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA quick_check(1)", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    std::string first = text != nullptr ? reinterpret_cast<const char*>(text) : "";
    if (!first.empty() && first != "ok") {
      // e.g. "*** in database main ***\nPage 87: btreeInitPage() returns error code 11": one line.
      const std::string header = "*** in database main ***\n";
      if (first.rfind(header, 0) == 0) first.erase(0, header.size());
      for (char& c : first) {
        if (c == '\n') c = ' ';
      }
      if (first.size() > 200) first = first.substr(0, 200) + "...";
      *damage_ = "quick_check: " + first;
    }
  }
  sqlite3_finalize(stmt);
  return *damage_;
}

}  // namespace converge::sqlite
