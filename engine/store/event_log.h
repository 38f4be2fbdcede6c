// EventLog: what happened, for people (`converge status`, notifications later): applied,
// pruned, failed, synced. One thread at a time, like its Connection.
//
// Table (created by store migration 1, store.cc):
//   events(id INTEGER PRIMARY KEY AUTOINCREMENT, at, source_id, level, reason, object, message)
//       Appended only, one row per event, each in its own transaction. source_id 0 means not
//       tied to a source (no foreign key). AUTOINCREMENT: "newest first" is "id descending".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/status.h"

namespace converge {

class Env;
namespace sqlite {
class Connection;
}

struct Event {
  int64_t id = 0;
  int64_t at = 0;         // unix ms; 0 on Add means now
  int64_t source_id = 0;
  std::string level;      // info | warning | error
  std::string reason;     // e.g. Applied, Pruned, ApplyFailed
  std::string object;
  std::string message;
};

class EventLog {
 public:
  EventLog(sqlite::Connection& conn, Env* env) : conn_(conn), env_(env) {}

  // Appends the event (its id is ignored).
  Status Add(const Event& event);
  // Newest first; limit <= 0 returns every event.
  Result<std::vector<Event>> List(int limit);

 private:
  sqlite::Connection& conn_;
  Env* env_;
};

}  // namespace converge
