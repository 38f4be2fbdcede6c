// Migrator: brings one component's tables in a shared state file (the store's, the sim's) to the
// schema this build knows, and refuses a file written by a newer converge.
//
// Versions live in
//   schema_versions(component TEXT PRIMARY KEY, version INTEGER NOT NULL)
// one row per component, rewritten by each migration in the same transaction as the migration
// itself, so a crash leaves either the old schema and version or the new ones. Older converge
// builds kept a component's version elsewhere (the store in meta.schema_version, the sim in
// sim_meta.schema_version); a Component names that place with `legacy_version` (read) and
// `write_legacy_version` (kept in sync by every migration), so older binaries still see the
// version and refuse a newer file. The version of a component is the larger of the two places.
//
// Run() first reads the version without writing: a newer file is refused (Unsupported) and left
// byte-for-byte unchanged; an up-to-date file costs two small reads. Otherwise it takes the
// exclusive file lock <db path>.migrate.lock (flock, released by the kernel if the process dies)
// and applies each pending migration in its own transaction, re-reading the version inside the
// transaction first: a process that migrated while we waited (or an older converge that takes no
// lock) is seen, and the migration is skipped, so two processes opening a new file at once apply
// every migration exactly once.
//
// NEVER edit a migration that has shipped: files in the field already ran it. Change a schema by
// appending a migration. Used by the thread that owns the Connection.
#pragma once

#include <functional>
#include <span>
#include <string>

#include "engine/base/status.h"
#include "engine/sqlite/connection.h"

namespace converge::sqlite {

struct Migration {
  int version;      // 1, 2, 3, ... in order
  const char* sql;  // one or more statements
  // Optional: what SQL alone cannot do (e.g. normalizing values with C++ code), run after `sql`
  // in the same transaction.
  Status (*run)(Connection&) = nullptr;
};

struct Component {
  std::string name;                       // e.g. "store", "sim"
  std::span<const Migration> migrations;  // ordered; the last one is the version this build knows
  // Optional: the version an older converge recorded in its own place; 0 when there is none.
  std::function<Result<int>(Connection&)> legacy_version;
  // Optional: records `version` in that place; runs inside each migration's transaction.
  std::function<Status(Connection&, int version)> write_legacy_version;
};

class Migrator {
 public:
  explicit Migrator(Connection& conn) : conn_(conn) {}

  // Applies the component's pending migrations (see above). Unsupported when the file holds a
  // newer schema of it; the migration's own error (with its version in the message) otherwise.
  Status Run(const Component& component);
  // The component's version in the file: the larger of schema_versions and the legacy place;
  // 0 for a file without it. Reads only.
  Result<int> Version(const Component& component);

  // The path of the lock file migrations hold.
  static std::string LockPath(const std::string& db_path) { return db_path + ".migrate.lock"; }

 private:
  Connection& conn_;
};

}  // namespace converge::sqlite
