#include "engine/sqlite/migrator.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/sqlite/transaction.h"

namespace converge::sqlite {

namespace {

// Holds flock(LOCK_EX) on a lock file for its lifetime.
class FileLock {
 public:
  static Result<FileLock> Acquire(const std::string& path) {
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Status::Unavailable("cannot open lock file " + path + ": " + std::strerror(errno) +
                                     " (check that the state directory is writable)",
                                 false);
    }
    int rc;
    do {
      rc = flock(fd, LOCK_EX);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      int err = errno;
      close(fd);
      return Status::Unavailable("cannot lock " + path + ": " + std::strerror(err), false);
    }
    return FileLock(fd);
  }
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock() {
    if (fd_ >= 0) close(fd_);  // closing the descriptor releases the lock
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

Result<bool> HasTable(Connection& conn, const char* name) {
  Statement st = conn.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
  st.Bind(1, name);
  return st.Step();
}

Status NewerError(const std::string& path, const Component& c, int found, int known) {
  return Status::Unsupported("state store " + path + " was written by a newer converge (" + c.name + " schema " +
                             std::to_string(found) + ", this build knows up to " + std::to_string(known) +
                             "): upgrade converge");
}

Status CheckMigrations(const Component& c) {
  for (size_t i = 0; i < c.migrations.size(); ++i) {
    if (c.migrations[i].version != static_cast<int>(i) + 1) {
      return Status::Internal("migrations of " + c.name + " must be numbered 1, 2, 3, ... in order");
    }
  }
  if (c.migrations.empty()) return Status::Internal("component " + c.name + " has no migrations");
  return Status::Ok();
}

}  // namespace

Result<int> Migrator::Version(const Component& component) {
  int version = 0;
  Result<bool> has = HasTable(conn_, "schema_versions");
  if (!has.ok()) return has.status();
  if (*has) {
    Statement st = conn_.Prepare("SELECT version FROM schema_versions WHERE component = ?1");
    st.Bind(1, component.name);
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (*row) version = st.Int(0);
  }
  if (component.legacy_version) {
    Result<int> legacy = component.legacy_version(conn_);
    if (!legacy.ok()) return legacy.status();
    if (*legacy > version) version = *legacy;
  }
  return version;
}

Status Migrator::Run(const Component& component) {
  CONVERGE_RETURN_IF_ERROR(CheckMigrations(component));
  const int known = component.migrations.back().version;
  Result<int> version = Version(component);
  if (!version.ok()) return version.status();
  if (*version > known) return NewerError(conn_.path(), component, *version, known);
  if (*version == known) return Status::Ok();

  Result<FileLock> lock = FileLock::Acquire(LockPath(conn_.path()));
  if (!lock.ok()) return lock.status();
  for (const Migration& m : component.migrations) {
    if (m.version <= *version) continue;
    const std::string what = "migration of " + component.name + " to schema " + std::to_string(m.version);
    Transaction tx(conn_);
    CONVERGE_RETURN_IF_ERROR(tx.Begin().WithContext(what));
    // Re-read under the write lock: another process may have migrated since the read above.
    Result<int> current = Version(component);
    if (!current.ok()) return current.status();
    if (*current > known) return NewerError(conn_.path(), component, *current, known);
    if (*current >= m.version) continue;  // done by someone else; tx rolls back
    CONVERGE_RETURN_IF_ERROR(conn_.Exec("CREATE TABLE IF NOT EXISTS schema_versions ("
                                        "component TEXT PRIMARY KEY, version INTEGER NOT NULL)"));
    CONVERGE_RETURN_IF_ERROR(conn_.Exec(m.sql).WithContext(what));
    if (m.run != nullptr) CONVERGE_RETURN_IF_ERROR(m.run(conn_).WithContext(what));
    Statement bump = conn_.Prepare(
        "INSERT INTO schema_versions (component, version) VALUES (?1, ?2) "
        "ON CONFLICT (component) DO UPDATE SET version = excluded.version");
    bump.Bind(1, component.name).Bind(2, m.version);
    CONVERGE_RETURN_IF_ERROR(bump.Run());
    if (component.write_legacy_version) {
      CONVERGE_RETURN_IF_ERROR(component.write_legacy_version(conn_, m.version).WithContext(what));
    }
    CONVERGE_RETURN_IF_ERROR(tx.Commit().WithContext(what));
  }
  return Status::Ok();
}

}  // namespace converge::sqlite
