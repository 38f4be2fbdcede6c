#include "engine/sqlite/transaction.h"

#include <spdlog/spdlog.h>

namespace converge::sqlite {

Transaction::~Transaction() {
  if (!active_) return;
  Status st = conn_.Exec("ROLLBACK");
  // A destructor cannot return it; SQLite only fails a ROLLBACK when the connection is unusable.
  if (!st.ok()) spdlog::error("cannot roll back a transaction: {}", st.message());
}

Status Transaction::Begin() {
  if (active_) return Status::Internal("transaction on state store " + conn_.path() + " begun twice");
  CONVERGE_RETURN_IF_ERROR(conn_.EnsureWal());
  CONVERGE_RETURN_IF_ERROR(conn_.Exec("BEGIN IMMEDIATE"));
  active_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  if (!active_) return Status::Internal("commit without an open transaction in state store " + conn_.path());
  CONVERGE_RETURN_IF_ERROR(conn_.Exec("COMMIT"));
  active_ = false;
  return Status::Ok();
}

Savepoint::~Savepoint() {
  if (!active_) return;
  Status st = conn_.Exec("ROLLBACK TO " + name_);
  if (st.ok()) st = conn_.Exec("RELEASE " + name_);
  if (!st.ok()) spdlog::error("cannot roll back savepoint {}: {}", name_, st.message());
}

Status Savepoint::Begin() {
  if (active_) return Status::Internal("savepoint " + name_ + " on state store " + conn_.path() + " begun twice");
  if (!conn_.in_transaction()) CONVERGE_RETURN_IF_ERROR(conn_.EnsureWal());
  CONVERGE_RETURN_IF_ERROR(conn_.Exec("SAVEPOINT " + name_));
  active_ = true;
  return Status::Ok();
}

Status Savepoint::Release() {
  if (!active_) return Status::Internal("release of savepoint " + name_ + " that is not open");
  CONVERGE_RETURN_IF_ERROR(conn_.Exec("RELEASE " + name_));
  active_ = false;
  return Status::Ok();
}

}  // namespace converge::sqlite
