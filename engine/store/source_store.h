// SourceStore: the Git sources converge syncs, and per source the lease that says which converge
// process is syncing it now. Abstract so that a PostgreSQL store shared by several converge
// replicas can implement it too: nothing here assumes one process or one host. SqliteSourceStore
// is the embedded implementation (one thread at a time, like its Connection).
//
// Tables (created by store migrations, store.cc):
//   sources(id INTEGER PRIMARY KEY AUTOINCREMENT, url, ref, path, last_commit, last_sync_at,
//           UNIQUE (url, ref, path))                                        [migration 1]
//           + fleet_digest, UNIQUE (url, path)                              [migration 5]
//       One row per repository directory: url and path are the source's identity, normalized
//       (engine/source/identity.h), and ref is a property rewritten by each Upsert, so switching
//       refs plans like any new commit. A row is appended the first time an identity is seen and
//       never removed by converge; last_commit, fleet_digest and last_sync_at are rewritten after
//       each successful apply (and cleared when an apply starts changing things, so the no-op
//       path cannot trust a half-applied commit). fleet_digest sums up the Clusters of other
//       sources this one placed onto, so their change sends the next plan through Git.
//   leases(source_id INTEGER PRIMARY KEY REFERENCES sources ON DELETE CASCADE, owner, host, pid,
//          acquired_at, renewed_at, expires_at)                             [migration 2]
//       At most one row per source: inserted by AcquireLease, rewritten by RenewLease and by a
//       takeover, deleted by ReleaseLease. Times are unix ms from the caller's clock.
// Every call is one transaction, and the decision to grant a lease is taken inside its write
// transaction, so two acquirers never both win. A holder that crashes leaves its row behind; the
// row stops blocking others when it expires, or at once for an acquirer on the same host that
// sees the holder's pid is gone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/status.h"

namespace converge {

namespace sqlite {
class Connection;
}

struct SourceRecord {
  int64_t id = 0;
  std::string url;
  std::string ref;
  std::string path;
  std::string last_commit;   // commit of the last successful apply; empty before
  int64_t last_sync_at = 0;  // unix ms
  std::string fleet_digest;  // other sources' Clusters as of that apply (see above)
};

// Who holds a lease: `id` is unique per converge process (or replica); host and pid say where it
// runs, for messages and for taking over from a holder that died on this host.
struct LeaseOwner {
  std::string id;
  std::string host;
  int64_t pid = 0;
};

struct Lease {
  int64_t source_id = 0;
  LeaseOwner owner;
  int64_t acquired_at = 0;  // when this owner took it
  int64_t renewed_at = 0;
  int64_t expires_at = 0;
};

class SourceStore {
 public:
  virtual ~SourceStore() = default;

  // The source (url, path) (a normalized identity), added with `ref` when new. An existing one
  // keeps its sync state, and takes `ref` as its ref when `take_ref`. On a read-only store nothing
  // is added or changed: an unknown source comes back with id 0 and nothing recorded.
  virtual Result<SourceRecord> Upsert(const std::string& url, const std::string& ref, const std::string& path,
                                      bool take_ref = true) = 0;
  // Every source, by id.
  virtual Result<std::vector<SourceRecord>> List() = 0;
  // Records the last successful apply; NotFound for an unknown source.
  virtual Status SetSynced(int64_t source_id, const std::string& commit, int64_t at,
                           const std::string& fleet_digest = "") = 0;

  // Grants `owner` the source's lease until now_ms + ttl_ms when nobody holds it, the lease
  // expired, `owner` already holds it (a renewal that keeps acquired_at), or the holder runs on
  // owner.host and its pid is gone. Otherwise Conflict naming the holder's pid, host and expiry.
  // NotFound for an unknown source; Invalid for ttl_ms <= 0.
  virtual Result<Lease> AcquireLease(int64_t source_id, const LeaseOwner& owner, int64_t ttl_ms,
                                     int64_t now_ms) = 0;
  // Extends a lease `owner` holds to now_ms + ttl_ms (also when it expired and nobody took it).
  // Conflict when the lease was released or taken by someone else: the caller must stop.
  virtual Result<Lease> RenewLease(int64_t source_id, const LeaseOwner& owner, int64_t ttl_ms, int64_t now_ms) = 0;
  // Drops the lease if `owner` holds it; a lease held by someone else is left alone.
  virtual Status ReleaseLease(int64_t source_id, const LeaseOwner& owner) = 0;
  // The current lease row, expired or not; nullopt when there is none.
  virtual Result<std::optional<Lease>> GetLease(int64_t source_id) = 0;
};

// "file:///repo//fleet @ main": the source's identity and its ref, for messages and `status`.
std::string DescribeSource(const SourceRecord& source);

// True when no process `pid` exists on this machine (kill(pid, 0) fails with ESRCH). The one
// place that asks the OS, so it can move behind the Env seam. False for pid <= 0.
bool ProcessIsGone(int64_t pid);

class SqliteSourceStore : public SourceStore {
 public:
  explicit SqliteSourceStore(sqlite::Connection& conn) : conn_(conn) {}

  Result<SourceRecord> Upsert(const std::string& url, const std::string& ref, const std::string& path,
                              bool take_ref = true) override;
  Result<std::vector<SourceRecord>> List() override;
  Status SetSynced(int64_t source_id, const std::string& commit, int64_t at,
                   const std::string& fleet_digest = "") override;
  Result<Lease> AcquireLease(int64_t source_id, const LeaseOwner& owner, int64_t ttl_ms, int64_t now_ms) override;
  Result<Lease> RenewLease(int64_t source_id, const LeaseOwner& owner, int64_t ttl_ms, int64_t now_ms) override;
  Status ReleaseLease(int64_t source_id, const LeaseOwner& owner) override;
  Result<std::optional<Lease>> GetLease(int64_t source_id) override;

 private:
  Result<std::optional<Lease>> FindLease(int64_t source_id);
  Status WriteLease(const Lease& lease);
  // "source 3 (file:///repo@main//fleet)", or "source 3" when it cannot be read.
  std::string Describe(int64_t source_id);

  sqlite::Connection& conn_;
};

}  // namespace converge
