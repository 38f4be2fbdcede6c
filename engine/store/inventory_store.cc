#include "engine/store/inventory_store.h"

#include "engine/base/env.h"
#include "engine/sqlite/connection.h"
#include "engine/sqlite/row_codec.h"
#include "engine/sqlite/transaction.h"
#include "engine/store/store_errors.h"

namespace converge {

namespace {

using sqlite::Field;
using sqlite::RowCodec;
using sqlite::Statement;

const RowCodec<InventoryEntry>& Rows() {
  static const RowCodec<InventoryEntry> codec(
      "inventory",
      {Field("source_id", &InventoryEntry::source_id), Field("cluster", &InventoryEntry::ref, &ObjectRef::cluster),
       Field("grp", &InventoryEntry::ref, &ObjectRef::key, &ObjectKey::group),
       Field("kind", &InventoryEntry::ref, &ObjectRef::key, &ObjectKey::kind),
       Field("namespace", &InventoryEntry::ref, &ObjectRef::key, &ObjectKey::ns),
       Field("name", &InventoryEntry::ref, &ObjectRef::key, &ObjectKey::name),
       Field("api_version", &InventoryEntry::api_version), Field("last_applied", &InventoryEntry::last_applied),
       Field("desired_hash", &InventoryEntry::desired_hash), Field("live_version", &InventoryEntry::live_version),
       Field("health", &InventoryEntry::health), Field("health_message", &InventoryEntry::health_message),
       Field("drift", &InventoryEntry::drift), Field("pending", &InventoryEntry::pending),
       Field("updated_at", &InventoryEntry::updated_at), Field("blob_id", &InventoryEntry::blob_id)},
      {"source_id", "cluster", "grp", "kind", "namespace", "name"});
  return codec;
}

const RowCodec<InventoryEntry>& Index() {
  static const RowCodec<InventoryEntry> codec = Rows().Without({"last_applied"});
  return codec;
}

const RowCodec<InventoryEntry>& Keys() {
  static const RowCodec<InventoryEntry> codec = Rows().Key();
  return codec;
}

const RowCodec<ClusterMarker>& Markers() {
  static const RowCodec<ClusterMarker> codec(
      "cluster_markers",
      {Field("source_id", &ClusterMarker::source_id), Field("cluster", &ClusterMarker::cluster),
       Field("marker", &ClusterMarker::marker), Field("observed_at", &ClusterMarker::observed_at),
       Field("rows", &ClusterMarker::rows)},
      {"source_id", "cluster"});
  return codec;
}

constexpr const char* kOrder = " ORDER BY source_id, cluster, grp, kind, namespace, name";

Result<std::vector<InventoryEntry>> LoadWith(sqlite::Connection& conn, const RowCodec<InventoryEntry>& codec,
                                             int64_t source_id) {
  std::string sql = codec.Select() + (source_id != 0 ? " WHERE source_id = ?1" : "") + kOrder;
  Statement st = conn.Prepare(sql);
  if (source_id != 0) st.Bind(1, source_id);
  return codec.ReadAll(st);
}

}  // namespace

Result<std::vector<InventoryEntry>> SqliteInventoryStore::Load(int64_t source_id) {
  return LoadWith(conn_, Rows(), source_id);
}

Result<std::vector<InventoryEntry>> SqliteInventoryStore::LoadIndex(int64_t source_id) {
  return LoadWith(conn_, Index(), source_id);
}

Result<std::vector<InventoryEntry>> SqliteInventoryStore::LoadClusterIndex(int64_t source_id,
                                                                          const std::string& cluster) {
  static const std::string kSql = Index().Select() + " WHERE source_id = ?1 AND cluster = ?2" + kOrder;
  Statement st = conn_.Prepare(kSql);
  st.Bind(1, source_id);
  st.Bind(2, cluster);
  return Index().ReadAll(st);
}

Result<std::vector<InventoryEntry>> SqliteInventoryStore::LoadFleet(int64_t source_id) {
  static const std::string kSql = Rows().Select() + " WHERE source_id = ?1 AND cluster = ''" + kOrder;
  Statement st = conn_.Prepare(kSql);
  st.Bind(1, source_id);
  return Rows().ReadAll(st);
}

Result<std::map<std::string, ClusterSummary>> SqliteInventoryStore::Summaries(int64_t source_id) {
  Statement st = conn_.Prepare(
      "SELECT cluster, count(*), sum(pending), sum(drift) FROM inventory WHERE source_id = ?1 AND cluster != '' "
      "GROUP BY cluster");
  st.Bind(1, source_id);
  std::map<std::string, ClusterSummary> out;
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out[st.Text(0)] = ClusterSummary{st.Int(1), st.Int(2), st.Int(3)};
  }
  return out;
}

Result<bool> SqliteInventoryStore::HasRowsWithoutBlob(int64_t source_id) {
  Statement st =
      conn_.Prepare("SELECT 1 FROM inventory WHERE source_id = ?1 AND blob_id = '' AND cluster != '' LIMIT 1");
  st.Bind(1, source_id);
  return st.Step();
}

Result<std::vector<InventoryEntry>> SqliteInventoryStore::LoadByBlobs(int64_t source_id, const std::string& cluster,
                                                                      const std::vector<std::string>& blobs) {
  static const std::string kSql = Index().Select() + " WHERE source_id = ?1 AND blob_id = ?2 AND cluster = ?3";
  std::vector<InventoryEntry> out;
  Statement st = conn_.Prepare(kSql);
  for (const std::string& blob : blobs) {
    st.Bind(1, source_id);
    st.Bind(2, blob);
    st.Bind(3, cluster);
    Result<std::vector<InventoryEntry>> rows = Index().ReadAll(st);
    if (!rows.ok()) return rows.status();
    for (InventoryEntry& e : *rows) out.push_back(std::move(e));
    st.Reset();
  }
  return out;
}

Result<std::vector<InventoryEntry>> SqliteInventoryStore::LoadRefs(int64_t source_id, const std::vector<ObjectRef>& refs) {
  static const std::string kSql = Index().Select() + " WHERE " + Keys().KeyWhere();
  std::vector<InventoryEntry> out;
  Statement st = conn_.Prepare(kSql);
  InventoryEntry key;
  key.source_id = source_id;
  for (const ObjectRef& ref : refs) {
    key.ref = ref;
    Keys().Bind(st, key);
    Result<std::vector<InventoryEntry>> rows = Index().ReadAll(st);
    if (!rows.ok()) return rows.status();
    for (InventoryEntry& e : *rows) out.push_back(std::move(e));
    st.Reset();
  }
  return out;
}

Result<std::map<ObjectRef, int64_t>> SqliteInventoryStore::OwnersElsewhere(int64_t source_id,
                                                                           const std::vector<ObjectRef>& refs) {
  std::map<ObjectRef, int64_t> out;
  if (refs.empty()) return out;
  sqlite::Savepoint snapshot(conn_);
  CONVERGE_RETURN_IF_ERROR(snapshot.Begin());
  Statement st = conn_.Prepare(
      "SELECT source_id FROM inventory INDEXED BY inventory_owner WHERE cluster = ?1 AND grp = ?2 AND kind = ?3 AND "
      "namespace = ?4 AND name = ?5 AND source_id != ?6");
  for (const ObjectRef& ref : refs) {
    st.Bind(1, ref.cluster).Bind(2, ref.key.group).Bind(3, ref.key.kind).Bind(4, ref.key.ns).Bind(5, ref.key.name);
    st.Bind(6, source_id);
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (*row) out[ref] = st.Int64(0);
    st.Reset();
  }
  CONVERGE_RETURN_IF_ERROR(snapshot.Release());
  return out;
}

Result<std::vector<InventoryEntry>> SqliteInventoryStore::LoadOthersFleet(int64_t source_id) {
  static const std::string kSql = Rows().Select() +
                                  " WHERE cluster = '' AND source_id != ?1 AND pending = 0 AND last_applied != ''" +
                                  kOrder;
  Statement st = conn_.Prepare(kSql);
  st.Bind(1, source_id);
  return Rows().ReadAll(st);
}

Result<bool> SqliteInventoryStore::HasPending(int64_t source_id) {
  // Without INDEXED BY, SQLite (no statistics) prefers inventory_by_blob and reads every row.
  Statement st = conn_.Prepare(
      "SELECT 1 FROM inventory INDEXED BY inventory_pending WHERE source_id = ?1 AND pending = 1 LIMIT 1");
  st.Bind(1, source_id);
  return st.Step();
}

Result<std::map<ObjectRef, std::string>> SqliteInventoryStore::LoadLastApplied(int64_t source_id,
                                                                               const std::vector<ObjectRef>& refs) {
  static const std::string kSql = "SELECT last_applied FROM inventory WHERE " + Keys().KeyWhere();
  std::map<ObjectRef, std::string> out;
  if (refs.empty()) return out;
  sqlite::Savepoint snapshot(conn_);  // one read snapshot for all the lookups
  CONVERGE_RETURN_IF_ERROR(snapshot.Begin());
  {
    Statement st = conn_.Prepare(kSql);
    InventoryEntry key;
    key.source_id = source_id;
    for (const ObjectRef& ref : refs) {
      key.ref = ref;
      Keys().Bind(st, key);
      Result<bool> row = st.Step();
      if (!row.ok()) return row.status();
      if (*row) out[ref] = st.Text(0);
      st.Reset();
    }
  }
  CONVERGE_RETURN_IF_ERROR(snapshot.Release());
  return out;
}

Status SqliteInventoryStore::Write(const InventoryBatch& batch) {
  static const std::string kUpsert = Rows().Upsert();
  static const std::string kDelete = Keys().Delete();
  static const std::string kSetMarker = Markers().Upsert();
  static const RowCodec<ClusterMarker> kMarkerKey = Markers().Key();
  static const std::string kClearMarker = kMarkerKey.Delete();
  static const int kUpdatedAt = Rows().Index("updated_at");
  static const int kObservedAt = Markers().Index("observed_at");
  if (batch.empty()) return Status::Ok();
  const int64_t now = env_->NowMillis();
  sqlite::Transaction tx(conn_);
  CONVERGE_RETURN_IF_ERROR(tx.Begin());
  // Each statement is prepared once per batch; Run() resets it for the next row.
  if (!batch.upserts.empty()) {
    Statement up = conn_.Prepare(kUpsert);
    for (const InventoryEntry& e : batch.upserts) {
      Rows().Bind(up, e);
      if (e.updated_at == 0) up.Bind(kUpdatedAt, now);
      Status s = up.Run();
      if (s.code() == Code::kConflict) {
        return store_errors::Missing(s, "record " + e.ref.ToString() + " in the inventory", "source", e.source_id,
                                     conn_.path());
      }
      CONVERGE_RETURN_IF_ERROR(s.WithContext("inventory row " + e.ref.ToString()));
    }
  }
  if (!batch.deletes.empty()) {
    Statement del = conn_.Prepare(kDelete);
    InventoryEntry key;
    for (const auto& [source_id, ref] : batch.deletes) {
      key.source_id = source_id;
      key.ref = ref;
      Keys().Bind(del, key);
      CONVERGE_RETURN_IF_ERROR(del.Run().WithContext("inventory row " + ref.ToString()));
    }
  }
  if (!batch.set_markers.empty()) {
    Statement set = conn_.Prepare(kSetMarker);
    for (const ClusterMarker& m : batch.set_markers) {
      Markers().Bind(set, m);
      if (m.observed_at == 0) set.Bind(kObservedAt, now);
      CONVERGE_RETURN_IF_ERROR(store_errors::Missing(set.Run(), "record the marker of cluster " + m.cluster,
                                                     "source", m.source_id, conn_.path()));
    }
  }
  if (!batch.delete_clusters.empty()) {
    Statement rows = conn_.Prepare("DELETE FROM inventory WHERE source_id = ?1 AND cluster = ?2");
    Statement marker = conn_.Prepare("DELETE FROM cluster_markers WHERE source_id = ?1 AND cluster = ?2");
    for (const auto& [source_id, cluster] : batch.delete_clusters) {
      for (Statement* st : {&rows, &marker}) {
        st->Bind(1, source_id);
        st->Bind(2, cluster);
        CONVERGE_RETURN_IF_ERROR(st->Run().WithContext("inventory rows of cluster " + cluster));
      }
    }
  }
  if (!batch.pending.empty()) {
    // Keeps last_applied and the hashes: they are what the next plan compares with.
    Statement mark = conn_.Prepare(
        "INSERT INTO inventory (source_id, cluster, grp, kind, namespace, name, api_version, pending, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8) "
        "ON CONFLICT (source_id, cluster, grp, kind, namespace, name) DO UPDATE SET pending = 1, "
        "updated_at = excluded.updated_at, "
        "api_version = CASE WHEN inventory.api_version = '' THEN excluded.api_version ELSE inventory.api_version END");
    for (const PendingMark& m : batch.pending) {
      mark.Bind(1, m.source_id);
      mark.Bind(2, m.ref.cluster);
      mark.Bind(3, m.ref.key.group);
      mark.Bind(4, m.ref.key.kind);
      mark.Bind(5, m.ref.key.ns);
      mark.Bind(6, m.ref.key.name);
      mark.Bind(7, m.api_version);
      mark.Bind(8, now);
      Status s = mark.Run();
      if (s.code() == Code::kConflict) {
        return store_errors::Missing(s, "record " + m.ref.ToString() + " as pending", "source", m.source_id,
                                     conn_.path());
      }
      CONVERGE_RETURN_IF_ERROR(s.WithContext("inventory row " + m.ref.ToString()));
    }
  }
  if (!batch.observed.empty()) {
    Statement seen = conn_.Prepare(
        "UPDATE inventory SET live_version = ?7, drift = ?8, updated_at = ?9, "
        "blob_id = CASE WHEN ?10 = '' THEN blob_id ELSE ?10 END WHERE source_id = ?1 AND cluster = ?2 "
        "AND grp = ?3 AND kind = ?4 AND namespace = ?5 AND name = ?6");
    for (const ObservedUpdate& o : batch.observed) {
      seen.Bind(1, o.source_id);
      seen.Bind(2, o.ref.cluster);
      seen.Bind(3, o.ref.key.group);
      seen.Bind(4, o.ref.key.kind);
      seen.Bind(5, o.ref.key.ns);
      seen.Bind(6, o.ref.key.name);
      seen.Bind(7, o.live_version);
      seen.Bind(8, o.drift);
      seen.Bind(9, now);
      seen.Bind(10, o.blob_id);
      CONVERGE_RETURN_IF_ERROR(seen.Run().WithContext("inventory row " + o.ref.ToString()));
    }
  }
  if (!batch.clear_markers.empty()) {
    Statement clear = conn_.Prepare(kClearMarker);
    ClusterMarker key;
    for (const auto& [source_id, cluster] : batch.clear_markers) {
      key.source_id = source_id;
      key.cluster = cluster;
      kMarkerKey.Bind(clear, key);
      CONVERGE_RETURN_IF_ERROR(clear.Run());
    }
  }
  return tx.Commit();
}

Result<std::vector<ClusterMarker>> SqliteInventoryStore::LoadMarkers(int64_t source_id) {
  static const std::string kSql = Markers().Select() + " WHERE source_id = ?1 ORDER BY cluster";
  Statement st = conn_.Prepare(kSql);
  st.Bind(1, source_id);
  return Markers().ReadAll(st);
}

}  // namespace converge
