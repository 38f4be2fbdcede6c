// RunLog: the history of sync runs (plan / apply) and, per run, the result of every action it
// took. Abstract so that a PostgreSQL store shared by several converge replicas can implement it;
// SqliteRunLog is the embedded implementation (one thread at a time, like its Connection).
//
// Tables (created by store migrations, store.cc):
//   sync_runs(id INTEGER PRIMARY KEY AUTOINCREMENT, source_id, operation, commit_sha, started_at,
//             finished_at, result, created, updated, deleted, unchanged, message)   [migration 1]
//       Appended when a run starts (result "running"), rewritten once when it ends. A row left
//       "running" by a crash is flipped to "interrupted" by MarkInterrupted before the next run.
//       AUTOINCREMENT: ids are never reused, so "newest first" is "id descending".
//   sync_actions(run_id REFERENCES sync_runs ON DELETE CASCADE, seq, cluster, grp, kind,
//                namespace, name, action, outcome, message, attempts, started_at, finished_at,
//                PRIMARY KEY (run_id, seq))                                         [migration 2]
//       Appended only: one row per finished action, numbered 1, 2, ... per run in the order
//       appended. A batch is one transaction, so a crash loses at most the batch being written,
//       never half of it; the run itself says whether it finished.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/model/object.h"

namespace converge {

class Env;
namespace sqlite {
class Connection;
}

struct SyncRun {
  int64_t id = 0;
  int64_t source_id = 0;
  std::string source_url;   // filled by List
  std::string operation;    // "plan" | "apply"
  std::string commit;
  int64_t started_at = 0;   // unix ms
  int64_t finished_at = 0;  // 0 while running
  std::string result;       // running | succeeded | failed | interrupted
  int created = 0, updated = 0, deleted = 0, unchanged = 0;
  std::string message;
};

// The result of one action of a run.
struct ActionRecord {
  int64_t run_id = 0;
  int64_t seq = 0;          // assigned by AppendActions
  ObjectRef ref;
  std::string action;       // create | update | delete | ...
  std::string outcome;      // succeeded | failed | skipped | ...
  std::string message;
  int attempts = 0;
  int64_t started_at = 0;   // unix ms
  int64_t finished_at = 0;
};

class RunLog {
 public:
  virtual ~RunLog() = default;

  // Appends a "running" run started now; returns its id. NotFound for an unknown source.
  virtual Result<int64_t> Begin(int64_t source_id, const std::string& operation, const std::string& commit) = 0;
  // Records the end of run.id: result (not "running": Invalid), counts, message, finished_at
  // (0: now) and the commit when given (the fetch may resolve it after the run began).
  // NotFound for an unknown run.
  virtual Status Finish(const SyncRun& run) = 0;
  // Newest first, with source_url filled; limit <= 0 returns every run. A run whose process
  // died reads "running" until MarkInterrupted runs.
  virtual Result<std::vector<SyncRun>> List(int limit) = 0;
  // Flips every "running" run of one source to "interrupted" (finished_at stays 0: the end is
  // unknown). For a caller holding that source's lease, so no run of it can be in progress.
  virtual Status MarkInterrupted(int64_t source_id) = 0;

  // Appends `batch` to the run's action results in one transaction, numbering them after the
  // ones already there (their run_id and seq fields are ignored). NotFound for an unknown run.
  virtual Status AppendActions(int64_t run_id, const std::vector<ActionRecord>& batch) = 0;
  // The run's action results in the order appended.
  virtual Result<std::vector<ActionRecord>> ListActions(int64_t run_id) = 0;
};

class SqliteRunLog : public RunLog {
 public:
  SqliteRunLog(sqlite::Connection& conn, Env* env) : conn_(conn), env_(env) {}

  Result<int64_t> Begin(int64_t source_id, const std::string& operation, const std::string& commit) override;
  Status Finish(const SyncRun& run) override;
  Result<std::vector<SyncRun>> List(int limit) override;
  Status MarkInterrupted(int64_t source_id) override;
  Status AppendActions(int64_t run_id, const std::vector<ActionRecord>& batch) override;
  Result<std::vector<ActionRecord>> ListActions(int64_t run_id) override;

 private:
  sqlite::Connection& conn_;
  Env* env_;
};

}  // namespace converge
