#include "engine/store/file_results.h"

#include "engine/sqlite/connection.h"
#include "engine/sqlite/row_codec.h"

namespace converge {

namespace {

struct ResultRow {
  std::string blob_id;
  std::string context;
  std::string value;
};

const sqlite::RowCodec<ResultRow>& Rows() {
  static const sqlite::RowCodec<ResultRow> codec(
      "file_results",
      {sqlite::Field("blob_id", &ResultRow::blob_id), sqlite::Field("context", &ResultRow::context),
       sqlite::BlobField("value", &ResultRow::value)},
      {"blob_id", "context"});
  return codec;
}

}  // namespace

Result<std::optional<std::string>> FileResults::Get(const std::string& blob_id, const std::string& context) {
  static const sqlite::RowCodec<ResultRow> kKey = Rows().Key();
  static const std::string kSql = "SELECT value FROM file_results WHERE " + kKey.KeyWhere();
  sqlite::Statement st = conn_.Prepare(kSql);
  kKey.Bind(st, ResultRow{blob_id, context, ""});
  Result<bool> row = st.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(st.Text(0));
}

Status FileResults::Put(const std::string& blob_id, const std::string& context, const std::string& value) {
  static const std::string kSql = Rows().Insert("INSERT OR IGNORE");
  sqlite::Statement st = conn_.Prepare(kSql);
  Rows().Bind(st, ResultRow{blob_id, context, value});
  return st.Run();
}

}  // namespace converge
