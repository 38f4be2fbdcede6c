#include "engine/store/operation_store.h"

#include "engine/base/env.h"
#include "engine/sqlite/connection.h"
#include "engine/sqlite/row_codec.h"
#include "engine/sqlite/transaction.h"
#include "engine/store/store_errors.h"

namespace converge {

namespace {

using sqlite::Field;
using sqlite::RowCodec;

const RowCodec<OperationRecord>& Operations() {
  static const RowCodec<OperationRecord> codec(
      "operations",
      {Field("id", &OperationRecord::id), Field("source_id", &OperationRecord::source_id), Field("cloud", &OperationRecord::cloud),
       Field("cluster", &OperationRecord::cluster), Field("kind", &OperationRecord::kind), Field("state", &OperationRecord::state),
       Field("message", &OperationRecord::message), Field("started_at", &OperationRecord::started_at),
       Field("finished_at", &OperationRecord::finished_at)},
      {"source_id", "cluster", "id"});
  return codec;
}

std::string Name(const std::string& cluster, const std::string& id) {
  return "operation " + id + " on cluster " + cluster;
}

}  // namespace

Status OperationStore::Record(const OperationRecord& op) {
  static const std::string kSql = Operations().Insert();
  OperationRecord row = op;
  row.state = "running";
  row.finished_at = 0;
  if (row.started_at == 0) row.started_at = env_->NowMillis();
  sqlite::Transaction tx(conn_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  sqlite::Statement st = conn_.Prepare(kSql);
  Operations().Bind(st, row);
  Status s = store_errors::Missing(st.Run(), "record " + Name(op.cluster, op.id), "source", op.source_id, conn_.path());
  if (s.code() == Code::kConflict) {
    return Status::AlreadyExists(Name(op.cluster, op.id) + " of source id " + std::to_string(op.source_id) +
                                 " is already recorded in state store " + conn_.path());
  }
  CONVERGE_RETURN_IF_ERROR(s);
  return tx.Commit();
}

Status OperationStore::Finish(int64_t source_id, const std::string& cluster, const std::string& id,
                              const std::string& state, const std::string& message) {
  static const RowCodec<OperationRecord> kEnd =
      Operations().Subset({"id", "source_id", "cluster", "state", "message", "finished_at"});
  static const std::string kSql = kEnd.Update();
  if (state != "succeeded" && state != "failed") {
    return Status::Invalid("finishing " + Name(cluster, id) + " needs state succeeded or failed, got \"" + state + "\"");
  }
  OperationRecord row;
  row.id = id;
  row.source_id = source_id;
  row.cluster = cluster;
  row.state = state;
  row.message = message;
  row.finished_at = env_->NowMillis();
  sqlite::Transaction tx(conn_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  sqlite::Statement st = conn_.Prepare(kSql);
  kEnd.Bind(st, row);
  CONVERGE_RETURN_IF_ERROR(st.Run());
  if (conn_.changes() == 0) {
    return Status::NotFound(Name(cluster, id) + " of source id " + std::to_string(source_id) +
                            " is not recorded in state store " + conn_.path());
  }
  return tx.Commit();
}

Result<std::vector<OperationRecord>> OperationStore::ListOpen(int64_t source_id) {
  static const std::string kSql =
      Operations().Select() + " WHERE source_id = ?1 AND state = 'running' ORDER BY started_at, cluster, id";
  sqlite::Statement st = conn_.Prepare(kSql);
  st.Bind(1, source_id);
  return Operations().ReadAll(st);
}

}  // namespace converge
