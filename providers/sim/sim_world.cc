// SimWorld: the simulated fleet as `converge sim ...` and tests see it, over SimState.
#include "providers/sim/sim_world.h"

#include <algorithm>
#include <sstream>

#include "engine/base/env.h"
#include "providers/sim/sim_capacity.h"
#include "providers/sim/sim_state.h"

namespace converge {
namespace sim {

Result<Json> SimState::List() {
  return Guard([&]() -> Result<Json> {
    std::vector<std::string> names;
    {
      Stmt q = db_->Prepare("SELECT name FROM sim_clusters ORDER BY name");
      while (q.Step()) names.push_back(q.Text(0));
    }
    const int64_t now = Now();
    Json clusters = Json::array();
    std::map<std::string, std::map<std::string, std::string>> pool_versions;
    for (const std::string& name : names) {
      std::optional<ClusterRow> c = FindCluster(name);
      if (!c) continue;
      AdvanceIfDue(*c);
      Json cj = ClusterJson(*c, now);
      const Json& st = cj["status"];
      clusters.push_back({{"name", name},
                          {"cloud", c->cloud},
                          {"region", c->region},
                          {"phase", st["phase"]},
                          {"version", st["version"]},
                          {"nodes", st["nodes"]},
                          {"readyNodes", st["readyNodes"]},
                          {"message", st["message"]},
                          {"faults", c->faults.ToJson()}});
      for (const Json& p : st["nodePools"]) pool_versions[name][p["name"].get<std::string>()] = p["version"];
    }
    Json clouds = Json::array();
    {
      static const std::string kSql = CloudCodec().Select() + " ORDER BY name";
      Stmt q = db_->Prepare(kSql);
      while (q.Step()) {
        CloudRow cloud = q.Read(CloudCodec());
        clouds.push_back({{"name", cloud.name}, {"provider", "sim"}, {"regions", cloud.regions}});
      }
    }
    Json nodes = Json::array();
    {
      static const std::string kSql = NodeCodec().Select() + " ORDER BY cluster, pool, idx";
      Stmt q = db_->Prepare(kSql);
      while (q.Step()) {
        NodeRow n = q.Read(NodeCodec());
        nodes.push_back({{"cluster", n.cluster},
                         {"name", n.name},
                         {"pool", n.pool},
                         {"arch", n.labels.value("kubernetes.io/arch", "")},
                         {"cpu", FormatCpu(n.cpu)},
                         {"memory", FormatBytes(n.mem)},
                         {"allocatedCpu", FormatCpu(n.alloc_cpu)},
                         {"allocatedMemory", FormatBytes(n.alloc_mem)},
                         {"ready", n.ready_at <= now},
                         {"version", pool_versions[n.cluster][n.pool]}});
      }
    }
    Json objects = Json::array();
    {
      Stmt q = db_->Prepare("SELECT cluster, body FROM sim_objects ORDER BY cluster, grp, kind, namespace, name");
      while (q.Step()) {
        Json body = Json::parse(q.Text(1));
        const Json md = body.value("metadata", Json::object());
        Json o = {{"cluster", q.Text(0)},
                  {"apiVersion", body.value("apiVersion", "")},
                  {"kind", body.value("kind", "")},
                  {"namespace", md.value("namespace", "")},
                  {"name", md.value("name", "")},
                  {"resourceVersion", md.value("resourceVersion", "")},
                  {"generation", md.value("generation", 0)},
                  {"status", body.value("status", Json::object())}};
        const Json spec = body.value("spec", Json::object());
        if (spec.is_object() && spec.contains("nodeName")) o["nodeName"] = spec["nodeName"];
        if (spec.is_object() && spec.contains("replicas")) o["desiredReplicas"] = spec["replicas"];
        objects.push_back(std::move(o));
      }
    }
    return Json{{"clouds", clouds}, {"clusters", clusters}, {"nodes", nodes}, {"objects", objects}};
  });
}

}  // namespace sim

namespace {

std::string Str(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  const Json& v = j[key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// Columns separated by three spaces, padded to the widest cell.
std::string Table(const std::string& title, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::ostringstream out;
  out << title << "\n";
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 3, ' ');
    }
    out << "  " << line << "\n";
  }
  if (rows.size() <= 1) out << "  (none)\n";
  return out.str();
}

std::string ObjectStatus(const Json& o) {
  const Json st = o.value("status", Json::object());
  const std::string kind = o.value("kind", "");
  if (kind == "Pod") {
    std::string phase = Str(st, "phase");
    for (const Json& c : st.value("conditions", Json::array())) {
      if (c.value("type", "") == "PodScheduled" && c.value("status", "") == "False") {
        return phase + " (" + c.value("reason", "") + ": " + c.value("message", "") + ")";
      }
      if (c.value("type", "") == "Ready" && c.value("status", "") == "True") phase += ", Ready";
    }
    return phase + (o.contains("nodeName") ? " on " + Str(o, "nodeName") : "");
  }
  if (kind == "Deployment" || kind == "StatefulSet") {
    std::string desired = o.contains("desiredReplicas") ? Str(o, "desiredReplicas") : Str(st, "replicas");
    std::string ready = st.contains("readyReplicas") ? Str(st, "readyReplicas") : "0";
    return ready + "/" + desired + " ready";
  }
  if (kind == "DaemonSet") return Str(st, "numberReady") + "/" + Str(st, "desiredNumberScheduled") + " ready";
  if (st.contains("phase")) return Str(st, "phase");
  return "-";
}

class SimWorldImpl : public SimWorld {
 public:
  explicit SimWorldImpl(std::unique_ptr<sim::SimState> state) : state_(std::move(state)) {}

  Result<Json> List() override { return state_->List(); }

  std::string FormatList(const Json& list) const override {
    std::vector<std::vector<std::string>> clouds = {{"NAME", "PROVIDER", "REGIONS"}};
    for (const Json& c : list.value("clouds", Json::array())) {
      std::string regions;
      for (const Json& r : c.value("regions", Json::array())) {
        if (!regions.empty()) regions += ",";
        regions += r.get<std::string>();
      }
      clouds.push_back({Str(c, "name"), Str(c, "provider"), regions});
    }
    std::vector<std::vector<std::string>> clusters = {{"NAME", "CLOUD", "REGION", "PHASE", "VERSION", "NODES", "FAULTS"}};
    for (const Json& c : list.value("clusters", Json::array())) {
      std::string faults;
      const Json f = c.value("faults", Json::object());
      if (f.value("outage", false)) faults += "outage ";
      if (f.contains("apiErrorRate")) faults += "api-errors=" + Str(f, "apiErrorRate") + " ";
      if (f.contains("latencyMs")) faults += "latency=" + Str(f, "latencyMs") + "ms ";
      if (!faults.empty()) faults.pop_back();
      clusters.push_back({Str(c, "name"), Str(c, "cloud"), Str(c, "region"), Str(c, "phase"), Str(c, "version"),
                          Str(c, "readyNodes") + "/" + Str(c, "nodes"), faults.empty() ? "-" : faults});
    }
    std::vector<std::vector<std::string>> nodes = {
        {"CLUSTER", "NAME", "POOL", "ARCH", "CPU", "MEMORY", "ALLOCATED", "VERSION", "READY"}};
    for (const Json& n : list.value("nodes", Json::array())) {
      nodes.push_back({Str(n, "cluster"), Str(n, "name"), Str(n, "pool"), Str(n, "arch"), Str(n, "cpu"),
                       Str(n, "memory"), Str(n, "allocatedCpu") + " cpu, " + Str(n, "allocatedMemory"),
                       Str(n, "version"), n.value("ready", false) ? "True" : "False"});
    }
    std::vector<std::vector<std::string>> objects = {{"CLUSTER", "KIND", "NAMESPACE", "NAME", "STATUS"}};
    for (const Json& o : list.value("objects", Json::array())) {
      std::string ns = Str(o, "namespace");
      objects.push_back({Str(o, "cluster"), Str(o, "kind"), ns.empty() ? "-" : ns, Str(o, "name"), ObjectStatus(o)});
    }
    return Table("CLOUDS", clouds) + "\n" + Table("CLUSTERS", clusters) + "\n" + Table("NODES", nodes) + "\n" +
           Table("OBJECTS", objects);
  }

  Status Patch(const std::string& cluster, const std::string& kind, const std::string& ns_name,
               const std::string& merge_patch) override {
    return state_->Patch(cluster, kind, ns_name, merge_patch);
  }
  Status Delete(const std::string& cluster, const std::string& kind, const std::string& ns_name) override {
    return state_->DeleteByName(cluster, kind, ns_name);
  }
  Status Fault(const std::string& cluster, const std::string& fault) override { return state_->Fault(cluster, fault); }
  Status Heal(const std::string& cluster) override { return state_->Heal(cluster); }

 private:
  std::unique_ptr<sim::SimState> state_;
};

}  // namespace

Result<std::unique_ptr<SimWorld>> SimWorld::Open(const std::string& state_dir, Env* env) {
  Result<std::unique_ptr<sim::SimState>> state = sim::SimState::Open(state_dir, env != nullptr ? env : Env::Default());
  if (!state.ok()) return state.status();
  return std::unique_ptr<SimWorld>(new SimWorldImpl(std::move(state).value()));
}

}  // namespace converge
