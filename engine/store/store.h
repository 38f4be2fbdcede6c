// Store: the engine's state file (<state_dir>/converge.db). Opening it migrates the store's
// tables forward (component "store" of engine/sqlite's Migrator) and hands out one part per
// concept, each documenting its own tables:
//   sources()      SourceStore     sources and per-source leases        (source_store.h)
//   inventory()    InventoryStore  managed objects and cluster markers  (inventory_store.h)
//   runs()         RunLog          sync runs and per-action results     (run_log.h)
//   events()       EventLog        events                               (event_log.h)
//   operations()   OperationStore  long-running provider operations     (operation_store.h)
//   parse_cache()  ParseCache      parsed specs by blob id              (parse_cache.h)
//   file_results() FileResults     per-file derived results             (file_results.h)
// Schema versions: 1 = meta, sources, sync_runs, inventory, events, parse_cache; 2 adds leases,
// cluster_markers, sync_actions, operations, file_results. The version is kept in
// schema_versions and, for older converge builds, in meta.schema_version. A file written by a
// newer schema is refused (Unsupported) and a damaged one reported (Corrupt) when it is found,
// both left untouched. Every write is a transaction; a crash at any point leaves the last
// committed state. The file may hold other components' tables (the sim's sim_*).
// A Store and its parts are used by one thread at a time (one SQLite connection).
#pragma once

#include <memory>
#include <string>

#include "engine/base/status.h"
#include "engine/store/event_log.h"
#include "engine/store/file_results.h"
#include "engine/store/inventory_store.h"
#include "engine/store/operation_store.h"
#include "engine/store/parse_cache.h"
#include "engine/store/run_log.h"
#include "engine/store/source_store.h"

namespace converge {

class Env;
namespace sqlite {
class Connection;
}

class Store {
 public:
  static constexpr int kSchemaVersion = 6;

  // Opens or creates the file (and its directory) and migrates it forward. Unsupported for a
  // newer file, Corrupt for a file that is not a database, is empty, or lacks one of the store's
  // tables (named), Unavailable when it cannot be opened. Read-only where the process may not
  // write (engine/sqlite/connection.h).
  static Result<std::unique_ptr<Store>> Open(const std::string& path, Env* env);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  SourceStore* sources() { return sources_.get(); }
  InventoryStore* inventory() { return inventory_.get(); }
  RunLog* runs() { return runs_.get(); }
  EventLog* events() { return events_.get(); }
  OperationStore* operations() { return operations_.get(); }
  ParseCache* parse_cache() { return parse_cache_.get(); }
  FileResults* file_results() { return file_results_.get(); }

  const std::string& path() const { return path_; }
  // The file was opened read-only (this process may not write the state dir): caches are not
  // written, and anything else that writes fails.
  bool read_only() const;

 private:
  Store(std::unique_ptr<sqlite::Connection> conn, std::string path, Env* env);

  std::unique_ptr<sqlite::Connection> conn_;  // declared first: the parts below go before it
  std::string path_;
  std::unique_ptr<SqliteSourceStore> sources_;
  std::unique_ptr<SqliteInventoryStore> inventory_;
  std::unique_ptr<SqliteRunLog> runs_;
  std::unique_ptr<EventLog> events_;
  std::unique_ptr<OperationStore> operations_;
  std::unique_ptr<SqliteParseCache> parse_cache_;
  std::unique_ptr<FileResults> file_results_;
};

}  // namespace converge
