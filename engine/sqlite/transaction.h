// Transaction and Savepoint: scoped units of work on one Connection. A Transaction is
// BEGIN IMMEDIATE (the write lock is taken up front, so a busy file fails at Begin, waiting up to
// the busy timeout, never half-way through) and ROLLBACK in its destructor unless Commit()
// succeeded. A Savepoint nests inside it for a part that may fail alone: its destructor rolls back
// to where it began unless Release() succeeded; the enclosing transaction carries on. Outside a
// transaction a Savepoint is a deferred transaction (a consistent read snapshot).
// Same thread rules as the Connection.
#pragma once

#include <string>

#include "engine/base/status.h"
#include "engine/sqlite/connection.h"

namespace converge::sqlite {

class Transaction {
 public:
  explicit Transaction(Connection& conn) : conn_(conn) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // BEGIN IMMEDIATE; Unavailable (retryable) when another connection kept the write lock longer
  // than the busy timeout.
  Status Begin();
  // COMMIT. On failure the transaction stays open and the destructor rolls it back.
  Status Commit();

 private:
  Connection& conn_;
  bool active_ = false;
};

class Savepoint {
 public:
  explicit Savepoint(Connection& conn) : conn_(conn), name_(conn.NextSavepointName()) {}
  ~Savepoint();
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;

  Status Begin();
  // Keeps the changes made since Begin (they commit with the enclosing transaction).
  Status Release();

 private:
  Connection& conn_;
  std::string name_;
  bool active_ = false;
};

}  // namespace converge::sqlite
