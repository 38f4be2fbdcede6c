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

Result<std::set<std::string>> FileResults::Present(const std::vector<std::string>& blob_ids, const std::string& context) {
  std::set<std::string> out;
  if (blob_ids.empty()) return out;
  // The ids go in as one JSON array; each is looked up through the primary key.
  std::string list = "[";
  for (size_t i = 0; i < blob_ids.size(); i++) {
    if (i) list += ",";
    list += "\"" + blob_ids[i] + "\"";  // git object ids: hex, nothing to escape
  }
  list += "]";
  sqlite::Statement st = conn_.Prepare(
      "SELECT f.blob_id FROM json_each(?1) AS j CROSS JOIN file_results AS f ON f.blob_id = j.value AND f.context = ?2");
  st.Bind(1, list);
  st.Bind(2, context);
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.insert(st.Text(0));
  }
}

Status FileResults::Put(const std::string& blob_id, const std::string& context, const std::string& value) {
  if (conn_.read_only()) return Status::Ok();  // a read-only state dir: recomputing is the cost
  static const std::string kSql = Rows().Insert("INSERT OR IGNORE");
  sqlite::Statement st = conn_.Prepare(kSql);
  Rows().Bind(st, ResultRow{blob_id, context, value});
  return st.Run();
}

}  // namespace converge
