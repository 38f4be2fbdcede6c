// SqliteParseCache: engine/spec's ParseCache in the state store, so an unchanged file is never
// parsed twice, whichever process parsed it. One thread at a time, like its Connection.
//
// Table (created by store migration 1, store.cc):
//   parse_cache(blob_id TEXT PRIMARY KEY, parsed BLOB)
//       Content-addressed by git blob id: a row is inserted once and never rewritten (a second
//       Put of the same blob is ignored, since it holds the same value). Each Put is its own
//       statement; losing one to a crash only costs a parse.
#pragma once

#include <optional>
#include <string>

#include "engine/base/status.h"
#include "engine/spec/spec.h"

namespace converge {

namespace sqlite {
class Connection;
}

class SqliteParseCache : public ParseCache {
 public:
  explicit SqliteParseCache(sqlite::Connection& conn) : conn_(conn) {}

  // The cached value; a read error is logged (warning) and reads as a miss.
  std::optional<std::string> Get(const std::string& blob_id) override;
  // Skipped (ok) when the store is read-only.
  Status Put(const std::string& blob_id, const std::string& parsed) override;

 private:
  sqlite::Connection& conn_;
};

}  // namespace converge
