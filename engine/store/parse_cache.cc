#include "engine/store/parse_cache.h"

#include <spdlog/spdlog.h>

#include "engine/sqlite/connection.h"
#include "engine/sqlite/row_codec.h"

namespace converge {

namespace {

struct CacheRow {
  std::string blob_id;
  std::string parsed;
};

const sqlite::RowCodec<CacheRow>& Rows() {
  static const sqlite::RowCodec<CacheRow> codec(
      "parse_cache", {sqlite::Field("blob_id", &CacheRow::blob_id), sqlite::BlobField("parsed", &CacheRow::parsed)},
      {"blob_id"});
  return codec;
}

}  // namespace

std::optional<std::string> SqliteParseCache::Get(const std::string& blob_id) {
  static const std::string kSql = "SELECT parsed FROM parse_cache WHERE " + Rows().Key().KeyWhere();
  sqlite::Statement st = conn_.Prepare(kSql);
  st.Bind(1, blob_id);
  Result<bool> row = st.Step();
  if (!row.ok()) {
    spdlog::warn("parse cache: cannot read blob {}, parsing it again: {}", blob_id, row.status().message());
    return std::nullopt;
  }
  if (!*row) return std::nullopt;
  return st.Text(0);
}

Status SqliteParseCache::Put(const std::string& blob_id, const std::string& parsed) {
  if (conn_.read_only()) return Status::Ok();  // a read-only state dir: parsing again is the cost
  static const std::string kSql = Rows().Insert("INSERT OR IGNORE");  // content-addressed
  sqlite::Statement st = conn_.Prepare(kSql);
  Rows().Bind(st, CacheRow{blob_id, parsed});
  return st.Run();
}

}  // namespace converge
