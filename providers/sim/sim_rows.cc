#include "providers/sim/sim_rows.h"

namespace converge::sim {

using sqlite::Computed;
using sqlite::Field;
using sqlite::RowCodec;

namespace {

std::vector<std::string> ParseNames(const std::string& text) {
  std::vector<std::string> out;
  for (const Json& n : Json::parse(text)) out.push_back(n.get<std::string>());
  return out;
}

}  // namespace

const RowCodec<CloudRow>& CloudCodec() {
  static const RowCodec<CloudRow> codec(
      "sim_clouds",
      {Field("name", &CloudRow::name),
       Computed<CloudRow>(
           "regions", [](const CloudRow& c) { return Json(c.regions).dump(); },
           [](CloudRow& c, std::string text) { c.regions = ParseNames(text); }),
       Field("create_ms", &CloudRow::timings, &Timings::create_ms),
       Field("pod_start_ms", &CloudRow::timings, &Timings::pod_start_ms),
       Field("upgrade_step_ms", &CloudRow::timings, &Timings::upgrade_step_ms),
       Field("scale_ms", &CloudRow::timings, &Timings::scale_ms)},
      {"name"});
  return codec;
}

const RowCodec<ClusterRow>& ClusterCodec() {
  static const RowCodec<ClusterRow> codec(
      "sim_clusters",
      {Field("name", &ClusterRow::name), Field("cloud", &ClusterRow::cloud), Field("region", &ClusterRow::region),
       Field("zone", &ClusterRow::zone), Field("manifest", &ClusterRow::manifest), Field("uid", &ClusterRow::uid),
       Field("rv", &ClusterRow::rv), Field("generation", &ClusterRow::generation),
       Field("created_at", &ClusterRow::created_at), Field("ready_at", &ClusterRow::ready_at),
       Field("version", &ClusterRow::version), Field("upgrade_to", &ClusterRow::upgrade_to),
       Field("upgrade_at", &ClusterRow::upgrade_at),
       Computed<ClusterRow>(
           "upgrade_pools", [](const ClusterRow& c) { return Json(c.upgrade_pools).dump(); },
           [](ClusterRow& c, std::string text) { c.upgrade_pools = ParseNames(text); }),
       Field("scale_until", &ClusterRow::scale_until), Field("deletion_protection", &ClusterRow::deletion_protection),
       Computed<ClusterRow>(
           "faults", [](const ClusterRow& c) { return c.faults.ToJson().dump(); },
           [](ClusterRow& c, std::string text) { c.faults = Faults::FromJson(text); }),
       Field("next_event_at", &ClusterRow::next_event_at), Field("next_ip", &ClusterRow::next_ip)},
      {"name"});
  return codec;
}

const RowCodec<PoolRow>& PoolCodec() {
  static const RowCodec<PoolRow> codec(
      "sim_pools",
      {Field("cluster", &PoolRow::cluster), Field("name", &PoolRow::name), Field("ord", &PoolRow::ord),
       Field("flavor", &PoolRow::flavor), Field("arch", &PoolRow::arch), Field("count", &PoolRow::count),
       Field("cpu_milli", &PoolRow::cpu), Field("mem_bytes", &PoolRow::mem), Field("version", &PoolRow::version)},
      {"cluster", "name"});
  return codec;
}

const RowCodec<NodeRow>& NodeCodec() {
  static const RowCodec<NodeRow> codec(
      "sim_nodes",
      {Field("cluster", &NodeRow::cluster), Field("name", &NodeRow::name), Field("pool", &NodeRow::pool),
       Field("idx", &NodeRow::idx), Field("cpu_milli", &NodeRow::cpu), Field("mem_bytes", &NodeRow::mem),
       Field("alloc_cpu", &NodeRow::alloc_cpu), Field("alloc_mem", &NodeRow::alloc_mem),
       Field("ready_at", &NodeRow::ready_at),
       Computed<NodeRow>(
           "labels", [](const NodeRow& n) { return n.labels.dump(); },
           [](NodeRow& n, std::string text) { n.labels = Json::parse(text); })},
      {"cluster", "name"});
  return codec;
}

const RowCodec<ObjRow>& ObjCodec() {
  static const RowCodec<ObjRow> codec(
      "sim_objects",
      {Field("id", &ObjRow::id), Field("cluster", &ObjRow::cluster), Field("grp", &ObjRow::key, &ObjectKey::group),
       Field("kind", &ObjRow::key, &ObjectKey::kind), Field("namespace", &ObjRow::key, &ObjectKey::ns),
       Field("name", &ObjRow::key, &ObjectKey::name), Field("rv", &ObjRow::rv),
       Field("owner_kind", &ObjRow::owner_kind), Field("owner_name", &ObjRow::owner_name),
       Field("revision", &ObjRow::revision), Field("node", &ObjRow::node), Field("pin_node", &ObjRow::pin_node),
       Field("cpu_milli", &ObjRow::cpu), Field("mem_bytes", &ObjRow::mem), Field("created_ms", &ObjRow::created_ms),
       Field("pending", &ObjRow::pending), Field("ready", &ObjRow::ready),
       Field("next_event_at", &ObjRow::next_event_at),
       Computed<ObjRow>(
           "body", [](const ObjRow& r) { return r.body.dump(); },
           [](ObjRow& r, std::string text) { r.body = Json::parse(text); }),
       Computed<ObjRow>(
           "applied",
           [](const ObjRow& r) { return r.applied ? std::optional<std::string>(r.applied->dump()) : std::nullopt; },
           [](ObjRow& r, std::optional<std::string> text) {
             if (text) {
               r.applied = Json::parse(*text);
             } else {
               r.applied.reset();
             }
           })},
      {"id"});
  return codec;
}

const RowCodec<ObjRow>& ObjCodec(bool with_body, bool with_applied) {
  static const RowCodec<ObjRow> kMeta = ObjCodec().Without({"body", "applied"});
  static const RowCodec<ObjRow> kBody = ObjCodec().Without({"applied"});
  if (with_body && with_applied) return ObjCodec();
  return with_body ? kBody : kMeta;
}

}  // namespace converge::sim
