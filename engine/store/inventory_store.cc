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
       Field("updated_at", &InventoryEntry::updated_at)},
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
       Field("marker", &ClusterMarker::marker), Field("observed_at", &ClusterMarker::observed_at)},
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
