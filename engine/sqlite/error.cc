#include "engine/sqlite/error.h"

#include <sqlite3.h>

namespace converge::sqlite {

Status CorruptError(const std::string& path, const std::string& description) {
  return Status::Corrupt("state store " + path + " is damaged (" + description +
                         "): restore it from a backup or move it away to start fresh");
}

Status MapError(int rc, const std::string& sqlite_message, const std::string& what, const std::string& path,
                const std::string& damage) {
  std::string where = what + " in state store " + path + ": " + sqlite_message;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(where + " (another process held the database for too long; retry)");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return CorruptError(path, damage.empty() ? sqlite_message : damage);
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

}  // namespace converge::sqlite
