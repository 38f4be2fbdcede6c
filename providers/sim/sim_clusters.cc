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

struct LivePool {
  std::string flavor, arch, version;
  int64_t count = 0, ord = 0;
};

}  // namespace

void SimState::EnsureCloudLocked(const CloudSpec& cloud) {
  std::vector<std::string> regions = cloud.regions;
  if (regions.empty() && !cloud.region.empty()) regions.push_back(cloud.region);
  if (cloud.name.empty()) Fail(Status::Invalid("sim: a Cloud needs metadata.name"));
  if (regions.empty()) {
    Fail(Status::Invalid("Cloud \"" + cloud.name + "\": no region: set spec.region (and optionally spec.regions)"));
  }
  const SimulationSpec t = SimulationOf(cloud);
  db_->Prepare(
         "INSERT INTO sim_clouds(name, regions, create_ms, pod_start_ms, upgrade_step_ms, scale_ms) "
         "VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET regions = excluded.regions, "
         "create_ms = excluded.create_ms, pod_start_ms = excluded.pod_start_ms, "
         "upgrade_step_ms = excluded.upgrade_step_ms, scale_ms = excluded.scale_ms")
      .Bind(1, cloud.name)
      .Bind(2, Json(regions).dump())
      .Bind(3, SecondsToMs(t.cluster_create_seconds))
      .Bind(4, SecondsToMs(t.pod_start_seconds))
      .Bind(5, SecondsToMs(t.upgrade_step_seconds))
      .Bind(6, SecondsToMs(t.scale_seconds))
      .Run();
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
  c.version = c.upgrade_to;
  c.upgrade_to.clear();
  c.upgrade_pools.clear();
  db_->Prepare("UPDATE sim_pools SET version = ? WHERE cluster = ?").Bind(1, c.version).Bind(2, c.name).Run();
  db_->Prepare("UPDATE sim_clusters SET version = ?, upgrade_to = '', upgrade_pools = '[]' WHERE name = ?")
      .Bind(1, c.version)
      .Bind(2, c.name)
      .Run();
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
  {
    Stmt q = db_->Prepare("SELECT name, version FROM sim_pools WHERE cluster = ? ORDER BY ord");
    q.Bind(1, c.name);
    while (q.Step()) {
      std::string pool = q.Text(0);
      auto [n, r] = counts[pool];
      nodes += n;
      ready += r;
      pools.push_back({{"name", pool}, {"version", PoolVersion(c, pool, q.Text(1), now)}, {"nodes", n}, {"readyNodes", r}});
    }
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

void SimState::AddNodes(const ClusterRow& c, const std::string& pool, const std::string& flavor,
                        const std::string& arch, int64_t cpu, int64_t mem, int64_t from, int64_t to,
                        int64_t ready_at) {
  for (int64_t i = from; i < to; ++i) {
    std::string name = c.name + "-" + pool + "-" + std::to_string(i);
    Json labels = {{"kubernetes.io/arch", arch},
                   {"kubernetes.io/os", "linux"},
                   {"kubernetes.io/hostname", name},
                   {"node.kubernetes.io/instance-type", flavor},
                   {"topology.kubernetes.io/region", c.region},
                   {"topology.kubernetes.io/zone", c.zone},
                   {"converge.dev/pool", pool}};
    db_->Prepare(
           "INSERT OR REPLACE INTO sim_nodes(cluster, name, pool, idx, cpu_milli, mem_bytes, ready_at, labels) "
           "VALUES(?, ?, ?, ?, ?, ?, ?, ?)")
        .Bind(1, c.name)
        .Bind(2, name)
        .Bind(3, pool)
        .Bind(4, i)
        .Bind(5, cpu)
        .Bind(6, mem)
        .Bind(7, ready_at)
        .Bind(8, labels.dump())
        .Run();
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
  db_->Prepare("DELETE FROM sim_nodes WHERE cluster = ? AND name = ?").Bind(1, c.name).Bind(2, node).Run();
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
      std::vector<std::string> regions;
      {
        Stmt q = db_->Prepare("SELECT regions FROM sim_clouds WHERE name = ?");
        q.Bind(1, cloud_name);
        if (q.Step()) {
          for (const Json& r : Json::parse(q.Text(0))) regions.push_back(r.get<std::string>());
        }
      }
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
        ClusterRow c;
        c.name = spec.name;
        c.cloud = cloud_name;
        c.region = region;
        c.zone = zone;
        Stmt t = db_->Prepare("SELECT create_ms, pod_start_ms, upgrade_step_ms, scale_ms FROM sim_clouds WHERE name = ?");
        t.Bind(1, cloud_name);
        if (t.Step()) c.timings = Timings{t.Int(0), t.Int(1), t.Int(2), t.Int(3)};
        c.ready_at = now + c.timings.create_ms;
        db_->Prepare(
               "INSERT INTO sim_clusters(name, cloud, region, zone, manifest, uid, rv, generation, created_at, "
               "ready_at, version, deletion_protection, next_event_at) VALUES(?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)")
            .Bind(1, c.name)
            .Bind(2, cloud_name)
            .Bind(3, region)
            .Bind(4, zone)
            .Bind(5, manifest_text)
            .Bind(6, NewUid())
            .Bind(7, NextRv())
            .Bind(8, now)
            .Bind(9, c.ready_at)
            .Bind(10, spec.version)
            .Bind(11, int64_t{spec.deletion_protection})
            .Bind(12, c.ready_at)
            .Run();
        int64_t ord = 0;
        for (const PoolPlan& p : plans) {
          db_->Prepare(
                 "INSERT INTO sim_pools(cluster, name, ord, flavor, arch, count, cpu_milli, mem_bytes, version) "
                 "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)")
              .Bind(1, c.name)
              .Bind(2, p.spec.name)
              .Bind(3, ord++)
              .Bind(4, p.spec.flavor)
              .Bind(5, p.arch)
              .Bind(6, int64_t{p.spec.count})
              .Bind(7, p.cap.cpu_milli)
              .Bind(8, p.cap.mem_bytes)
              .Bind(9, spec.version)
              .Run();
          AddNodes(c, p.spec.name, p.spec.flavor, p.arch, p.cap.cpu_milli, p.cap.mem_bytes, 0, p.spec.count, c.ready_at);
        }
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
            Stmt q = db_->Prepare("SELECT name FROM sim_pools WHERE cluster = ? ORDER BY ord");
            q.Bind(1, c.name);
            while (q.Step()) c.upgrade_pools.push_back(q.Text(0));
          }
        }
      }

      // Node pools: add, scale, remove.
      std::map<std::string, LivePool> live;
      int64_t max_ord = -1;
      {
        Stmt q = db_->Prepare("SELECT name, flavor, arch, count, ord, version FROM sim_pools WHERE cluster = ?");
        q.Bind(1, c.name);
        while (q.Step()) {
          live[q.Text(0)] = LivePool{q.Text(1), q.Text(2), q.Text(5), q.Int(3), q.Int(4)};
          max_ord = std::max(max_ord, q.Int(4));
        }
      }
      const int64_t node_ready = std::max(now + c.timings.scale_ms, c.ready_at);
      std::set<WorkloadRef> owners;
      bool nodes_changed = false;
      for (const PoolPlan& p : plans) {
        auto it = live.find(p.spec.name);
        if (it == live.end()) {
          std::string version = c.upgrade_to.empty() ? c.version : c.upgrade_to;
          db_->Prepare(
                 "INSERT INTO sim_pools(cluster, name, ord, flavor, arch, count, cpu_milli, mem_bytes, version) "
                 "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)")
              .Bind(1, c.name)
              .Bind(2, p.spec.name)
              .Bind(3, ++max_ord)
              .Bind(4, p.spec.flavor)
              .Bind(5, p.arch)
              .Bind(6, int64_t{p.spec.count})
              .Bind(7, p.cap.cpu_milli)
              .Bind(8, p.cap.mem_bytes)
              .Bind(9, version)
              .Run();
          AddNodes(c, p.spec.name, p.spec.flavor, p.arch, p.cap.cpu_milli, p.cap.mem_bytes, 0, p.spec.count, node_ready);
          nodes_changed = nodes_changed || p.spec.count > 0;
          continue;
        }
        const LivePool& lp = it->second;
        if (lp.flavor != p.spec.flavor || lp.arch != p.arch) {
          return Status::Invalid(where + ": node pool \"" + p.spec.name + "\" runs " + lp.flavor + "/" + lp.arch +
                                 " and cannot change to " + p.spec.flavor + "/" + p.arch +
                                 ": add a new pool with the new flavor or arch and remove this one");
        }
        if (p.spec.count > lp.count) {
          AddNodes(c, p.spec.name, p.spec.flavor, p.arch, p.cap.cpu_milli, p.cap.mem_bytes, lp.count, p.spec.count,
                   node_ready);
        } else {
          for (int64_t i = lp.count - 1; i >= p.spec.count; --i) {
            RemoveNode(c, c.name + "-" + p.spec.name + "-" + std::to_string(i), &owners);
          }
        }
        if (p.spec.count != lp.count) {
          nodes_changed = true;
          db_->Prepare("UPDATE sim_pools SET count = ? WHERE cluster = ? AND name = ?")
              .Bind(1, int64_t{p.spec.count})
              .Bind(2, c.name)
              .Bind(3, p.spec.name)
              .Run();
        }
      }
      for (const auto& [pool, lp] : live) {
        if (names.count(pool) != 0) continue;
        for (int64_t i = lp.count - 1; i >= 0; --i) RemoveNode(c, c.name + "-" + pool + "-" + std::to_string(i), &owners);
        db_->Prepare("DELETE FROM sim_pools WHERE cluster = ? AND name = ?").Bind(1, c.name).Bind(2, pool).Run();
        nodes_changed = nodes_changed || lp.count > 0;
      }
      if (nodes_changed && now >= c.ready_at) c.scale_until = std::max(c.scale_until, now + c.timings.scale_ms);

      if (manifest_text != c.manifest) {
        Json old = Json::parse(c.manifest);
        if (old.value("spec", Json()) != manifest.value("spec", Json())) ++c.generation;
        c.rv = NextRv();
        c.manifest = manifest_text;
      }
      Json upgrade_pools(c.upgrade_pools);
      db_->Prepare(
             "UPDATE sim_clusters SET version = ?, upgrade_to = ?, upgrade_at = ?, upgrade_pools = ?, scale_until = ?, "
             "deletion_protection = ?, manifest = ?, rv = ?, generation = ? WHERE name = ?")
          .Bind(1, c.version)
          .Bind(2, c.upgrade_to)
          .Bind(3, c.upgrade_at)
          .Bind(4, upgrade_pools.dump())
          .Bind(5, c.scale_until)
          .Bind(6, int64_t{spec.deletion_protection})
          .Bind(7, c.manifest)
          .Bind(8, c.rv)
          .Bind(9, c.generation)
          .Bind(10, c.name)
          .Run();
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
