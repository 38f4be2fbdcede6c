// How SQLite result codes become Status values: one mapping for every component that keeps tables
// in the state store (the engine's store, the sim provider). Pure; thread-safe.
#pragma once

#include <string>

#include "engine/base/status.h"

namespace converge::sqlite {

// Turns an SQLite result code into a Status naming `what` failed, the file and what to do:
//   BUSY, LOCKED                  -> Unavailable, retryable (another process held the write lock)
//   CORRUPT, NOTADB               -> Corrupt (CorruptError below, with `damage` as the description)
//   CONSTRAINT                    -> Conflict
//   FULL                          -> Unavailable, not retryable (free disk space)
//   IOERR, CANTOPEN, READONLY, PERM, AUTH -> Unavailable, not retryable (check permissions)
//   anything else                 -> Internal
// `sqlite_message` is sqlite3_errmsg's text. `damage` describes the damage for CORRUPT/NOTADB
// (e.g. "quick_check: Page 87: ..."); empty means use `sqlite_message`.
Status MapError(int rc, const std::string& sqlite_message, const std::string& what, const std::string& path,
                const std::string& damage = "");

// "state store PATH is damaged (DESCRIPTION): restore it from a backup or move it away to start
// fresh". The one wording of a damaged file, whoever finds it.
Status CorruptError(const std::string& path, const std::string& description);

}  // namespace converge::sqlite
