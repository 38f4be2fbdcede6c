// FileResults: a content-addressed cache of results derived from one file (e.g. a rendered
// kustomization, a schema validation verdict), so that work is proportional to what changed.
// One thread at a time, like its Connection.
//
// Table (created by store migration 2, store.cc):
//   file_results(blob_id, context, value BLOB, PRIMARY KEY (blob_id, context))
//       `blob_id` is the file's git blob id and `context` names everything else the value
//       depends on (the kind of result and its inputs' versions, e.g. "render/kustomize-5"), so a
//       (blob_id, context) always derives the same value: rows are inserted once and never
//       rewritten (a second Put is ignored). Losing a Put to a crash only costs recomputing it.
#pragma once

#include <optional>
#include <set>
#include <vector>
#include <string>

#include "engine/base/status.h"

namespace converge {

namespace sqlite {
class Connection;
}

class FileResults {
 public:
  explicit FileResults(sqlite::Connection& conn) : conn_(conn) {}

  // The stored value, nullopt when there is none; an error when the store cannot be read.
  Result<std::optional<std::string>> Get(const std::string& blob_id, const std::string& context);
  // Which of `blob_ids` have a value for `context`, in one query.
  Result<std::set<std::string>> Present(const std::vector<std::string>& blob_ids, const std::string& context);
  // Stores the value unless one is stored for (blob_id, context) already; skipped (ok) when the
  // store is read-only.
  Status Put(const std::string& blob_id, const std::string& context, const std::string& value);

 private:
  sqlite::Connection& conn_;
};

}  // namespace converge
