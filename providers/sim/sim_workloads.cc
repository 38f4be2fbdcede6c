// The simulated controllers and scheduler: Deployments, StatefulSets and DaemonSets own Pods;
// pods are bound to ready nodes whose labels match their nodeSelector / required node affinity
// and whose allocatable capacity still fits their requests; bound pods become Running and Ready
// pod_start_ms later; workload status is computed from the pods like the real controllers do.
// A template change replaces the pods (delete old, create new) rather than rolling them.
// A workload materializes at most kMaxPodsPerWorkload pods; the rest of its replicas are counted
// in its status as Pending (never ready), so any replica count the API server accepts (up to
// 2^31-1) costs bounded time and space and simply never becomes available.
#include <algorithm>
#include <climits>
#include <cstdlib>
#include <map>
#include <optional>

#include "engine/base/hash.h"
#include "providers/sim/sim_capacity.h"
#include "providers/sim/sim_state.h"

namespace converge::sim {
namespace {

// The pods one workload materializes as rows; replicas beyond it are counted, not created.
constexpr int64_t kMaxPodsPerWorkload = 200;

// spec.replicas as the API server defaults it (1 when unset); validation keeps it a non-negative int32.
int64_t Replicas(const Json& spec) {
  auto it = spec.is_object() ? spec.find("replicas") : spec.end();
  if (!spec.is_object() || it == spec.end() || !it->is_number_integer()) return 1;
  return std::max<int64_t>(0, it->get<int64_t>());
}

int64_t IntOr(const Json& obj, const char* key, int64_t fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

std::string QuantityText(const Json& q) { return q.is_string() ? q.get<std::string>() : q.dump(); }

// A short, Kubernetes-looking hash of a pod template (the pod-template-hash label).
std::string TemplateHash(const Json& tmpl) {
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string hex = Sha256Hex(tmpl.dump());
  std::string out;
  for (size_t i = 0; i < 10; ++i) {
    int v = std::stoi(hex.substr(2 * i, 2), nullptr, 16);
    out += kAlphabet[v % (sizeof kAlphabet - 1)];
  }
  return out;
}

bool MatchExpression(const Json& expr, const Json& labels) {
  std::string key = expr.value("key", "");
  std::string op = expr.value("operator", "");
  bool has = labels.contains(key);
  std::string value = has && labels[key].is_string() ? labels[key].get<std::string>() : "";
  const Json values = expr.value("values", Json::array());
  auto in_values = [&] {
    for (const Json& v : values) {
      if (v.is_string() && v.get<std::string>() == value) return true;
    }
    return false;
  };
  if (op == "In") return has && in_values();
  if (op == "NotIn") return !has || !in_values();
  if (op == "Exists") return has;
  if (op == "DoesNotExist") return !has;
  if ((op == "Gt" || op == "Lt") && has && !values.empty() && values[0].is_string()) {
    long long have = std::atoll(value.c_str()), want = std::atoll(values[0].get<std::string>().c_str());
    return op == "Gt" ? have > want : have < want;
  }
  return false;
}

// nodeSelector and requiredDuringSchedulingIgnoredDuringExecution node affinity.
bool MatchesNode(const Json& pod_spec, const Json& labels) {
  if (!pod_spec.is_object()) return true;
  if (auto sel = pod_spec.find("nodeSelector"); sel != pod_spec.end() && sel->is_object()) {
    for (const auto& [k, v] : sel->items()) {
      if (!labels.contains(k) || labels[k] != v) return false;
    }
  }
  const Json* terms = nullptr;
  if (auto a = pod_spec.find("affinity"); a != pod_spec.end() && a->is_object()) {
    if (auto na = a->find("nodeAffinity"); na != a->end() && na->is_object()) {
      if (auto req = na->find("requiredDuringSchedulingIgnoredDuringExecution"); req != na->end() && req->is_object()) {
        if (auto t = req->find("nodeSelectorTerms"); t != req->end() && t->is_array() && !t->empty()) terms = &*t;
      }
    }
  }
  if (terms == nullptr) return true;
  for (const Json& term : *terms) {
    bool all = true;
    for (const Json& expr : term.value("matchExpressions", Json::array())) {
      if (!MatchExpression(expr, labels)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

std::string HostIp(const std::string& node) {
  uint32_t h = 2166136261u;
  for (char ch : node) h = (h ^ static_cast<unsigned char>(ch)) * 16777619u;
  return "192.168." + std::to_string((h >> 8) % 256) + "." + std::to_string(h % 250 + 2);
}

Json ContainerNames(const Json& pod_spec) {
  Json names = Json::array();
  for (const Json& c : pod_spec.value("containers", Json::array())) names.push_back(c.value("name", ""));
  return names;
}

std::string QosClass(const Json& pod_spec) {
  for (const Json& c : pod_spec.value("containers", Json::array())) {
    const Json r = c.value("resources", Json::object());
    if (!r.value("requests", Json::object()).empty() || !r.value("limits", Json::object()).empty()) return "Burstable";
  }
  return "BestEffort";
}

Json Condition(const std::string& type, bool status, const std::string& at, const std::string& reason = "",
               const std::string& message = "") {
  Json c = {{"type", type}, {"status", status ? "True" : "False"}, {"lastProbeTime", nullptr}, {"lastTransitionTime", at}};
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  return c;
}

Json PendingStatus(const Json& pod_spec, const std::string& message, const std::string& at) {
  return {{"phase", "Pending"},
          {"qosClass", QosClass(pod_spec)},
          {"conditions", Json::array({Condition("PodScheduled", false, at, "Unschedulable", message)})}};
}

Json CreatingStatus(const Json& pod_spec, const std::string& node, const std::string& at) {
  Json names = ContainerNames(pod_spec);
  std::string unready;
  for (const Json& n : names) unready += (unready.empty() ? "" : " ") + n.get<std::string>();
  Json statuses = Json::array();
  for (const Json& c : pod_spec.value("containers", Json::array())) {
    statuses.push_back({{"name", c.value("name", "")},
                        {"image", c.value("image", "")},
                        {"imageID", ""},
                        {"ready", false},
                        {"restartCount", 0},
                        {"started", false},
                        {"state", {{"waiting", {{"reason", "ContainerCreating"}}}}}});
  }
  std::string why = "containers with unready status: [" + unready + "]";
  return {{"phase", "Pending"},
          {"hostIP", HostIp(node)},
          {"startTime", at},
          {"qosClass", QosClass(pod_spec)},
          {"containerStatuses", statuses},
          {"conditions", Json::array({Condition("Initialized", true, at),
                                      Condition("Ready", false, at, "ContainersNotReady", why),
                                      Condition("ContainersReady", false, at, "ContainersNotReady", why),
                                      Condition("PodScheduled", true, at)})}};
}

Json RunningStatus(const Json& pod_spec, const std::string& node, const std::string& pod_ip,
                   const std::string& scheduled, const std::string& started) {
  Json statuses = Json::array();
  for (const Json& c : pod_spec.value("containers", Json::array())) {
    std::string image = c.value("image", "");
    statuses.push_back({{"name", c.value("name", "")},
                        {"image", image},
                        {"imageID", image},
                        {"containerID", "containerd://" + Sha256Hex(pod_ip + c.value("name", "")).substr(0, 32)},
                        {"ready", true},
                        {"restartCount", 0},
                        {"started", true},
                        {"state", {{"running", {{"startedAt", started}}}}}});
  }
  return {{"phase", "Running"},
          {"hostIP", HostIp(node)},
          {"podIP", pod_ip},
          {"podIPs", Json::array({{{"ip", pod_ip}}})},
          {"startTime", scheduled},
          {"qosClass", QosClass(pod_spec)},
          {"containerStatuses", statuses},
          {"conditions", Json::array({Condition("Initialized", true, scheduled), Condition("Ready", true, started),
                                      Condition("ContainersReady", true, started),
                                      Condition("PodScheduled", true, scheduled)})}};
}

const Json* FindCondition(const Json& status, const std::string& type) {
  if (!status.is_object() || !status.contains("conditions") || !status["conditions"].is_array()) return nullptr;
  for (const Json& c : status["conditions"]) {
    if (c.is_object() && c.value("type", "") == type) return &c;
  }
  return nullptr;
}

// maxUnavailable of a RollingUpdate Deployment: an int or a percentage of replicas rounded down.
int64_t MaxUnavailable(const Json& spec, int64_t replicas) {
  const Json strategy = spec.value("strategy", Json::object());
  if (strategy.value("type", "RollingUpdate") != "RollingUpdate") return 0;
  const Json v = strategy.value("rollingUpdate", Json::object()).value("maxUnavailable", Json("25%"));
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (!s.empty() && s.back() == '%') return replicas * std::atoll(s.c_str()) / 100;
    return std::atoll(s.c_str());
  }
  return 0;
}

}  // namespace

// A request no node can hold: what a quantity the API server accepts but the sim cannot count
// (beyond its range, or a form it does not parse) stands for, so the pod stays Pending.
constexpr int64_t kUnfittable = INT64_MAX / 4;

void PodRequests(const Json& pod_spec, int64_t* cpu_milli, int64_t* mem_bytes) {
  if (!pod_spec.is_object()) return;
  auto add = [](int64_t* total, std::optional<int64_t> v) {
    *total = std::min(kUnfittable, *total + std::min(kUnfittable, std::max<int64_t>(0, v.value_or(kUnfittable))));
  };
  auto containers = pod_spec.find("containers");
  if (containers == pod_spec.end() || !containers->is_array()) return;
  for (const Json& c : *containers) {
    const Json* req = c.is_object() && c.contains("resources") && c["resources"].is_object() &&
                              c["resources"].contains("requests") && c["resources"]["requests"].is_object()
                          ? &c["resources"]["requests"]
                          : nullptr;
    if (req == nullptr) continue;
    // null reads as 0, as the API server decodes it
    if (req->contains("cpu") && !(*req)["cpu"].is_null()) add(cpu_milli, ParseCpuMilli(QuantityText((*req)["cpu"])));
    if (req->contains("memory") && !(*req)["memory"].is_null())
      add(mem_bytes, ParseBytes(QuantityText((*req)["memory"])));
  }
}

std::vector<NodeRow> SimState::LoadNodes(const std::string& cluster) {
  static const std::string kSql = NodeCodec().Select() + " WHERE cluster = ?1 ORDER BY pool, idx";
  std::vector<NodeRow> nodes;
  Stmt q = db_->Prepare(kSql);
  q.Bind(1, cluster);
  while (q.Step()) nodes.push_back(q.Read(NodeCodec()));
  return nodes;
}

std::vector<ObjRow> SimState::OwnedPods(const std::string& cluster, const std::string& ns, const std::string& kind,
                                        const std::string& name) {
  std::vector<ObjRow> pods;
  Stmt q = db_->Prepare(ObjSelect(false, false) +
                        "WHERE cluster = ?1 AND namespace = ?2 AND owner_kind = ?3 AND owner_name = ?4 ORDER BY id");
  q.Bind(1, cluster).Bind(2, ns).Bind(3, kind).Bind(4, name);
  while (q.Step()) pods.push_back(ReadObjRow(q, false, false));
  return pods;
}

void SimState::DeletePods(const std::string& cluster, const std::vector<ObjRow>& pods, std::set<WorkloadRef>* owners) {
  for (const ObjRow& p : pods) {
    if (!p.node.empty()) {
      db_->Prepare("UPDATE sim_nodes SET alloc_cpu = alloc_cpu - ?, alloc_mem = alloc_mem - ? WHERE cluster = ? AND name = ?")
          .Bind(1, p.cpu)
          .Bind(2, p.mem)
          .Bind(3, cluster)
          .Bind(4, p.node)
          .Run();
    }
    db_->Prepare("DELETE FROM sim_objects WHERE id = ?").Bind(1, p.id).Run();
    if (owners != nullptr && !p.owner_kind.empty()) owners->insert({p.owner_kind, p.key.ns, p.owner_name});
  }
}

bool SimState::BindPod(ClusterRow& c, std::vector<NodeRow>& nodes, ObjRow& pod, int64_t at, bool* changed) {
  const int64_t now = Now();
  if (at < 0) at = now;
  Json& spec = pod.body["spec"];
  int best = -1;
  double best_score = 0;
  std::map<std::string, int> reasons;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const NodeRow& n = nodes[i];
    if ((!pod.pin_node.empty() && n.name != pod.pin_node) || !MatchesNode(spec, n.labels)) {
      ++reasons["node(s) didn't match Pod's node affinity/selector"];
      continue;
    }
    if (n.ready_at > now) {
      ++reasons["node(s) had untolerated taint {node.kubernetes.io/not-ready: }"];
      continue;
    }
    bool cpu_ok = n.alloc_cpu + pod.cpu <= n.cpu, mem_ok = n.alloc_mem + pod.mem <= n.mem;
    if (!cpu_ok) ++reasons["Insufficient cpu"];
    if (!mem_ok) ++reasons["Insufficient memory"];
    if (!cpu_ok || !mem_ok) continue;
    double score = std::max(n.cpu > 0 ? double(n.alloc_cpu + pod.cpu) / n.cpu : 1.0,
                            n.mem > 0 ? double(n.alloc_mem + pod.mem) / n.mem : 1.0);
    if (best < 0 || score < best_score) {
      best = static_cast<int>(i);
      best_score = score;
    }
  }
  *changed = false;
  if (best < 0) {
    std::string message;
    if (nodes.empty()) {
      message = "no nodes available to schedule pods";
    } else {
      message = "0/" + std::to_string(nodes.size()) + " nodes are available: ";
      bool first = true;
      for (const auto& [reason, count] : reasons) {
        message += (first ? "" : ", ") + std::to_string(count) + " " + reason;
        first = false;
      }
      message += ".";
    }
    const Json old_status = pod.body.value("status", Json());
    const Json* cond = FindCondition(old_status, "PodScheduled");
    if (cond != nullptr && cond->value("message", "") == message) return false;
    pod.body["status"] = PendingStatus(spec, message, Rfc3339(now));
    pod.pending = true;
    *changed = true;
    return false;
  }
  static const sqlite::RowCodec<NodeRow> kAllocation = NodeCodec().Subset({"cluster", "name", "alloc_cpu", "alloc_mem"});
  static const std::string kUpdate = kAllocation.Update();
  NodeRow& node = nodes[best];
  node.alloc_cpu += pod.cpu;
  node.alloc_mem += pod.mem;
  db_->Prepare(kUpdate).BindRow(kAllocation, node).Run();
  pod.node = node.name;
  pod.pending = false;
  spec["nodeName"] = node.name;
  const int64_t scheduled = std::max({at, node.ready_at, pod.created_ms});
  const int64_t start = scheduled + c.timings.pod_start_ms;
  if (start <= now) {
    std::string ip = "10.244." + std::to_string(node.idx % 256) + "." + std::to_string(name_rng_() % 250 + 2);
    pod.body["status"] = RunningStatus(spec, node.name, ip, Rfc3339(scheduled), Rfc3339(start));
    pod.ready = true;
    pod.next_event_at.reset();
  } else {
    pod.body["status"] = CreatingStatus(spec, node.name, Rfc3339(scheduled));
    pod.next_event_at = start;
  }
  *changed = true;
  return true;
}

bool SimState::SchedulePod(ClusterRow& c, std::vector<NodeRow>& nodes, ObjRow& pod, int64_t at) {
  bool changed = false;
  bool bound = BindPod(c, nodes, pod, at, &changed);
  if (changed) WriteBody(pod);
  return bound;
}

void SimState::SchedulePending(ClusterRow& c, std::set<WorkloadRef>* owners, int64_t at) {
  std::vector<int64_t> ids;
  {
    Stmt q = db_->Prepare("SELECT id FROM sim_objects WHERE cluster = ? AND pending = 1 ORDER BY created_ms, id");
    q.Bind(1, c.name);
    while (q.Step()) ids.push_back(q.Int(0));
  }
  if (ids.empty()) return;
  std::vector<NodeRow> nodes = LoadNodes(c.name);
  for (int64_t id : ids) {
    std::optional<ObjRow> pod = FindObjectById(id);
    if (!pod) continue;
    if (SchedulePod(c, nodes, *pod, at) && owners != nullptr && !pod->owner_kind.empty()) {
      owners->insert({pod->owner_kind, pod->key.ns, pod->owner_name});
    }
  }
}

void SimState::StartPod(ClusterRow& /*c*/, ObjRow& pod, int64_t at) {
  Json& spec = pod.body["spec"];
  std::string scheduled = pod.body.value("status", Json::object()).value("startTime", Rfc3339(at));
  std::string ip = "10.244." + std::to_string(name_rng_() % 256) + "." + std::to_string(name_rng_() % 250 + 2);
  pod.body["status"] = RunningStatus(spec, pod.node, ip, scheduled, Rfc3339(at));
  pod.ready = true;
  pod.next_event_at.reset();
  WriteBody(pod);
}

void SimState::CreatePod(ClusterRow& c, std::vector<NodeRow>& nodes, const Json& owner, const std::string& name,
                         const std::string& revision, const std::string& pin_node, const Json& extra_labels) {
  const Json& om = owner["metadata"];
  const std::string ns = om.value("namespace", "default");
  const Json tmpl = owner["spec"].value("template", Json::object());
  const Json tmd = tmpl.value("metadata", Json::object());
  Json labels = tmd.value("labels", Json::object());
  if (!labels.is_object()) labels = Json::object();
  labels.update(extra_labels);
  const int64_t now = Now();
  Json md = {{"name", name},
             {"namespace", ns},
             {"uid", NewUid()},
             {"generation", 1},
             {"creationTimestamp", Rfc3339(now)},
             {"labels", labels},
             {"ownerReferences", Json::array({{{"apiVersion", owner.value("apiVersion", "apps/v1")},
                                               {"kind", owner.value("kind", "")},
                                               {"name", om.value("name", "")},
                                               {"uid", om.value("uid", "")},
                                               {"controller", true},
                                               {"blockOwnerDeletion", true}}})}};
  if (tmd.contains("annotations") && tmd["annotations"].is_object()) md["annotations"] = tmd["annotations"];
  ObjRow pod;
  pod.key = ObjectKey{"", "Pod", ns, name};
  pod.body = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", md}, {"spec", tmpl.value("spec", Json::object())}};
  pod.owner_kind = owner.value("kind", "");
  pod.owner_name = om.value("name", "");
  pod.revision = revision;
  pod.pin_node = pin_node;
  pod.created_ms = now;
  pod.pending = true;
  PodRequests(pod.body["spec"], &pod.cpu, &pod.mem);
  bool changed = false;
  BindPod(c, nodes, pod, now, &changed);
  InsertObject(c.name, pod);
}

void SimState::ReconcileWorkload(ClusterRow& c, const std::string& kind, const std::string& ns,
                                 const std::string& name) {
  std::optional<ObjRow> w = FindObject(c.name, ObjectKey{"apps", kind, ns, name});
  if (!w) return;
  const Json& spec = w->body["spec"];
  const Json tmpl = spec.value("template", Json::object());
  const Json pod_spec = tmpl.value("spec", Json::object());
  const std::string revision = TemplateHash(tmpl);
  const int64_t replicas = std::min(Replicas(spec), kMaxPodsPerWorkload);  // the pods to materialize
  std::vector<ObjRow> pods = OwnedPods(c.name, ns, kind, name);
  std::vector<ObjRow> keep, remove;
  std::vector<NodeRow> nodes = LoadNodes(c.name);

  if (kind == "Deployment") {
    for (ObjRow& p : pods) (p.revision == revision ? keep : remove).push_back(std::move(p));
    if (static_cast<int64_t>(keep.size()) > replicas) {
      // Scale down: pending pods first, then unready ones, then the newest.
      std::stable_sort(keep.begin(), keep.end(), [](const ObjRow& a, const ObjRow& b) {
        if (a.pending != b.pending) return a.pending;
        if (a.ready != b.ready) return !a.ready;
        return a.id > b.id;
      });
      remove.insert(remove.end(), keep.begin(), keep.begin() + (keep.size() - replicas));
      keep.erase(keep.begin(), keep.begin() + (keep.size() - replicas));
    }
  } else if (kind == "StatefulSet") {
    std::set<int64_t> have;
    for (ObjRow& p : pods) {
      std::string suffix = p.key.name.substr(std::min(p.key.name.size(), name.size() + 1));
      int64_t ordinal = std::atoll(suffix.c_str());
      if (p.revision != revision || ordinal >= replicas || !have.insert(ordinal).second) {
        remove.push_back(std::move(p));
      } else {
        keep.push_back(std::move(p));
      }
    }
  } else if (kind == "DaemonSet") {
    std::set<std::string> matching, covered;
    for (const NodeRow& n : nodes) {
      if (MatchesNode(pod_spec, n.labels)) matching.insert(n.name);
    }
    for (ObjRow& p : pods) {
      if (p.revision != revision || matching.count(p.pin_node) == 0 || !covered.insert(p.pin_node).second) {
        remove.push_back(std::move(p));
      } else {
        keep.push_back(std::move(p));
      }
    }
  } else {
    return;
  }

  bool freed = false;
  for (const ObjRow& p : remove) freed = freed || !p.node.empty();
  DeletePods(c.name, remove, nullptr);
  if (freed) nodes = LoadNodes(c.name);

  auto unused_name = [&](const std::string& prefix) {
    for (;;) {
      std::string candidate = prefix + RandomSuffix(5);
      if (!FindObject(c.name, ObjectKey{"", "Pod", ns, candidate})) return candidate;
    }
  };
  if (kind == "Deployment") {
    for (int64_t i = static_cast<int64_t>(keep.size()); i < replicas; ++i) {
      CreatePod(c, nodes, w->body, unused_name(name + "-" + revision + "-"), revision, "",
                Json{{"pod-template-hash", revision}});
    }
  } else if (kind == "StatefulSet") {
    std::set<std::string> have;
    for (const ObjRow& p : keep) have.insert(p.key.name);
    for (int64_t i = 0; i < replicas; ++i) {
      std::string pod = name + "-" + std::to_string(i);
      if (have.count(pod) != 0) continue;
      CreatePod(c, nodes, w->body, pod, revision, "",
                Json{{"controller-revision-hash", name + "-" + revision}, {"statefulset.kubernetes.io/pod-name", pod}});
    }
  } else {
    std::set<std::string> covered;
    for (const ObjRow& p : keep) covered.insert(p.pin_node);
    for (const NodeRow& n : std::vector<NodeRow>(nodes)) {
      if (covered.count(n.name) != 0 || !MatchesNode(pod_spec, n.labels)) continue;
      CreatePod(c, nodes, w->body, unused_name(name + "-"), revision, n.name,
                Json{{"controller-revision-hash", revision},
                     {"pod-template-generation", std::to_string(w->body["metadata"].value("generation", 1))}});
    }
  }
  std::set<WorkloadRef> owners;
  if (freed) SchedulePending(c, &owners);
  owners.insert({kind, ns, name});
  RefreshAll(c, owners);
}

void SimState::ReconcileDaemonSets(ClusterRow& c) {
  std::vector<std::pair<std::string, std::string>> sets;
  {
    Stmt q = db_->Prepare("SELECT namespace, name FROM sim_objects WHERE cluster = ? AND grp = 'apps' AND kind = 'DaemonSet'");
    q.Bind(1, c.name);
    while (q.Step()) sets.emplace_back(q.Text(0), q.Text(1));
  }
  for (const auto& [ns, name] : sets) ReconcileWorkload(c, "DaemonSet", ns, name);
}

void SimState::RefreshAll(ClusterRow& c, const std::set<WorkloadRef>& refs) {
  for (const WorkloadRef& r : refs) RefreshStatus(c, r);
}

void SimState::RefreshStatus(ClusterRow& c, const WorkloadRef& ref) {
  const auto& [kind, ns, name] = ref;
  if (kind != "Deployment" && kind != "StatefulSet" && kind != "DaemonSet") return;
  std::optional<ObjRow> w = FindObject(c.name, ObjectKey{"apps", kind, ns, name});
  if (!w) return;
  const Json& spec = w->body["spec"];
  const Json tmpl = spec.value("template", Json::object());
  const std::string revision = TemplateHash(tmpl);
  const int64_t generation = IntOr(w->body["metadata"], "generation", 1);
  const int64_t replicas = Replicas(spec);
  int64_t total = 0, updated = 0, ready = 0, bound = 0;
  for (const ObjRow& p : OwnedPods(c.name, ns, kind, name)) {
    ++total;
    if (p.revision == revision) ++updated;
    if (p.ready) ++ready;
    if (!p.node.empty()) ++bound;
  }
  // Replicas beyond kMaxPodsPerWorkload: Pending pods of the current revision, never ready.
  const int64_t unmaterialized = kind == "DaemonSet" ? 0 : std::max<int64_t>(0, replicas - kMaxPodsPerWorkload);
  total += unmaterialized;
  updated += unmaterialized;
  const std::string not_created =
      unmaterialized == 0 ? ""
                          : "; " + std::to_string(unmaterialized) + " more pods count as Pending: the simulated " +
                                "cluster creates at most " + std::to_string(kMaxPodsPerWorkload) + " per workload";
  const Json old = w->body.value("status", Json::object());
  const int64_t now = Now();
  const std::string now_text = Rfc3339(now);
  std::optional<int64_t> next_event;
  Json s;
  if (kind == "Deployment") {
    s = {{"observedGeneration", generation},
         {"replicas", total},
         {"updatedReplicas", updated},
         {"readyReplicas", ready},
         {"availableReplicas", ready},
         {"unavailableReplicas", std::max<int64_t>(0, replicas - ready)}};
    const std::string rs = "ReplicaSet \"" + name + "-" + revision + "\"";
    bool available = ready >= replicas - MaxUnavailable(spec, replicas);
    bool complete = updated == replicas && ready == replicas && total == replicas;
    bool progressed = true;
    if (old.is_object()) {
      progressed = false;
      for (const char* f : {"observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas"}) {
        if (old.value(f, Json()) != s[f]) progressed = true;
      }
    }
    const Json* prev_avail = FindCondition(old, "Available");
    const Json* prev_prog = FindCondition(old, "Progressing");
    Json avail = {{"type", "Available"},
                  {"status", available ? "True" : "False"},
                  {"reason", available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable"},
                  {"message", available ? "Deployment has minimum availability."
                                        : "Deployment does not have minimum availability."},
                  {"lastUpdateTime", now_text},
                  {"lastTransitionTime", now_text}};
    if (prev_avail != nullptr && prev_avail->value("status", "") == avail["status"]) {
      avail["lastTransitionTime"] = prev_avail->value("lastTransitionTime", now_text);
      if (prev_avail->value("reason", "") == avail["reason"]) avail["lastUpdateTime"] = prev_avail->value("lastUpdateTime", now_text);
    }
    Json prog;
    const int64_t deadline_ms = IntOr(spec, "progressDeadlineSeconds", 600) * 1000;
    if (complete) {
      prog = {{"status", "True"}, {"reason", "NewReplicaSetAvailable"}, {"message", rs + " has successfully progressed."}};
    } else if (progressed || prev_prog == nullptr) {
      prog = {{"status", "True"}, {"reason", "ReplicaSetUpdated"}, {"message", rs + " is progressing" + not_created + "."}};
    } else if (prev_prog->value("reason", "") == "ProgressDeadlineExceeded") {
      prog = *prev_prog;
    } else {
      int64_t since = ParseRfc3339(prev_prog->value("lastUpdateTime", now_text)).value_or(now);
      if (now >= since + deadline_ms) {
        prog = {{"status", "False"},
                {"reason", "ProgressDeadlineExceeded"},
                {"message", rs + " has timed out progressing" + not_created + "."}};
      } else {
        prog = *prev_prog;
        next_event = since + deadline_ms;
      }
    }
    prog["type"] = "Progressing";
    bool same = prev_prog != nullptr && prev_prog->value("reason", "") == prog["reason"] &&
                prev_prog->value("message", "") == prog["message"] && !progressed;
    prog["lastUpdateTime"] = same ? prev_prog->value("lastUpdateTime", now_text) : now_text;
    prog["lastTransitionTime"] = prev_prog != nullptr && prev_prog->value("status", "") == prog["status"]
                                     ? prev_prog->value("lastTransitionTime", now_text)
                                     : now_text;
    if (!complete && prog["reason"] == "ReplicaSetUpdated") {
      next_event = ParseRfc3339(prog["lastUpdateTime"].get<std::string>()).value_or(now) + deadline_ms;
    }
    s["conditions"] = Json::array({avail, prog});
  } else if (kind == "StatefulSet") {
    s = {{"observedGeneration", generation},
         {"replicas", total},
         {"readyReplicas", ready},
         {"availableReplicas", ready},
         {"currentReplicas", updated},
         {"updatedReplicas", updated},
         {"currentRevision", name + "-" + revision},
         {"updateRevision", name + "-" + revision},
         {"collisionCount", 0}};
  } else {
    int64_t desired = 0;
    const Json pod_spec = tmpl.value("spec", Json::object());
    for (const NodeRow& n : LoadNodes(c.name)) {
      if (MatchesNode(pod_spec, n.labels)) ++desired;
    }
    s = {{"observedGeneration", generation},
         {"desiredNumberScheduled", desired},
         {"currentNumberScheduled", bound},
         {"numberReady", ready},
         {"numberAvailable", ready},
         {"numberUnavailable", std::max<int64_t>(0, desired - ready)},
         {"updatedNumberScheduled", updated},
         {"numberMisscheduled", 0}};
  }
  if (s != old) {
    w->body["status"] = s;
    w->next_event_at = next_event;
    WriteBody(*w);
  } else if (w->next_event_at != next_event) {
    static const sqlite::RowCodec<ObjRow> kNextEvent = ObjCodec().Subset({"id", "next_event_at"});
    static const std::string kUpdate = kNextEvent.Update();
    w->next_event_at = next_event;
    db_->Prepare(kUpdate).BindRow(kNextEvent, *w).Run();
  }
}

}  // namespace converge::sim
