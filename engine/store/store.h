// Store: the engine's one SQLite file (<state_dir>/converge.db), WAL mode, versioned migrations.
//
// Tables (schema version 1; see store.cc for the exact DDL):
//   meta(key, value)              schema_version; written only by migrations.
//   sources(id, url, ref, path, last_commit, last_sync_at)
//                                 one row per (url, ref, path); last_commit rewritten after each
//                                 successful apply.
//   sync_runs(id, source_id, operation, commit_sha, started_at, finished_at, result,
//             created, updated, deleted, unchanged, message)
//                                 appended when a plan/apply starts (result "running"), rewritten
//                                 once when it ends. A row left "running" after a crash is flipped
//                                 to "interrupted" by MarkInterrupted() before the next run.
//   inventory(source_id, cluster, grp, kind, namespace, name, api_version, last_applied,
//             desired_hash, live_version, health, health_message, drift, pending, updated_at)
//                                 the managed-object inventory; rows are written (pending=1)
//                                 before an object is applied, so a crash never leaves a live
//                                 object converge does not know it created.
//   events(id, at, source_id, level, reason, object, message)        appended.
//   parse_cache(blob_id, parsed)  parsed specs keyed by git blob id; content-addressed, so
//                                 rows are never rewritten.
// Every write is one transaction; a crash at any point leaves the last committed state.
// A file written by a newer schema is refused (Unsupported); a damaged file is reported
// (Corrupt), never reset. A Store is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/model/object.h"
#include "engine/spec/spec.h"

struct sqlite3;

namespace converge {

class Env;

struct SourceRecord {
  int64_t id = 0;
  std::string url;
  std::string ref;
  std::string path;
  std::string last_commit;  // commit of the last successful apply; empty before
  int64_t last_sync_at = 0;  // unix ms
};

struct SyncRun {
  int64_t id = 0;
  int64_t source_id = 0;
  std::string source_url;   // filled by ListSyncRuns
  std::string operation;    // "plan" | "apply"
  std::string commit;
  int64_t started_at = 0;   // unix ms
  int64_t finished_at = 0;  // 0 while running
  std::string result;       // running | succeeded | failed | interrupted
  int created = 0, updated = 0, deleted = 0, unchanged = 0;
  std::string message;
};

struct InventoryEntry {
  int64_t source_id = 0;
  ObjectRef ref;              // cluster empty for Cloud/Cluster objects
  std::string api_version;
  std::string last_applied;   // JSON text of what converge last applied
  std::string desired_hash;   // hash of the desired object last applied
  std::string live_version;   // resourceVersion after the last apply
  std::string health;         // Healthy | Progressing | Degraded | Missing | Unknown
  std::string health_message;
  bool drift = false;
  bool pending = false;       // written before the apply; cleared when it succeeded
  int64_t updated_at = 0;
};

struct Event {
  int64_t id = 0;
  int64_t at = 0;
  int64_t source_id = 0;
  std::string level;   // info | warning | error
  std::string reason;  // e.g. Applied, Pruned, ApplyFailed
  std::string object;
  std::string message;
};

class Store : public ParseCache {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens or creates the file and migrates it forward.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, Env* env);
  ~Store() override;

  Result<SourceRecord> UpsertSource(const std::string& url, const std::string& ref, const std::string& path);
  Result<std::vector<SourceRecord>> ListSources();
  Status SetSourceSynced(int64_t source_id, const std::string& commit, int64_t at);

  Result<int64_t> BeginSyncRun(int64_t source_id, const std::string& operation, const std::string& commit);
  Status FinishSyncRun(const SyncRun& run);  // by run.id
  // Newest first, with source_url filled; limit <= 0 returns every run. A run whose process
  // died still reads "running" until MarkInterrupted() runs.
  Result<std::vector<SyncRun>> ListSyncRuns(int limit);
  // Flips every "running" run to "interrupted" (finished_at stays 0: the end time is unknown).
  // Call only while holding the StateLock, before starting a new run.
  Status MarkInterrupted();

  // All rows of one source (source_id 0: every source).
  Result<std::vector<InventoryEntry>> LoadInventory(int64_t source_id);
  // Upserts and deletes in one transaction.
  Status WriteInventory(const std::vector<InventoryEntry>& upserts, const std::vector<std::pair<int64_t, ObjectRef>>& deletes);

  Status AddEvent(const Event& event);
  Result<std::vector<Event>> ListEvents(int limit);

  // ParseCache.
  std::optional<std::string> Get(const std::string& blob_id) override;
  void Put(const std::string& blob_id, const std::string& parsed) override;

  const std::string& path() const { return path_; }

 private:
  Store(sqlite3* db, std::string path, Env* env);
  sqlite3* db_;
  std::string path_;
  Env* env_;
};

}  // namespace converge
