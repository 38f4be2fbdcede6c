#include "engine/store/run_log.h"

#include "engine/base/env.h"
#include "engine/sqlite/connection.h"
#include "engine/sqlite/row_codec.h"
#include "engine/sqlite/transaction.h"
#include "engine/store/store_errors.h"

namespace converge {

namespace {

using sqlite::Field;
using sqlite::RowCodec;
using sqlite::Statement;
using sqlite::Transaction;

const RowCodec<SyncRun>& Runs() {
  static const RowCodec<SyncRun> codec(
      "sync_runs",
      {Field("id", &SyncRun::id), Field("source_id", &SyncRun::source_id), Field("operation", &SyncRun::operation),
       Field("commit_sha", &SyncRun::commit), Field("started_at", &SyncRun::started_at),
       Field("finished_at", &SyncRun::finished_at), Field("result", &SyncRun::result),
       Field("created", &SyncRun::created), Field("updated", &SyncRun::updated), Field("deleted", &SyncRun::deleted),
       Field("unchanged", &SyncRun::unchanged), Field("message", &SyncRun::message)},
      {"id"});
  return codec;
}

const RowCodec<ActionRecord>& Actions() {
  static const RowCodec<ActionRecord> codec(
      "sync_actions",
      {Field("run_id", &ActionRecord::run_id), Field("seq", &ActionRecord::seq),
       Field("cluster", &ActionRecord::ref, &ObjectRef::cluster),
       Field("grp", &ActionRecord::ref, &ObjectRef::key, &ObjectKey::group),
       Field("kind", &ActionRecord::ref, &ObjectRef::key, &ObjectKey::kind),
       Field("namespace", &ActionRecord::ref, &ObjectRef::key, &ObjectKey::ns),
       Field("name", &ActionRecord::ref, &ObjectRef::key, &ObjectKey::name), Field("action", &ActionRecord::action),
       Field("outcome", &ActionRecord::outcome), Field("message", &ActionRecord::message),
       Field("attempts", &ActionRecord::attempts), Field("started_at", &ActionRecord::started_at),
       Field("finished_at", &ActionRecord::finished_at)},
      {"run_id", "seq"});
  return codec;
}

constexpr const char* kInterrupt =
    "UPDATE sync_runs SET result = 'interrupted', "
    "message = CASE WHEN message = '' THEN 'the process ended before the run finished' ELSE message END "
    "WHERE result = 'running'";

}  // namespace

Result<int64_t> SqliteRunLog::Begin(int64_t source_id, const std::string& operation, const std::string& commit) {
  static const RowCodec<SyncRun> kStart = Runs().Subset({"source_id", "operation", "commit_sha", "started_at", "result"});
  static const std::string kSql = kStart.Insert();
  SyncRun run;
  run.source_id = source_id;
  run.operation = operation;
  run.commit = commit;
  run.started_at = env_->NowMillis();
  run.result = "running";
  Transaction tx(conn_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  Statement st = conn_.Prepare(kSql);
  kStart.Bind(st, run);
  CONVERGE_RETURN_IF_ERROR(
      store_errors::Missing(st.Run(), "record a " + operation + " run", "source", source_id, conn_.path()));
  int64_t id = conn_.last_insert_rowid();
  CONVERGE_RETURN_IF_ERROR(tx.Commit());
  return id;
}

Status SqliteRunLog::Finish(const SyncRun& run) {
  // The commit may only be known after the run started: without one, the stored one stays.
  static const RowCodec<SyncRun> kEnd =
      Runs().Subset({"id", "finished_at", "result", "created", "updated", "deleted", "unchanged", "message"});
  static const RowCodec<SyncRun> kEndWithCommit = Runs().Without({"source_id", "operation", "started_at"});
  static const std::string kSql = kEnd.Update();
  static const std::string kSqlWithCommit = kEndWithCommit.Update();
  if (run.result.empty() || run.result == "running") {
    return Status::Invalid("finishing sync run " + std::to_string(run.id) +
                           " needs a final result (succeeded, failed or interrupted), got \"" + run.result + "\"");
  }
  SyncRun row = run;
  if (row.finished_at == 0) row.finished_at = env_->NowMillis();
  const RowCodec<SyncRun>& codec = run.commit.empty() ? kEnd : kEndWithCommit;
  Transaction tx(conn_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  Statement st = conn_.Prepare(run.commit.empty() ? kSql : kSqlWithCommit);
  codec.Bind(st, row);
  CONVERGE_RETURN_IF_ERROR(st.Run());
  if (conn_.changes() == 0) {
    return Status::NotFound("sync run " + std::to_string(run.id) + " is not in state store " + conn_.path());
  }
  return tx.Commit();
}

Result<std::vector<SyncRun>> SqliteRunLog::List(int limit) {
  static const std::string kSql = "SELECT " + Runs().Columns("r") +
                                  ", s.url FROM sync_runs r JOIN sources s ON s.id = r.source_id "
                                  "ORDER BY r.id DESC LIMIT ?1";
  static const int kUrl = Runs().size();
  Statement st = conn_.Prepare(kSql);
  st.Bind(1, static_cast<int64_t>(limit > 0 ? limit : -1));
  std::vector<SyncRun> out;
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back(Runs().Read(st));
    out.back().source_url = st.Text(kUrl);
  }
}

Status SqliteRunLog::MarkInterrupted(int64_t source_id) {
  static const std::string kSql = std::string(kInterrupt) + " AND source_id = ?1";
  Transaction tx(conn_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  CONVERGE_RETURN_IF_ERROR(conn_.Prepare(kSql).Bind(1, source_id).Run());
  return tx.Commit();
}

Status SqliteRunLog::AppendActions(int64_t run_id, const std::vector<ActionRecord>& batch) {
  static const std::string kInsert = Actions().Insert();
  if (batch.empty()) return Status::Ok();
  Transaction tx(conn_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  int64_t seq = 0;
  {
    Statement last = conn_.Prepare("SELECT COALESCE(MAX(seq), 0) FROM sync_actions WHERE run_id = ?1");
    last.Bind(1, run_id);
    Result<bool> row = last.Step();
    if (!row.ok()) return row.status();
    seq = last.Int64(0);
  }
  for (const ActionRecord& a : batch) {
    ActionRecord row = a;
    row.run_id = run_id;
    row.seq = ++seq;
    Statement st = conn_.Prepare(kInsert);
    Actions().Bind(st, row);
    CONVERGE_RETURN_IF_ERROR(
        store_errors::Missing(st.Run(), "record the result of " + a.ref.ToString(), "sync run", run_id, conn_.path()));
  }
  return tx.Commit();
}

Result<std::vector<ActionRecord>> SqliteRunLog::ListActions(int64_t run_id) {
  static const std::string kSql = Actions().Select() + " WHERE run_id = ?1 ORDER BY seq";
  Statement st = conn_.Prepare(kSql);
  st.Bind(1, run_id);
  return Actions().ReadAll(st);
}

}  // namespace converge
