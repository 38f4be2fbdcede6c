#include "engine/store/event_log.h"

#include "engine/base/env.h"
#include "engine/sqlite/connection.h"
#include "engine/sqlite/row_codec.h"
#include "engine/sqlite/transaction.h"

namespace converge {

namespace {

using sqlite::Field;
using sqlite::RowCodec;

const RowCodec<Event>& Events() {
  static const RowCodec<Event> codec(
      "events",
      {Field("id", &Event::id), Field("at", &Event::at), Field("source_id", &Event::source_id),
       Field("level", &Event::level), Field("reason", &Event::reason), Field("object", &Event::object),
       Field("message", &Event::message)},
      {"id"});
  return codec;
}

}  // namespace

Status EventLog::Add(const Event& event) {
  static const RowCodec<Event> kNew = Events().Without({"id"});
  static const std::string kSql = kNew.Insert();
  Event row = event;
  if (row.at == 0) row.at = env_->NowMillis();
  sqlite::Transaction tx(conn_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  sqlite::Statement st = conn_.Prepare(kSql);
  kNew.Bind(st, row);
  CONVERGE_RETURN_IF_ERROR(st.Run());
  return tx.Commit();
}

Result<std::vector<Event>> EventLog::List(int limit) {
  static const std::string kSql = Events().Select() + " ORDER BY id DESC LIMIT ?1";
  sqlite::Statement st = conn_.Prepare(kSql);
  st.Bind(1, static_cast<int64_t>(limit > 0 ? limit : -1));
  return Events().ReadAll(st);
}

}  // namespace converge
