// The rows of the sim's tables (documented in sim_db.h) and their RowCodecs: one description of
// each table's columns, from which every INSERT, UPDATE and read of its rows is derived, so no
// function of the sim writes a bind list by hand. JSON columns are dumped and parsed by the
// codecs (a malformed stored document throws nlohmann::json::exception, which the sim's Guard
// turns into a Status). Private to providers/sim; the codecs are immutable and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model/object.h"
#include "engine/sqlite/row_codec.h"

namespace converge::sim {

struct Timings {
  int64_t create_ms = 3000;
  int64_t pod_start_ms = 1000;
  int64_t upgrade_step_ms = 1000;
  int64_t scale_ms = 1000;
};

struct Faults {
  bool outage = false;
  double api_error_rate = 0;
  int64_t latency_ms = 0;

  Json ToJson() const;
  static Faults FromJson(const std::string& text);
};

// A sim_clouds row.
struct CloudRow {
  std::string name;
  std::vector<std::string> regions;
  Timings timings;
};

// A sim_clusters row plus its cloud's timings (not a column: read from sim_clouds).
struct ClusterRow {
  std::string name, cloud, region, zone, manifest, uid, version, upgrade_to;
  std::vector<std::string> upgrade_pools;
  int64_t rv = 0, generation = 0, created_at = 0, ready_at = 0, upgrade_at = 0, scale_until = 0;
  int64_t next_ip = 10;  // the next Service IP; sim_clusters.next_ip starts at 10
  std::optional<int64_t> next_event_at;
  bool deletion_protection = false;
  Faults faults;
  Timings timings;
};

// A sim_pools row.
struct PoolRow {
  std::string cluster, name, flavor, arch, version;
  int64_t ord = 0, count = 0, cpu = 0, mem = 0;  // cpu and mem: per node
};

// A sim_nodes row.
struct NodeRow {
  std::string cluster, name, pool;
  int64_t idx = 0, cpu = 0, mem = 0, alloc_cpu = 0, alloc_mem = 0, ready_at = 0;
  Json labels;
};

// A sim_objects row.
struct ObjRow {
  int64_t id = 0;
  std::string cluster;
  ObjectKey key;
  Json body;
  std::optional<Json> applied;
  int64_t rv = 0;
  std::string owner_kind, owner_name, revision, node, pin_node;
  int64_t cpu = 0, mem = 0, created_ms = 0;
  bool pending = false, ready = false;
  std::optional<int64_t> next_event_at;
};

// Codecs over every column of each table; keys are the tables' primary keys.
const sqlite::RowCodec<CloudRow>& CloudCodec();
const sqlite::RowCodec<ClusterRow>& ClusterCodec();
const sqlite::RowCodec<PoolRow>& PoolCodec();
const sqlite::RowCodec<NodeRow>& NodeCodec();
const sqlite::RowCodec<ObjRow>& ObjCodec();
// sim_objects without the large columns: without `applied` (with_body) or without both.
const sqlite::RowCodec<ObjRow>& ObjCodec(bool with_body, bool with_applied);

}  // namespace converge::sim
