// API objects of a simulated cluster, stored like a real API server: server-side apply under
// field manager converge (ApplyMerge with converge's last-applied config), uid, resourceVersion
// (the world's counter; unchanged by a no-op apply), generation (bumped when anything outside
// metadata and status changes), server defaults, namespaces that must exist and cascade on delete.
#include <algorithm>
#include <map>

#include "engine/diff/diff.h"
#include "engine/k8s/validate.h"
#include "engine/model/kinds.h"
#include "providers/sim/sim_capacity.h"
#include "providers/sim/sim_state.h"

namespace converge::sim {

const std::string& ObjSelect(bool with_body, bool with_applied) {
  static const std::string kMeta = ObjCodec(false, false).Select() + " ";
  static const std::string kBody = ObjCodec(true, false).Select() + " ";
  static const std::string kFull = ObjCodec(true, true).Select() + " ";
  return with_body ? (with_applied ? kFull : kBody) : kMeta;
}

ObjRow ReadObjRow(const Stmt& q, bool with_body, bool with_applied) {
  return q.Read(ObjCodec(with_body, with_applied));
}

namespace {

bool IsWorkload(const ObjectKey& k) {
  return k.group == "apps" && (k.kind == "Deployment" || k.kind == "StatefulSet" || k.kind == "DaemonSet");
}
bool IsPod(const ObjectKey& k) { return k.group.empty() && k.kind == "Pod"; }
bool IsNamespace(const ObjectKey& k) { return k.group.empty() && k.kind == "Namespace"; }

// The object without metadata and status: what a generation bump is about.
Json SpecPart(const Json& obj) {
  Json out = obj;
  out.erase("metadata");
  out.erase("status");
  return out;
}

void SetDefault(Json& obj, const char* key, const Json& value) {
  if (!obj.contains(key) || obj[key].is_null()) obj[key] = value;
}

std::string PullPolicyFor(const std::string& image) {
  if (image.find('@') != std::string::npos) return "IfNotPresent";
  size_t slash = image.rfind('/');
  size_t colon = image.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return "Always";
  return image.substr(colon + 1) == "latest" ? "Always" : "IfNotPresent";
}

void PodSpecDefaults(Json& spec) {
  if (!spec.is_object()) return;
  SetDefault(spec, "restartPolicy", "Always");
  SetDefault(spec, "dnsPolicy", "ClusterFirst");
  SetDefault(spec, "schedulerName", "default-scheduler");
  SetDefault(spec, "terminationGracePeriodSeconds", 30);
  SetDefault(spec, "securityContext", Json::object());
  for (const char* list : {"initContainers", "containers"}) {
    auto it = spec.find(list);
    if (it == spec.end() || !it->is_array()) continue;
    for (Json& c : *it) {
      if (!c.is_object()) continue;
      SetDefault(c, "imagePullPolicy", PullPolicyFor(c.value("image", "")));
      SetDefault(c, "terminationMessagePath", "/dev/termination-log");
      SetDefault(c, "terminationMessagePolicy", "File");
      SetDefault(c, "resources", Json::object());
      if (auto ports = c.find("ports"); ports != c.end() && ports->is_array()) {
        for (Json& p : *ports) {
          if (p.is_object()) SetDefault(p, "protocol", "TCP");
        }
      }
    }
  }
}

void TemplateDefaults(Json& spec) {
  if (!spec.contains("template") || !spec["template"].is_object()) return;
  Json& tmpl = spec["template"];
  if (tmpl.contains("spec")) PodSpecDefaults(tmpl["spec"]);
}

// What a real API server refuses, the sim refuses, with the same code as `converge validate`:
// a 422-like Invalid naming every field.
void RefuseInvalid(const std::string& cluster, const Json& obj) {
  std::vector<k8s::FieldError> invalid = k8s::ValidateObject(obj);
  if (invalid.empty()) return;
  std::string msg = KeyOf(obj).ToString() + " is invalid (cluster " + cluster + "): ";
  for (size_t i = 0; i < invalid.size(); ++i) msg += (i ? "; " : "") + invalid[i].message;
  Fail(Status::Invalid(msg));
}

}  // namespace

ObjectKey SimState::NormalizeKey(ObjectKey key) const {
  if (IsClusterScoped(key.group, key.kind)) {
    key.ns.clear();
  } else if (key.ns.empty() && IsKnownNamespaced(key.group, key.kind)) {
    key.ns = "default";
  }
  return key;
}

ObjectKey SimState::CustomResourceKey(const std::string& cluster, const Json& desired, ObjectKey key) {
  Stmt q = db_->Prepare(
      "SELECT body FROM sim_objects WHERE cluster = ? AND grp = 'apiextensions.k8s.io' AND "
      "kind = 'CustomResourceDefinition'");
  q.Bind(1, cluster);
  const std::string api_version = desired["apiVersion"].get<std::string>();
  const std::string version = api_version.substr(api_version.find('/') + 1);
  while (q.Step()) {
    k8s::CustomKind ck;
    if (!k8s::CustomKindOf(Json::parse(q.Text(0)), &ck) || ck.group != key.group || ck.kind != key.kind) continue;
    if (std::find(ck.served_versions.begin(), ck.served_versions.end(), version) == ck.served_versions.end()) {
      Fail(Status::NotFound("the server could not find the requested resource: " + key.kind + " is not served at " +
                            api_version + " by cluster " + cluster + " (its CustomResourceDefinition " + ck.plural +
                            "." + ck.group + " does not serve " + version + ")"));
    }
    if (!ck.namespaced) {
      key.ns.clear();
    } else if (key.ns.empty()) {
      key.ns = "default";
    }
    return key;
  }
  Fail(Status::NotFound("the server could not find the requested resource: cluster " + cluster + " serves no " +
                        key.kind + " in " + api_version + ": apply its CustomResourceDefinition first"));
}

std::optional<ObjRow> SimState::FindObject(const std::string& cluster, const ObjectKey& key, bool with_applied) {
  Stmt q = db_->Prepare(ObjSelect(true, with_applied) +
                        "WHERE cluster = ?1 AND grp = ?2 AND kind = ?3 AND namespace = ?4 AND name = ?5");
  q.Bind(1, cluster).Bind(2, key.group).Bind(3, key.kind).Bind(4, key.ns).Bind(5, key.name);
  if (!q.Step()) return std::nullopt;
  return ReadObjRow(q, true, with_applied);
}

std::optional<ObjRow> SimState::FindObjectById(int64_t id, bool with_body) {
  Stmt q = db_->Prepare(ObjSelect(with_body, false) + "WHERE id = ?1");
  q.Bind(1, id);
  if (!q.Step()) return std::nullopt;
  return ReadObjRow(q, with_body, false);
}

void SimState::WriteBody(ObjRow& row) {
  // Everything a revision changes; not the identity, created_ms or converge's applied JSON.
  static const sqlite::RowCodec<ObjRow> kRevision =
      ObjCodec().Subset({"id", "body", "rv", "owner_kind", "owner_name", "revision", "node", "pin_node", "cpu_milli",
                         "mem_bytes", "pending", "ready", "next_event_at"});
  static const std::string kUpdate = kRevision.Update();
  row.rv = NextRv();
  row.body["metadata"]["resourceVersion"] = std::to_string(row.rv);
  db_->Prepare(kUpdate).BindRow(kRevision, row).Run();
}

void SimState::InsertObject(const std::string& cluster, ObjRow& row) {
  static const sqlite::RowCodec<ObjRow> kNew = ObjCodec().Without({"id"});
  static const std::string kInsert = kNew.Insert();
  row.cluster = cluster;
  row.rv = NextRv();
  row.body["metadata"]["resourceVersion"] = std::to_string(row.rv);
  db_->Prepare(kInsert).BindRow(kNew, row).Run();
  row.id = db_->last_insert_rowid();
}

void SimState::SetApplied(int64_t id, const Json& applied) {
  static const sqlite::RowCodec<ObjRow> kApplied = ObjCodec().Subset({"id", "applied"});
  static const std::string kUpdate = kApplied.Update();
  ObjRow row;
  row.id = id;
  row.applied = applied;
  db_->Prepare(kUpdate).BindRow(kApplied, row).Run();
}

void SimState::CheckNamespace(const std::string& cluster, const std::string& ns) {
  if (ns == "default" || ns == "kube-system" || ns == "kube-public" || ns == "kube-node-lease") return;
  Stmt q = db_->Prepare(
      "SELECT 1 FROM sim_objects WHERE cluster = ? AND grp = '' AND kind = 'Namespace' AND namespace = '' AND name = ?");
  q.Bind(1, cluster).Bind(2, ns);
  if (!q.Step()) {
    Fail(Status::NotFound("namespaces \"" + ns + "\" not found (cluster " + cluster + "): create Namespace " + ns +
                          " first"));
  }
}

void SimState::ApplyDefaults(ClusterRow& c, const ObjectKey& key, Json& obj) {
  Json& spec = obj["spec"];
  if (key.group == "apps") {
    if (!spec.is_object()) spec = Json::object();
    SetDefault(spec, "revisionHistoryLimit", 10);
    if (key.kind == "Deployment") {
      SetDefault(spec, "replicas", 1);
      SetDefault(spec, "progressDeadlineSeconds", 600);
      SetDefault(spec, "strategy", Json{{"type", "RollingUpdate"}});
      if (spec["strategy"].is_object() && spec["strategy"].value("type", "") == "RollingUpdate") {
        SetDefault(spec["strategy"], "rollingUpdate", Json{{"maxSurge", "25%"}, {"maxUnavailable", "25%"}});
      }
    } else if (key.kind == "StatefulSet") {
      SetDefault(spec, "replicas", 1);
      SetDefault(spec, "podManagementPolicy", "OrderedReady");
      SetDefault(spec, "updateStrategy", Json{{"type", "RollingUpdate"}, {"rollingUpdate", {{"partition", 0}}}});
    } else if (key.kind == "DaemonSet") {
      SetDefault(spec, "updateStrategy",
                 Json{{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxUnavailable", 1}, {"maxSurge", 0}}}});
    }
    TemplateDefaults(spec);
  } else if (key.group.empty() && key.kind == "Pod") {
    PodSpecDefaults(spec);
  } else if (key.group.empty() && key.kind == "Service") {
    if (!spec.is_object()) spec = Json::object();
    SetDefault(spec, "type", "ClusterIP");
    SetDefault(spec, "sessionAffinity", "None");
    if (spec.value("type", "") != "ExternalName" && (!spec.contains("clusterIP") || spec["clusterIP"] == "")) {
      static const sqlite::RowCodec<ClusterRow> kNextIp = ClusterCodec().Subset({"name", "next_ip"});
      static const std::string kUpdate = kNextIp.Update();
      int64_t n = c.next_ip++;
      spec["clusterIP"] = "10.96." + std::to_string((n / 254) % 256) + "." + std::to_string(n % 254 + 1);
      db_->Prepare(kUpdate).BindRow(kNextIp, c).Run();
    }
    if (auto ports = spec.find("ports"); ports != spec.end() && ports->is_array()) {
      for (Json& p : *ports) {
        if (!p.is_object()) continue;
        SetDefault(p, "protocol", "TCP");
        if (p.contains("port")) SetDefault(p, "targetPort", p["port"]);
      }
    }
  }
  if (obj["spec"].is_null()) obj.erase("spec");
}

Json SimState::ApplyLocked(ClusterRow& c, Json desired) {
  if (!desired.is_object() || !desired.value("apiVersion", Json()).is_string() ||
      !desired.value("kind", Json()).is_string() || !desired.value("metadata", Json()).is_object() ||
      !desired["metadata"].value("name", Json()).is_string() || desired["metadata"]["name"] == "") {
    Fail(Status::Invalid("cluster " + c.name + ": an object to apply needs apiVersion, kind and metadata.name"));
  }
  // What a real API server refuses, the sim refuses, with the same code as `converge validate`:
  // a 422 Invalid naming every field.
  RefuseInvalid(c.name, desired);
  ObjectKey key = NormalizeKey(KeyOf(desired));
  if (k8s::IsCustomResource(key.group, key.kind)) key = CustomResourceKey(c.name, desired, key);
  const std::string what = key.ToString() + " in cluster " + c.name;
  Json& md = desired["metadata"];
  if (key.ns.empty()) {
    md.erase("namespace");
  } else {
    md["namespace"] = key.ns;
    CheckNamespace(c.name, key.ns);
  }
  desired.erase("status");
  for (const char* f : {"resourceVersion", "uid", "generation", "creationTimestamp", "managedFields", "selfLink"}) {
    md.erase(f);
  }
  if (IsWorkload(key)) {
    const Json& spec = desired.value("spec", Json::object());
    if (!spec.is_object() || !spec.value("template", Json()).is_object()) {
      Fail(Status::Invalid(what + ": spec.template is required"));
    }
  }

  std::optional<ObjRow> live = FindObject(c.name, key, true);
  Json merged = ApplyMerge(live ? &live->body : nullptr, desired, live && live->applied ? &*live->applied : nullptr);
  ApplyDefaults(c, key, merged);
  merged = WithStringDataAsData(merged);  // the API server stores stringData as data
  const int64_t now = Now();
  bool spec_changed = true;
  ObjRow row;
  if (live) {
    if (merged == live->body) {  // a no-op apply: keep resourceVersion, remember what converge sent
      if (!live->applied || *live->applied != desired) SetApplied(live->id, desired);
      return live->body;
    }
    spec_changed = SpecPart(merged) != SpecPart(live->body);
    if (spec_changed) merged["metadata"]["generation"] = live->body["metadata"].value("generation", 1) + 1;
    row = std::move(*live);
    row.body = std::move(merged);
    WriteBody(row);
    SetApplied(row.id, desired);
  } else {
    Json& m = merged["metadata"];
    m["uid"] = NewUid();
    m["generation"] = 1;
    m["creationTimestamp"] = Rfc3339(now);
    if (IsNamespace(key)) merged["status"] = {{"phase", "Active"}};
    row.key = key;
    row.body = std::move(merged);
    row.applied = desired;
    row.created_ms = now;
    InsertObject(c.name, row);
  }
  FinishLocked(c, row);
  if (IsWorkload(key) && spec_changed) {
    ReconcileWorkload(c, key.kind, key.ns, key.name);
    if (auto after = FindObjectById(row.id)) return after->body;
  } else if (IsPod(key) && !live) {
    std::vector<NodeRow> nodes = LoadNodes(c.name);
    PodRequests(row.body.value("spec", Json::object()), &row.cpu, &row.mem);
    row.pending = true;
    SchedulePod(c, nodes, row);
    return row.body;
  }
  return row.body;
}

void SimState::InsertSystemObject(ClusterRow& c, const ObjectKey& key, Json body) {
  Json& m = body["metadata"];
  m["uid"] = NewUid();
  m["generation"] = 1;
  m["creationTimestamp"] = Rfc3339(Now());
  ObjRow row;
  row.key = key;
  row.body = std::move(body);
  row.created_ms = Now();
  InsertObject(c.name, row);
}

void SimState::FinishLocked(ClusterRow& c, ObjRow& row) {
  if (!row.key.group.empty()) return;
  Json& obj = row.body;
  if (row.key.kind == "Service") {
    const Json spec = obj.value("spec", Json::object());
    if (!spec.is_object() || spec.value("type", "") != "LoadBalancer") return;
    const Json ingress = obj.value("status", Json::object()).value("loadBalancer", Json::object()).value("ingress", Json());
    if (ingress.is_array() && !ingress.empty()) return;
    static const sqlite::RowCodec<ClusterRow> kNextIp = ClusterCodec().Subset({"name", "next_ip"});
    static const std::string kUpdate = kNextIp.Update();
    int64_t n = c.next_ip++;
    db_->Prepare(kUpdate).BindRow(kNextIp, c).Run();
    // TEST-NET-3 (RFC 5737): an address that is never anyone's real one.
    obj["status"]["loadBalancer"]["ingress"] =
        Json::array({Json{{"ip", "203.0.113." + std::to_string(n % 254 + 1)}}});
    WriteBody(row);
    return;
  }
  if (row.key.kind != "PersistentVolumeClaim") return;
  if (obj.value("status", Json::object()).value("phase", "") == "Bound") return;
  Json& spec = obj["spec"];
  if (!spec.is_object()) spec = Json::object();
  const Json access = spec.value("accessModes", Json::array());
  const Json request = spec.value("resources", Json::object()).value("requests", Json::object()).value("storage", Json());
  const Json claim_ref = {{"kind", "PersistentVolumeClaim"},
                          {"namespace", row.key.ns},
                          {"name", row.key.name},
                          {"uid", obj["metadata"].value("uid", "")}};
  std::string volume = spec.value("volumeName", "");
  if (!volume.empty()) {
    const ObjectKey pv_key{"", "PersistentVolume", "", volume};
    std::optional<ObjRow> pv = FindObject(c.name, pv_key);
    const Json bound_to = pv ? pv->body.value("spec", Json::object()).value("claimRef", Json()) : Json();
    const bool taken = bound_to.is_object() && (bound_to.value("namespace", "") != row.key.ns ||
                                                bound_to.value("name", "") != row.key.name);
    if (!pv || taken) {
      obj["status"] = {{"phase", "Pending"}};
      WriteBody(row);
      return;
    }
    pv->body["spec"]["claimRef"] = claim_ref;
    pv->body["status"] = {{"phase", "Bound"}};
    WriteBody(*pv);
    obj["status"] = {{"phase", "Bound"},
                     {"accessModes", access},
                     {"capacity", pv->body["spec"].value("capacity", Json::object())}};
    WriteBody(row);
    return;
  }
  // Dynamic provisioning through the default StorageClass (the API server's admission names it).
  if (!spec.contains("storageClassName")) spec["storageClassName"] = "standard";
  if (spec["storageClassName"] != "standard" || !request.is_string()) {
    obj["status"] = {{"phase", "Pending"}};  // no provisioner for that class here
    WriteBody(row);
    return;
  }
  const ObjectKey sc_key{"storage.k8s.io", "StorageClass", "", "standard"};
  if (!FindObject(c.name, sc_key)) {
    InsertSystemObject(c, sc_key,
                       Json{{"apiVersion", "storage.k8s.io/v1"},
                            {"kind", "StorageClass"},
                            {"metadata",
                             {{"name", "standard"},
                              {"annotations", {{"storageclass.kubernetes.io/is-default-class", "true"}}}}},
                            {"provisioner", "sim.converge.dev/disk"},
                            {"reclaimPolicy", "Delete"},
                            {"volumeBindingMode", "Immediate"}});
  }
  volume = "pvc-" + obj["metadata"].value("uid", NewUid());
  InsertSystemObject(c, ObjectKey{"", "PersistentVolume", "", volume},
                     Json{{"apiVersion", "v1"},
                          {"kind", "PersistentVolume"},
                          {"metadata", {{"name", volume}}},
                          {"spec",
                           {{"capacity", {{"storage", request}}},
                            {"accessModes", access},
                            {"persistentVolumeReclaimPolicy", "Delete"},
                            {"storageClassName", "standard"},
                            {"claimRef", claim_ref}}},
                          {"status", {{"phase", "Bound"}}}});
  spec["volumeName"] = volume;
  obj["status"] = {{"phase", "Bound"}, {"accessModes", access}, {"capacity", {{"storage", request}}}};
  WriteBody(row);
}

void SimState::DeleteLocked(ClusterRow& c, const ObjRow& row) {
  std::set<WorkloadRef> owners;
  if (IsNamespace(row.key)) {
    std::vector<std::tuple<std::string, int64_t, int64_t>> freed;
    {
      Stmt q = db_->Prepare(
          "SELECT node, SUM(cpu_milli), SUM(mem_bytes) FROM sim_objects WHERE cluster = ? AND namespace = ? "
          "AND node != '' GROUP BY node");
      q.Bind(1, c.name).Bind(2, row.key.name);
      while (q.Step()) freed.emplace_back(q.Text(0), q.Int(1), q.Int(2));
    }
    for (const auto& [node, cpu, mem] : freed) {
      db_->Prepare("UPDATE sim_nodes SET alloc_cpu = alloc_cpu - ?, alloc_mem = alloc_mem - ? WHERE cluster = ? AND name = ?")
          .Bind(1, cpu)
          .Bind(2, mem)
          .Bind(3, c.name)
          .Bind(4, node)
          .Run();
    }
    db_->Prepare("DELETE FROM sim_objects WHERE cluster = ? AND namespace = ?").Bind(1, c.name).Bind(2, row.key.name).Run();
  } else if (IsWorkload(row.key)) {
    DeletePods(c.name, OwnedPods(c.name, row.key.ns, row.key.kind, row.key.name), nullptr);
  } else if (IsPod(row.key)) {
    DeletePods(c.name, {row}, &owners);
  }
  db_->Prepare("DELETE FROM sim_objects WHERE id = ?").Bind(1, row.id).Run();
  for (const WorkloadRef& o : owners) ReconcileWorkload(c, std::get<0>(o), std::get<1>(o), std::get<2>(o));
  std::set<WorkloadRef> scheduled;
  SchedulePending(c, &scheduled);
  RefreshAll(c, scheduled);
}

Result<Json> SimState::Get(const std::string& cluster, const ObjectKey& key) {
  return Guard([&]() -> Result<Json> {
    ClusterRow c = Preflight(cluster);
    AdvanceIfDue(c);
    ObjectKey k = NormalizeKey(key);
    std::optional<ObjRow> row = FindObject(cluster, k);
    if (!row) return Status::NotFound(k.ToString() + " not found in cluster " + cluster);
    return std::move(row->body);
  });
}

Result<std::vector<std::optional<Json>>> SimState::GetMany(const std::string& cluster,
                                                           const std::vector<ObjectKey>& keys) {
  return Guard([&]() -> Result<std::vector<std::optional<Json>>> {
    ClusterRow c = Preflight(cluster);
    AdvanceIfDue(c);
    std::vector<std::optional<Json>> out;
    out.reserve(keys.size());
    for (const ObjectKey& key : keys) {
      std::optional<ObjRow> row = FindObject(cluster, NormalizeKey(key));
      out.push_back(row ? std::optional<Json>(std::move(row->body)) : std::nullopt);
    }
    return out;
  });
}

Result<Json> SimState::Apply(const std::string& cluster, const Json& desired) {
  return Guard([&]() -> Result<Json> {
    ClusterRow c = Preflight(cluster);
    return Write([&]() -> Result<Json> {
      c = LoadCluster(cluster);
      if (NeedsAdvance(c, Now())) Advance(c);
      return ApplyLocked(c, desired);
    });
  });
}

Status SimState::Delete(const std::string& cluster, const ObjectKey& key) {
  return Guard([&]() -> Status {
    ClusterRow c = Preflight(cluster);
    Write([&] {
      c = LoadCluster(cluster);
      if (NeedsAdvance(c, Now())) Advance(c);
      if (std::optional<ObjRow> row = FindObject(cluster, NormalizeKey(key))) DeleteLocked(c, *row);
    });
    return Status::Ok();
  });
}

ObjRow SimState::ResolveByName(const std::string& cluster, const std::string& kind, const std::string& ns_name) {
  static const std::map<std::string, std::string> kShortNames = {
      {"deploy", "deployment"}, {"sts", "statefulset"}, {"ds", "daemonset"},      {"svc", "service"},
      {"ns", "namespace"},      {"cm", "configmap"},    {"po", "pod"},            {"sa", "serviceaccount"},
      {"ing", "ingress"},       {"pvc", "persistentvolumeclaim"}};
  std::string want = Lower(kind);
  if (auto it = kShortNames.find(want); it != kShortNames.end()) want = it->second;
  auto matches = [&](const ObjectKey& k) {
    std::string lk = Lower(k.kind);
    std::string plural = lk + "s";
    if (!lk.empty() && (lk.back() == 's' || lk.back() == 'x' || (lk.size() > 1 && lk.compare(lk.size() - 2, 2, "ch") == 0))) {
      plural = lk + "es";
    } else if (lk.size() > 1 && lk.back() == 'y' && std::string("aeiou").find(lk[lk.size() - 2]) == std::string::npos) {
      plural = lk.substr(0, lk.size() - 1) + "ies";
    }
    return want == lk || want == plural || (!k.group.empty() && (want == lk + "." + k.group || want == plural + "." + k.group));
  };
  std::string ns, name = ns_name;
  if (auto slash = ns_name.find('/'); slash != std::string::npos) {
    ns = ns_name.substr(0, slash);
    name = ns_name.substr(slash + 1);
  }
  for (const std::string& try_ns : ns.empty() ? std::vector<std::string>{"", "default"} : std::vector<std::string>{ns}) {
    Stmt q = db_->Prepare(ObjSelect(true, false) + "WHERE cluster = ?1 AND namespace = ?2 AND name = ?3");
    q.Bind(1, cluster).Bind(2, try_ns).Bind(3, name);
    while (q.Step()) {
      ObjRow row = ReadObjRow(q, true, false);
      if (matches(row.key)) return row;
    }
  }
  Fail(Status::NotFound("cluster " + cluster + ": no " + kind + " named " + ns_name +
                        " (kind matches case-insensitively or as a plural; `converge sim list` shows the objects)"));
}

Status SimState::Patch(const std::string& cluster, const std::string& kind, const std::string& ns_name,
                       const std::string& merge_patch) {
  return Guard([&]() -> Status {
    Json patch = Json::parse(merge_patch, nullptr, false);
    if (patch.is_discarded() || !patch.is_object()) {
      return Status::Invalid("sim patch of " + kind + " " + ns_name + " in cluster " + cluster +
                             ": the patch must be a JSON object (a JSON merge patch), e.g. '{\"spec\":{\"replicas\":5}}'");
    }
    Write([&] {
      ClusterRow c = LoadCluster(cluster);
      Advance(c);
      ObjRow row = ResolveByName(cluster, kind, ns_name);
      Json patched = row.body;
      patched.merge_patch(patch);
      // Identity and server-owned metadata are not the patcher's to change.
      for (const char* f : {"apiVersion", "kind"}) patched[f] = row.body[f];
      if (!patched["metadata"].is_object()) patched["metadata"] = Json::object();
      for (const char* f : {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp"}) {
        if (row.body["metadata"].contains(f)) {
          patched["metadata"][f] = row.body["metadata"][f];
        } else {
          patched["metadata"].erase(f);
        }
      }
      ApplyDefaults(c, row.key, patched);
      patched = WithStringDataAsData(patched);
      RefuseInvalid(cluster, patched);
      if (patched == row.body) return;
      bool spec_changed = SpecPart(patched) != SpecPart(row.body);
      if (spec_changed) patched["metadata"]["generation"] = row.body["metadata"].value("generation", 1) + 1;
      row.body = std::move(patched);
      WriteBody(row);
      if (IsWorkload(row.key) && spec_changed) ReconcileWorkload(c, row.key.kind, row.key.ns, row.key.name);
    });
    return Status::Ok();
  });
}

Status SimState::DeleteByName(const std::string& cluster, const std::string& kind, const std::string& ns_name) {
  return Guard([&]() -> Status {
    Write([&] {
      ClusterRow c = LoadCluster(cluster);
      Advance(c);
      ObjRow row = ResolveByName(cluster, kind, ns_name);
      DeleteLocked(c, row);
    });
    return Status::Ok();
  });
}

}  // namespace converge::sim
