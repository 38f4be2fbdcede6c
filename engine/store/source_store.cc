#include "engine/store/source_store.h"

#include <signal.h>

#include <cerrno>
#include <ctime>

#include "engine/sqlite/connection.h"
#include "engine/sqlite/row_codec.h"
#include "engine/sqlite/transaction.h"
#include "engine/store/store_errors.h"

namespace converge {

namespace {

using sqlite::Field;
using sqlite::RowCodec;
using sqlite::Statement;
using sqlite::Transaction;

const RowCodec<SourceRecord>& Sources() {
  static const RowCodec<SourceRecord> codec(
      "sources",
      {Field("id", &SourceRecord::id), Field("url", &SourceRecord::url), Field("ref", &SourceRecord::ref),
       Field("path", &SourceRecord::path), Field("last_commit", &SourceRecord::last_commit),
       Field("last_sync_at", &SourceRecord::last_sync_at), Field("fleet_digest", &SourceRecord::fleet_digest)},
      {"url", "path"});
  return codec;
}

const RowCodec<Lease>& Leases() {
  static const RowCodec<Lease> codec(
      "leases",
      {Field("source_id", &Lease::source_id), Field("owner", &Lease::owner, &LeaseOwner::id),
       Field("host", &Lease::owner, &LeaseOwner::host), Field("pid", &Lease::owner, &LeaseOwner::pid),
       Field("acquired_at", &Lease::acquired_at), Field("renewed_at", &Lease::renewed_at),
       Field("expires_at", &Lease::expires_at)},
      {"source_id"});
  return codec;
}

std::string FormatUtc(int64_t unix_ms) {
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::string DescribeSource(const SourceRecord& s) {
  return s.url + (s.path.empty() ? "" : "//" + s.path) + (s.ref.empty() ? "" : " @ " + s.ref);
}

bool ProcessIsGone(int64_t pid) {
  if (pid <= 0) return false;  // kill(0) and kill(-1) mean process groups, not a pid
  return kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH;
}

Result<SourceRecord> SqliteSourceStore::Upsert(const std::string& url, const std::string& ref,
                                               const std::string& path, bool take_ref) {
  static const std::string kInsert =
      "INSERT INTO sources (url, ref, path) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (url, path) DO UPDATE SET ref = excluded.ref";
  static const std::string kAdd = "INSERT INTO sources (url, ref, path) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";
  static const std::string kSelect = Sources().Select() + " WHERE " + Sources().Key().KeyWhere();
  SourceRecord want;
  want.url = url;
  want.ref = ref;
  want.path = path;
  auto find = [&]() -> Result<std::optional<SourceRecord>> {
    Statement sel = conn_.Prepare(kSelect);
    Sources().Key().Bind(sel, want);
    Result<bool> row = sel.Step();
    if (!row.ok()) return row.status();
    return *row ? std::optional<SourceRecord>(Sources().Read(sel)) : std::nullopt;
  };
  if (conn_.read_only()) {  // nothing is added: an unknown source reads as one with nothing recorded
    Result<std::optional<SourceRecord>> found = find();
    if (!found.ok()) return found.status();
    return *found ? **found : want;
  }
  Transaction tx(conn_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  CONVERGE_RETURN_IF_ERROR(conn_.Prepare(take_ref ? kInsert : kAdd).Bind(1, url).Bind(2, ref).Bind(3, path).Run());
  Result<std::optional<SourceRecord>> rec = find();
  if (!rec.ok()) return rec.status();
  if (!*rec) return Status::Internal("source " + url + " vanished right after it was written to " + conn_.path());
  CONVERGE_RETURN_IF_ERROR(tx.Commit());
  return **rec;
}

Result<std::vector<SourceRecord>> SqliteSourceStore::List() {
  static const std::string kSql = Sources().Select() + " ORDER BY id";
  Statement st = conn_.Prepare(kSql);
  return Sources().ReadAll(st);
}

Status SqliteSourceStore::SetSynced(int64_t source_id, const std::string& commit, int64_t at,
                                    const std::string& fleet_digest) {
  static const RowCodec<SourceRecord> kSynced =
      Sources().Subset({"id", "last_commit", "last_sync_at", "fleet_digest"}).WithKey({"id"});
  static const std::string kSql = kSynced.Update();
  SourceRecord rec;
  rec.id = source_id;
  rec.last_commit = commit;
  rec.last_sync_at = at;
  rec.fleet_digest = fleet_digest;
  Transaction tx(conn_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  Statement st = conn_.Prepare(kSql);
  kSynced.Bind(st, rec);
  CONVERGE_RETURN_IF_ERROR(st.Run());
  if (conn_.changes() == 0) {
    return Status::NotFound("source id " + std::to_string(source_id) + " is not in state store " + conn_.path());
  }
  return tx.Commit();
}

Result<std::optional<Lease>> SqliteSourceStore::FindLease(int64_t source_id) {
  static const std::string kSql = Leases().Select() + " WHERE " + Leases().Key().KeyWhere();
  Statement st = conn_.Prepare(kSql);
  st.Bind(1, source_id);
  Result<bool> row = st.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<Lease>();
  return std::optional<Lease>(Leases().Read(st));
}

Status SqliteSourceStore::WriteLease(const Lease& lease) {
  static const std::string kSql = Leases().Upsert();
  Statement st = conn_.Prepare(kSql);
  Leases().Bind(st, lease);
  return store_errors::Missing(st.Run(), "take the lease", "source", lease.source_id, conn_.path());
}

std::string SqliteSourceStore::Describe(int64_t source_id) {
  static const std::string kSql = Sources().Select() + " WHERE id = ?1";
  std::string out = "source " + std::to_string(source_id);
  Statement st = conn_.Prepare(kSql);
  st.Bind(1, source_id);
  Result<bool> row = st.Step();
  if (row.ok() && *row) {
    SourceRecord s = Sources().Read(st);
    out += " (" + DescribeSource(s) + ")";
  }
  return out;
}

Result<Lease> SqliteSourceStore::AcquireLease(int64_t source_id, const LeaseOwner& owner, int64_t ttl_ms,
                                              int64_t now_ms) {
  if (ttl_ms <= 0) return Status::Invalid("a lease needs a positive time to live, got " + std::to_string(ttl_ms) + " ms");
  if (conn_.read_only()) {
    return Status::Unavailable("the state store " + conn_.path() + " is read-only: no lease can be taken (make the "
                               "state dir writable to apply)",
                               false);
  }
  Transaction tx(conn_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  Result<std::optional<Lease>> held = FindLease(source_id);
  if (!held.ok()) return held.status();
  Lease lease;
  lease.source_id = source_id;
  lease.owner = owner;
  lease.acquired_at = now_ms;
  lease.renewed_at = now_ms;
  lease.expires_at = now_ms + ttl_ms;
  if (*held) {
    const Lease& h = **held;
    const bool same_owner = h.owner.id == owner.id;
    const bool expired = h.expires_at <= now_ms;
    const bool holder_died = h.owner.host == owner.host && ProcessIsGone(h.owner.pid);
    if (same_owner) {
      lease.acquired_at = h.acquired_at;
    } else if (!expired && !holder_died) {
      return Status::Conflict("another converge (pid " + std::to_string(h.owner.pid) + " on host " + h.owner.host +
                              ") is syncing " + Describe(source_id) + " until " + FormatUtc(h.expires_at) +
                              ": wait for it to finish, or stop that process (if it died, its lease lapses then)");
    }
  }
  CONVERGE_RETURN_IF_ERROR(WriteLease(lease));
  CONVERGE_RETURN_IF_ERROR(tx.Commit());
  return lease;
}

Result<Lease> SqliteSourceStore::RenewLease(int64_t source_id, const LeaseOwner& owner, int64_t ttl_ms,
                                            int64_t now_ms) {
  if (ttl_ms <= 0) return Status::Invalid("a lease needs a positive time to live, got " + std::to_string(ttl_ms) + " ms");
  if (conn_.read_only()) {
    return Status::Unavailable("the state store " + conn_.path() + " is read-only: no lease can be taken (make the "
                               "state dir writable to apply)",
                               false);
  }
  Transaction tx(conn_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  Result<std::optional<Lease>> held = FindLease(source_id);
  if (!held.ok()) return held.status();
  if (!*held || (*held)->owner.id != owner.id) {
    std::string now_holder = !*held ? "nobody holds it now"
                                    : "pid " + std::to_string((*held)->owner.pid) + " on host " + (*held)->owner.host +
                                          " holds it now";
    return Status::Conflict("the lease on " + Describe(source_id) + " was lost (" + now_holder +
                            "): stop syncing it; the next sync takes the lease again");
  }
  Lease lease = **held;
  lease.owner = owner;
  lease.renewed_at = now_ms;
  lease.expires_at = now_ms + ttl_ms;
  CONVERGE_RETURN_IF_ERROR(WriteLease(lease));
  CONVERGE_RETURN_IF_ERROR(tx.Commit());
  return lease;
}

Status SqliteSourceStore::ReleaseLease(int64_t source_id, const LeaseOwner& owner) {
  static const RowCodec<Lease> kOwned = Leases().Subset({"source_id", "owner"}).WithKey({"source_id", "owner"});
  static const std::string kSql = kOwned.Delete();
  Lease lease;
  lease.source_id = source_id;
  lease.owner = owner;
  Transaction tx(conn_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  Statement st = conn_.Prepare(kSql);
  kOwned.Bind(st, lease);
  CONVERGE_RETURN_IF_ERROR(st.Run());
  return tx.Commit();
}

Result<std::optional<Lease>> SqliteSourceStore::GetLease(int64_t source_id) { return FindLease(source_id); }

}  // namespace converge
