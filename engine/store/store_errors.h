// Errors the store's parts share. Private to engine/store.
#pragma once

#include <cstdint>
#include <string>

#include "engine/base/status.h"

namespace converge::store_errors {

// A write that names a source (or run) that is not in the file fails its foreign key, which the
// SQLite layer reports as Conflict; say what is missing instead. Other statuses pass through.
inline Status Missing(const Status& st, const std::string& doing, const std::string& what, int64_t id,
                      const std::string& path) {
  if (st.code() != Code::kConflict || st.message().find("FOREIGN KEY") == std::string::npos) return st;
  return Status::NotFound("cannot " + doing + ": " + what + " id " + std::to_string(id) + " is not in state store " +
                          path);
}

}  // namespace converge::store_errors
