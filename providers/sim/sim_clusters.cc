// Simulated clouds and clusters: creation, node pools and nodes, scaling, upgrades (control plane
// first, then each pool), deletion protection, and the Cluster view GetCluster returns.
// Phases are computed from timestamps against the clock; nothing runs in the background.
#include <algorithm>
#include <cmath>
#include <map>

#include "engine/base/env.h"
#include "providers/sim/sim_capacity.h"
#include "providers/sim/sim_state.h"

namespace converge::sim {
namespace {

int64_t SecondsToMs(double s) { return static_cast<int64_t>(std::llround(std::max(0.0, s) * 1000)); }

// Numeric parts of "v1.29.3"; compares the common prefix: <0, 0 or >0.
int CompareVersions(const std::string& a, const std::string& b) {
  auto parts = [](const std::string& v) {
    std::vector<long> out;
    std::string s = (!v.empty() && (v[0] == 'v' || v[0] == 'V')) ? v.substr(1) : v;
    size_t start = 0;
    while (start <= s.size()) {
      size_t dot = s.find('.', start);
      std::string p = s.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      out.push_back(std::strtol(p.c_str(), nullptr, 10));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return out;
  };
  std::vector<long> pa = parts(a), pb = parts(b);
  for (size_t i = 0; i < std::min(pa.size(), pb.size()); ++i) {
    if (pa[i] != pb[i]) return pa[i] < pb[i] ? -1 : 1;
  }
  return 0;
}

// The Cluster manifest when the caller did not give one (tests, plugins).
Json RenderManifest(const ClusterSpec& spec, const std::string& cloud, const std::string& region) {
  Json m = {{"apiVersion", kConvergeApiVersion}, {"kind", "Cluster"}, {"metadata", {{"name", spec.name}}}};
  if (!spec.labels.empty()) m["metadata"]["labels"] = spec.labels;
  Json s = {{"cloud", cloud}, {"region", region}};
  if (!spec.version.empty()) s["version"] = spec.version;
  if (!spec.zone.empty()) s["zone"] = spec.zone;
  if (!spec.network.empty()) s["network"] = spec.network;
  Json pools = Json::array();
  for (const NodePoolSpec& p : spec.node_pools) {
    Json pool = {{"name", p.name}, {"flavor", p.flavor}, {"arch", p.arch}, {"count", p.count}};
    if (p.min != 0) pool["min"] = p.min;
    if (p.max != 0) pool["max"] = p.max;
    pools.push_back(pool);
  }
  s["nodePools"] = pools;
  s["deletionProtection"] = spec.deletion_protection;
  m["spec"] = s;
  return m;
}

struct PoolPlan {
  NodePoolSpec spec;
  NodeCapacity cap;
  std::string arch;  // node label value: amd64 | arm64
};

// The sim_pools row of a planned pool on `cluster`.
PoolRow PoolOf(const std::string& cluster, const PoolPlan& p, int64_t ord, const std::string& version) {
  PoolRow row;
  row.cluster = cluster;
  row.name = p.spec.name;
  row.ord = ord;
  row.flavor = p.spec.flavor;
  row.arch = p.arch;
  row.count = p.spec.count;
  row.cpu = p.cap.cpu_milli;
  row.mem = p.cap.mem_bytes;
  row.version = version;
  return row;
}

}  // namespace

void SimState::EnsureCloudLocked(const CloudSpec& cloud) {
  std::vector<std::string> regions = cloud.regions;
  if (regions.empty() && !cloud.region.empty()) regions.push_back(cloud.region);
  if (cloud.name.empty()) Fail(Status::Invalid("sim: a Cloud needs metadata.name"));
  if (regions.empty()) {
    Fail(Status::Invalid("Cloud \"" + cloud.name + "\": no region: set spec.region (and optionally spec.regions)"));
  }
  static const std::string kUpsert = CloudCodec().Upsert();
  const SimulationSpec t = SimulationOf(cloud);
  CloudRow row;
  row.name = cloud.name;
  row.regions = regions;
  row.timings = Timings{SecondsToMs(t.cluster_create_seconds), SecondsToMs(t.pod_start_seconds),
                        SecondsToMs(t.upgrade_step_seconds), SecondsToMs(t.scale_seconds)};
  db_->Prepare(kUpsert).BindRow(CloudCodec(), row).Run();
}

Status SimState::EnsureCloud(const CloudSpec& cloud) {
  return Guard([&]() -> Status {
    Write([&] { EnsureCloudLocked(cloud); });
    return Status::Ok();
  });
}

std::string SimState::EffectiveVersion(const ClusterRow& c, int64_t now) const {
  if (!c.upgrade_to.empty() && now >= c.upgrade_at + c.timings.upgrade_step_ms) return c.upgrade_to;
  return c.version;
}

std::string SimState::PoolVersion(const ClusterRow& c, const std::string& pool, const std::string& stored,
                                  int64_t now) const {
  if (c.upgrade_to.empty()) return stored;
  auto it = std::find(c.upgrade_pools.begin(), c.upgrade_pools.end(), pool);
  if (it == c.upgrade_pools.end()) return stored;
  int64_t i = it - c.upgrade_pools.begin();
  return now >= c.upgrade_at + (i + 2) * c.timings.upgrade_step_ms ? c.upgrade_to : stored;
}

void SimState::SettleUpgrade(ClusterRow& c, int64_t now) {
  if (c.upgrade_to.empty()) return;
  int64_t steps = 1 + static_cast<int64_t>(c.upgrade_pools.size());
  if (now < c.upgrade_at + steps * c.timings.upgrade_step_ms) return;
  static const sqlite::RowCodec<ClusterRow> kSettled =
      ClusterCodec().Subset({"name", "version", "upgrade_to", "upgrade_pools"});
  static const std::string kUpdate = kSettled.Update();
  c.version = c.upgrade_to;
  c.upgrade_to.clear();
  c.upgrade_pools.clear();
  db_->Prepare("UPDATE sim_pools SET version = ? WHERE cluster = ?").Bind(1, c.version).Bind(2, c.name).Run();
  db_->Prepare(kUpdate).BindRow(kSettled, c).Run();
}

Json SimState::ClusterJson(const ClusterRow& c, int64_t now) {
  Json body = Json::parse(c.manifest);
  if (!body.is_object()) body = Json::object();
  if (!body.contains("apiVersion")) body["apiVersion"] = kConvergeApiVersion;
  if (!body.contains("kind")) body["kind"] = "Cluster";
  Json& md = body["metadata"];
  if (!md.is_object()) md = Json::object();
  md["name"] = c.name;
  md["uid"] = c.uid;
  md["resourceVersion"] = std::to_string(c.rv);
  md["generation"] = c.generation;
  md["creationTimestamp"] = Rfc3339(c.created_at);

  std::map<std::string, std::pair<int64_t, int64_t>> counts;  // pool -> nodes, ready
  {
    Stmt q = db_->Prepare(
        "SELECT pool, COUNT(*), SUM(CASE WHEN ready_at <= ? THEN 1 ELSE 0 END) FROM sim_nodes "
        "WHERE cluster = ? GROUP BY pool");
    q.Bind(1, now).Bind(2, c.name);
    while (q.Step()) counts[q.Text(0)] = {q.Int(1), q.Int(2)};
  }
  int64_t nodes = 0, ready = 0;
  Json pools = Json::array();
  for (const PoolRow& pool : LoadPools(c.name)) {
    auto [n, r] = counts[pool.name];
    nodes += n;
    ready += r;
    pools.push_back(
        {{"name", pool.name}, {"version", PoolVersion(c, pool.name, pool.version, now)}, {"nodes", n}, {"readyNodes", r}});
  }
  std::string phase = "Running", message;
  int64_t step = c.timings.upgrade_step_ms;
  int64_t steps = 1 + static_cast<int64_t>(c.upgrade_pools.size());
  if (now < c.ready_at) {
    phase = "Creating";
    message = "creating the control plane and " + std::to_string(nodes) + " nodes";
  } else if (!c.upgrade_to.empty() && now < c.upgrade_at + steps * step) {
    phase = "Upgrading";
    int64_t done = step > 0 ? (now - c.upgrade_at) / step : steps;
    if (done <= 0) {
      message = "upgrading the control plane to " + c.upgrade_to;
    } else {
      message = "upgrading node pool \"" + c.upgrade_pools[done - 1] + "\" to " + c.upgrade_to + " (" +
                std::to_string(done) + "/" + std::to_string(c.upgrade_pools.size()) + ")";
    }
  } else if (now < c.scale_until) {
    phase = "Updating";
    message = "scaling node pools: " + std::to_string(ready) + "/" + std::to_string(nodes) + " nodes ready";
  }
  if (c.faults.outage) message = "API server unreachable";
  body["status"] = {{"phase", phase},
                    {"version", EffectiveVersion(c, now)},
                    {"nodes", nodes},
                    {"readyNodes", ready},
                    {"message", message},
                    {"endpoint", "sim://" + c.name},
                    {"nodePools", pools}};
  return body;
}

Result<Json> SimState::GetCluster(const std::string& cloud, const std::string& name) {
  return Guard([&]() -> Result<Json> {
    std::optional<ClusterRow> c = FindCluster(name);
    if (!c || (!cloud.empty() && c->cloud != cloud)) {
      return Status::NotFound("cluster \"" + name + "\" not found on simulated cloud \"" + cloud + "\"");
    }
    return ClusterJson(*c, Now());
  });
}

Status SimState::CheckCluster(const std::string& cloud, const std::string& name) {
  return Guard([&]() -> Status {
    LoadCluster(name, cloud);
    return Status::Ok();
  });
}

std::vector<PoolRow> SimState::LoadPools(const std::string& cluster) {
  static const std::string kSql = PoolCodec().Select() + " WHERE cluster = ?1 ORDER BY ord";
  Stmt q = db_->Prepare(kSql);
  q.Bind(1, cluster);
  std::vector<PoolRow> out;
  while (q.Step()) out.push_back(q.Read(PoolCodec()));
  return out;
}

void SimState::AddPool(const ClusterRow& c, const PoolRow& pool, int64_t ready_at) {
  static const std::string kInsert = PoolCodec().Insert();
  db_->Prepare(kInsert).BindRow(PoolCodec(), pool).Run();
  AddNodes(c, pool, 0, pool.count, ready_at);
}

void SimState::AddNodes(const ClusterRow& c, const PoolRow& pool, int64_t from, int64_t to, int64_t ready_at) {
  static const std::string kInsert = NodeCodec().Insert("INSERT OR REPLACE");
  for (int64_t i = from; i < to; ++i) {
    NodeRow node;
    node.cluster = c.name;
    node.name = c.name + "-" + pool.name + "-" + std::to_string(i);
    node.pool = pool.name;
    node.idx = i;
    node.cpu = pool.cpu;
    node.mem = pool.mem;
    node.ready_at = ready_at;
    node.labels = {{"kubernetes.io/arch", pool.arch},
                   {"kubernetes.io/os", "linux"},
                   {"kubernetes.io/hostname", node.name},
                   {"node.kubernetes.io/instance-type", pool.flavor},
                   {"topology.kubernetes.io/region", c.region},
                   {"topology.kubernetes.io/zone", c.zone},
                   {"converge.dev/pool", pool.name}};
    db_->Prepare(kInsert).BindRow(NodeCodec(), node).Run();
  }
}

void SimState::RemoveNode(ClusterRow& c, const std::string& node, std::set<WorkloadRef>* owners) {
  std::vector<ObjRow> pods;
  {
    Stmt q = db_->Prepare("SELECT id FROM sim_objects WHERE cluster = ? AND node = ?");
    q.Bind(1, c.name).Bind(2, node);
    std::vector<int64_t> ids;
    while (q.Step()) ids.push_back(q.Int(0));
    for (int64_t id : ids) {
      if (auto row = FindObjectById(id)) pods.push_back(std::move(*row));
    }
  }
  DeletePods(c.name, pods, owners);
  static const sqlite::RowCodec<NodeRow> kKey = NodeCodec().Key();
  static const std::string kDelete = kKey.Delete();
  NodeRow key;
  key.cluster = c.name;
  key.name = node;
  db_->Prepare(kDelete).BindRow(kKey, key).Run();
}

Status SimState::ApplyCluster(const CloudSpec& provider_cloud, const ClusterSpec& spec) {
  return Guard([&]() -> Status {
    const std::string where = "cluster \"" + spec.name + "\"";
    if (spec.name.empty()) return Status::Invalid("sim: a Cluster needs metadata.name");
    std::vector<PoolPlan> plans;
    std::set<std::string> names;
    for (const NodePoolSpec& p : spec.node_pools) {
      if (!names.insert(p.name).second) {
        return Status::Invalid(where + ": node pool \"" + p.name + "\" is listed twice: pool names must be unique");
      }
      std::optional<NodeCapacity> cap = ParseFlavor(p.flavor);
      if (!cap) {
        return Status::Invalid(where + ": node pool \"" + p.name + "\": flavor \"" + p.flavor +
                               "\" is not of the form <family>.<size>.<ratio> (e.g. c7.large.2 = 2 vCPU, 4 GiB; "
                               "size is medium, large, xlarge or Nxlarge; ratio is GiB of memory per vCPU)");
      }
      std::string arch;
      if (p.arch == "x86_64" || p.arch == "amd64" || p.arch.empty()) {
        arch = "amd64";
      } else if (p.arch == "arm64" || p.arch == "aarch64") {
        arch = "arm64";
      } else {
        return Status::Invalid(where + ": node pool \"" + p.name + "\": arch \"" + p.arch +
                               "\" is not supported: use x86_64 or arm64");
      }
      if (p.count < 0) return Status::Invalid(where + ": node pool \"" + p.name + "\": count must not be negative");
      plans.push_back({p, *cap, arch});
    }
    return Write([&]() -> Status {
      const std::string cloud_name = spec.cloud.empty() ? provider_cloud.name : spec.cloud;
      std::optional<CloudRow> cloud = FindCloud(cloud_name);
      std::vector<std::string> regions = cloud ? cloud->regions : std::vector<std::string>{};
      if (regions.empty()) {
        if (cloud_name != provider_cloud.name) {
          Fail(Status::NotFound(where + ": cloud \"" + cloud_name + "\" does not exist in the simulated world: apply the Cloud first"));
        }
        EnsureCloudLocked(provider_cloud);
        regions = provider_cloud.regions.empty() ? std::vector<std::string>{provider_cloud.region} : provider_cloud.regions;
      }
      const std::string region = spec.region.empty() ? regions.front() : spec.region;
      if (std::find(regions.begin(), regions.end(), region) == regions.end()) {
        std::string offered;
        for (const std::string& r : regions) offered += (offered.empty() ? "" : ", ") + r;
        return Status::Invalid(where + ": region \"" + region + "\" is not offered by cloud \"" + cloud_name +
                               "\" (regions: " + offered + "): set spec.region to one of them");
      }
      const std::string zone = spec.zone.empty() ? region + "a" : spec.zone;
      Json manifest = spec.manifest.body ? *spec.manifest.body : RenderManifest(spec, cloud_name, region);
      const std::string manifest_text = manifest.dump();
      const int64_t now = Now();
      std::optional<ClusterRow> existing = FindCluster(spec.name);

      if (!existing) {
        static const std::string kInsert = ClusterCodec().Insert();
        ClusterRow c;
        c.name = spec.name;
        c.cloud = cloud_name;
        c.region = region;
        c.zone = zone;
        c.manifest = manifest_text;
        c.uid = NewUid();
        c.rv = NextRv();
        c.generation = 1;
        c.created_at = now;
        if (std::optional<CloudRow> created_on = FindCloud(cloud_name)) c.timings = created_on->timings;
        c.ready_at = now + c.timings.create_ms;
        c.next_event_at = c.ready_at;
        c.version = spec.version;
        c.deletion_protection = spec.deletion_protection;
        db_->Prepare(kInsert).BindRow(ClusterCodec(), c).Run();
        int64_t ord = 0;
        for (const PoolPlan& p : plans) AddPool(c, PoolOf(c.name, p, ord++, spec.version), c.ready_at);
        return Status::Ok();
      }

      ClusterRow c = *existing;
      if (c.cloud != cloud_name) {
        return Status::Invalid(where + " already exists on cloud \"" + c.cloud + "\", not \"" + cloud_name +
                               "\": clusters cannot move between clouds; delete it first or use another name");
      }
      if (c.region != region) {
        return Status::Invalid(where + ": region cannot change (running in \"" + c.region + "\", spec says \"" +
                               region + "\"): delete and recreate the cluster to move it");
      }
      Advance(c);
      SettleUpgrade(c, now);

      // Version: upgrades only, control plane first, then the pools one by one.
      if (!spec.version.empty()) {
        if (!c.upgrade_to.empty()) {
          if (CompareVersions(spec.version, c.upgrade_to) != 0) {
            return Status::Unavailable(where + " is still upgrading to " + c.upgrade_to + "; apply version " +
                                       spec.version + " again when it is Running");
          }
        } else if (int cmp = CompareVersions(spec.version, c.version); cmp < 0) {
          return Status::Invalid(where + ": version " + spec.version + " is older than the running " + c.version +
                                 ": Kubernetes clusters cannot be downgraded; set spec.version to " + c.version +
                                 " or later");
        } else if (cmp > 0) {
          if (now < c.ready_at) {  // still creating: it comes up at the new version
            c.version = spec.version;
            db_->Prepare("UPDATE sim_pools SET version = ? WHERE cluster = ?").Bind(1, c.version).Bind(2, c.name).Run();
          } else {
            c.upgrade_to = spec.version;
            c.upgrade_at = now;
            c.upgrade_pools.clear();
            for (const PoolRow& pool : LoadPools(c.name)) c.upgrade_pools.push_back(pool.name);
          }
        }
      }

      // Node pools: add, scale, remove.
      static const sqlite::RowCodec<PoolRow> kCount = PoolCodec().Subset({"cluster", "name", "count"});
      static const std::string kUpdateCount = kCount.Update();
      static const sqlite::RowCodec<PoolRow> kPoolKey = PoolCodec().Key();
      static const std::string kDeletePool = kPoolKey.Delete();
      std::map<std::string, PoolRow> live;
      int64_t max_ord = -1;
      for (PoolRow& pool : LoadPools(c.name)) {
        max_ord = std::max(max_ord, pool.ord);
        std::string name = pool.name;
        live[name] = std::move(pool);
      }
      const int64_t node_ready = std::max(now + c.timings.scale_ms, c.ready_at);
      std::set<WorkloadRef> owners;
      bool nodes_changed = false;
      for (const PoolPlan& p : plans) {
        auto it = live.find(p.spec.name);
        if (it == live.end()) {
          std::string version = c.upgrade_to.empty() ? c.version : c.upgrade_to;
          AddPool(c, PoolOf(c.name, p, ++max_ord, version), node_ready);
          nodes_changed = nodes_changed || p.spec.count > 0;
          continue;
        }
        PoolRow& lp = it->second;
        if (lp.flavor != p.spec.flavor || lp.arch != p.arch) {
          return Status::Invalid(where + ": node pool \"" + p.spec.name + "\" runs " + lp.flavor + "/" + lp.arch +
                                 " and cannot change to " + p.spec.flavor + "/" + p.arch +
                                 ": add a new pool with the new flavor or arch and remove this one");
        }
        if (p.spec.count > lp.count) {
          AddNodes(c, PoolOf(c.name, p, lp.ord, lp.version), lp.count, p.spec.count, node_ready);
        } else {
          for (int64_t i = lp.count - 1; i >= p.spec.count; --i) {
            RemoveNode(c, c.name + "-" + p.spec.name + "-" + std::to_string(i), &owners);
          }
        }
        if (p.spec.count != lp.count) {
          nodes_changed = true;
          lp.count = p.spec.count;
          db_->Prepare(kUpdateCount).BindRow(kCount, lp).Run();
        }
      }
      for (const auto& [pool, lp] : live) {
        if (names.count(pool) != 0) continue;
        for (int64_t i = lp.count - 1; i >= 0; --i) RemoveNode(c, c.name + "-" + pool + "-" + std::to_string(i), &owners);
        db_->Prepare(kDeletePool).BindRow(kPoolKey, lp).Run();
        nodes_changed = nodes_changed || lp.count > 0;
      }
      if (nodes_changed && now >= c.ready_at) c.scale_until = std::max(c.scale_until, now + c.timings.scale_ms);

      if (manifest_text != c.manifest) {
        Json old = Json::parse(c.manifest);
        if (old.value("spec", Json()) != manifest.value("spec", Json())) ++c.generation;
        c.rv = NextRv();
        c.manifest = manifest_text;
      }
      static const sqlite::RowCodec<ClusterRow> kApplied =
          ClusterCodec().Subset({"name", "version", "upgrade_to", "upgrade_at", "upgrade_pools", "scale_until",
                                 "deletion_protection", "manifest", "rv", "generation"});
      static const std::string kUpdate = kApplied.Update();
      c.deletion_protection = spec.deletion_protection;
      db_->Prepare(kUpdate).BindRow(kApplied, c).Run();
      if (nodes_changed) {
        for (const WorkloadRef& o : owners) ReconcileWorkload(c, std::get<0>(o), std::get<1>(o), std::get<2>(o));
        ReconcileDaemonSets(c);
        std::set<WorkloadRef> scheduled;
        SchedulePending(c, &scheduled);
        UpdateNextNodeEvent(c, now);
        RefreshAll(c, scheduled);
      }
      return Status::Ok();
    });
  });
}

Status SimState::DeleteCluster(const std::string& cloud, const std::string& name) {
  return Guard([&]() -> Status {
    return Write([&]() -> Status {
      ClusterRow c = LoadCluster(name, cloud);
      if (c.deletion_protection) {
        return Status::Conflict("cluster " + name +
                                " has deletionProtection: set spec.deletionProtection to false and apply first");
      }
      for (const char* sql : {"DELETE FROM sim_objects WHERE cluster = ?", "DELETE FROM sim_nodes WHERE cluster = ?",
                              "DELETE FROM sim_pools WHERE cluster = ?", "DELETE FROM sim_clusters WHERE name = ?"}) {
        db_->Prepare(sql).Bind(1, name).Run();
      }
      return Status::Ok();
    });
  });
}

}  // namespace converge::sim
