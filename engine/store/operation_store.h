// OperationStore: long-running provider operations (a cluster being created, scaled, upgraded)
// whose ids must survive a restart, so the next process resumes polling them instead of
// starting them again. One thread at a time, like its Connection.
//
// Table (created by store migration 2, store.cc):
//   operations(id TEXT, source_id REFERENCES sources ON DELETE CASCADE, cloud, cluster, kind,
//              state, message, started_at, finished_at, PRIMARY KEY (source_id, cluster, id))
//       A row is inserted ("running") by Record as soon as the provider returns the operation
//       id, before anything waits on it, and rewritten once by Finish (succeeded | failed).
//       A crash in between leaves a "running" row: ListOpen returns it to the next process.
//       Rows are kept as history; `id` is the provider's and unique per source and cluster.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/status.h"

namespace converge {

class Env;
namespace sqlite {
class Connection;
}

struct OperationRecord {
  std::string id;           // the provider's operation id
  int64_t source_id = 0;
  std::string cloud;
  std::string cluster;
  std::string kind;         // e.g. create, scale, upgrade, delete
  std::string state;        // running | succeeded | failed
  std::string message;
  int64_t started_at = 0;   // unix ms; 0 on Record means now
  int64_t finished_at = 0;  // 0 while running
};

class OperationStore {
 public:
  OperationStore(sqlite::Connection& conn, Env* env) : conn_(conn), env_(env) {}

  // Records a started operation (state running, whatever op.state says). AlreadyExists when the
  // same (source, cluster, id) is recorded; NotFound for an unknown source.
  Status Record(const OperationRecord& op);
  // Records the end of an operation: `state` is succeeded or failed (else Invalid). NotFound when
  // it was never recorded.
  Status Finish(int64_t source_id, const std::string& cluster, const std::string& id, const std::string& state,
                const std::string& message);
  // The source's operations still running, oldest first.
  Result<std::vector<OperationRecord>> ListOpen(int64_t source_id);

 private:
  sqlite::Connection& conn_;
  Env* env_;
};

}  // namespace converge
