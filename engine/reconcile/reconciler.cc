#include "engine/reconcile/reconciler.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "engine/base/env.h"
#include "engine/diff/diff.h"
#include "engine/health/health.h"
#include "engine/place/place.h"
#include "engine/reconcile/fleet_session.h"
#include "engine/reconcile/inventory_recorder.h"
#include "engine/spec/spec.h"
#include "engine/store/state_lock.h"
#include "engine/store/store.h"
#include "providers/deadline.h"
#include "providers/validate.h"

namespace converge {
namespace {

// The file name of specs read back from the inventory rather than from Git.
constexpr const char* kInventoryFile = "<inventory>";

bool IsFleetKind(const ObjectRef& ref, const char* kind) {
  return ref.cluster.empty() && ref.key.group == kConvergeGroup && ref.key.kind == kind;
}

ObjectRef FleetRef(const char* kind, const std::string& name) {
  return ObjectRef{"", ObjectKey{kConvergeGroup, kind, "", name}};
}

// One object the commit wants somewhere.
struct Desired {
  ObjectRef ref;
  std::string api_version;
  JsonPtr body;
  std::string file;
  int line = 0;
};

// Rebuilds typed Cloud/Cluster specs from the manifests converge recorded in the inventory.
Result<SpecSet> SpecsFromInventory(const std::vector<const InventoryEntry*>& rows) {
  std::string text;
  for (const InventoryEntry* e : rows) {
    if (e->last_applied.empty()) continue;
    text += "---\n" + e->last_applied + "\n";
  }
  SpecFile file{kInventoryFile, "", [text] { return Result<std::string>(text); }};
  return LoadSpecs({file}, nullptr);
}

const char* PhaseOf(const Json& cluster) {
  auto st = cluster.find("status");
  if (st == cluster.end() || !st->is_object()) return "";
  auto ph = st->find("phase");
  return ph != st->end() && ph->is_string() ? ph->get_ref<const std::string&>().c_str() : "";
}

}  // namespace

struct Reconciler::Impl {
  Env* env;
  Store* store;
  ProviderRegistry* registry;
  std::string state_dir;
  std::unique_ptr<FleetSession> session;  // from the last ComputePlan
  // Plans refresh cached live versions and drift flags in the inventory only while holding the
  // state lock, so they never write over a concurrent apply's rows.
  bool may_write_cache = false;

  ProviderContext Context() const { return ProviderContext{env, state_dir}; }
  // Options of one provider call made while planning or looking.
  CallOptions Call(const ApplyOptions& options = ApplyOptions()) const {
    return CallWithin(env, options.call_timeout_ms);
  }

  std::string CacheRoot() const { return state_dir + "/git"; }

  struct Loaded {
    std::string commit;
    SpecSet specs;
    std::vector<PlacedObject> placed;
    std::vector<Diagnostic> warnings;
  };

  Result<Loaded> Load(const SourceSpec& source) {
    Result<std::unique_ptr<Snapshot>> snap = FetchSource(source, CacheRoot(), env);
    if (!snap.ok()) return snap.status();
    return LoadSnapshot(**snap);
  }

  Result<Loaded> LoadSnapshot(const Snapshot& snap) {
    Loaded out;
    out.commit = snap.commit();
    std::vector<SpecFile> files;
    for (const SourceFile& f : snap.files()) {
      files.push_back(SpecFile{f.path, f.blob_id, [&snap, f] { return snap.Read(f); }});
    }
    Result<SpecSet> specs = LoadSpecs(files, store->parse_cache());
    if (!specs.ok()) return specs.status();
    out.specs = std::move(specs).value();
    // Each Cloud's provider checks its own part of the Cloud's spec.
    Status clouds = ValidateClouds(out.specs, *registry);
    if (!clouds.ok()) return clouds;
    out.warnings = out.specs.warnings;
    Result<std::vector<PlacedObject>> placed = PlaceManifests(out.specs, &out.warnings);
    if (!placed.ok()) return placed.status();
    out.placed = std::move(placed).value();
    return out;
  }

  // Records every desired Cloud (before anything runs on it) and, with `remove_missing` (after a
  // successful apply), forgets the Clouds Git no longer has.
  Status RecordClouds(int64_t source_id, const std::map<ObjectRef, InventoryEntry>& inventory, bool remove_missing) {
    std::vector<InventoryEntry> upserts;
    std::vector<std::pair<int64_t, ObjectRef>> deletes;
    std::set<std::string> desired;
    for (const CloudSpec& c : session->clouds()) {
      if (c.manifest.file == kInventoryFile) continue;  // read back from the inventory, not Git
      desired.insert(c.name);
      InventoryEntry e;
      e.source_id = source_id;
      e.ref = FleetRef("Cloud", c.name);
      e.api_version = kConvergeApiVersion;
      e.last_applied = c.manifest.body->dump();
      e.desired_hash = DesiredHash(*c.manifest.body);
      e.health = "Healthy";
      e.updated_at = env->NowMillis();
      auto it = inventory.find(e.ref);
      if (it == inventory.end() || it->second.desired_hash != e.desired_hash) upserts.push_back(e);
    }
    if (remove_missing) {
      for (const auto& [ref, e] : inventory) {
        if (IsFleetKind(ref, "Cloud") && !desired.count(ref.key.name)) deletes.push_back({source_id, ref});
      }
      upserts.clear();
    }
    if (upserts.empty() && deletes.empty()) return Status::Ok();
    return store->inventory()->Write({std::move(upserts), std::move(deletes)}).WithContext("recording clouds");
  }

  Result<PlanResult> ComputePlan(const SyncRequest& request, std::map<ObjectRef, InventoryEntry>* inventory_out);
  Result<bool> TryFastPath(const SyncRequest& request, const SourceRecord& source, const std::string& commit,
                           const std::map<ObjectRef, InventoryEntry>& inventory, PlanResult* out);
  Result<PlanResult> FullPlan(const SyncRequest& request, const SourceRecord& source, const Snapshot& snap,
                              std::map<ObjectRef, InventoryEntry>& inventory);
};

Reconciler::Reconciler(Env* env, Store* store, ProviderRegistry* registry, std::string state_dir)
    : impl_(std::make_unique<Impl>()) {
  impl_->env = env;
  impl_->store = store;
  impl_->registry = registry;
  impl_->state_dir = std::move(state_dir);
}

Reconciler::~Reconciler() = default;

Result<ValidateResult> Reconciler::Validate(const SourceSpec& source) {
  Result<Impl::Loaded> loaded = impl_->Load(source);
  if (!loaded.ok()) return loaded.status();
  ValidateResult out;
  out.commit = loaded->commit;
  out.placed_objects = static_cast<int>(loaded->placed.size());
  out.warnings = loaded->warnings;
  // Ordering annotations (sync waves, depends-on and their cycles) are part of validity too.
  std::vector<Action> actions;
  for (const PlacedObject& p : loaded->placed) {
    Action a;
    a.ref = ObjectRef{p.cluster, p.manifest.key};
    a.api_version = p.manifest.api_version;
    a.desired = p.manifest.body;
    a.source_file = p.manifest.Where();
    actions.push_back(std::move(a));
  }
  Result<std::vector<Action>> ordered = OrderActions(std::move(actions));
  if (!ordered.ok()) return ordered.status();
  out.specs = std::move(loaded->specs);
  return out;
}

Result<PlanResult> Reconciler::ComputePlan(const SyncRequest& request) {
  Result<std::unique_ptr<StateLock>> lock = StateLock::Acquire(impl_->state_dir, false);
  impl_->may_write_cache = lock.ok();
  std::map<ObjectRef, InventoryEntry> inventory;
  return impl_->ComputePlan(request, &inventory);
}

Result<PlanResult> Reconciler::Impl::ComputePlan(const SyncRequest& request,
                                                 std::map<ObjectRef, InventoryEntry>* inventory_out) {
  // Sources are recorded and shown by their URL without any user:password part.
  Result<SourceRecord> source =
      store->sources()->Upsert(RedactUrl(request.source.url), request.source.ref, request.source.path);
  if (!source.ok()) return source.status();
  Result<std::unique_ptr<Snapshot>> snap = FetchSource(request.source, CacheRoot(), env);
  if (!snap.ok()) return snap.status();

  Result<std::vector<InventoryEntry>> rows = store->inventory()->Load(source->id);
  if (!rows.ok()) return rows.status();
  std::map<ObjectRef, InventoryEntry>& inventory = *inventory_out;
  for (InventoryEntry& e : *rows) {
    ObjectRef ref = e.ref;
    inventory.emplace(std::move(ref), std::move(e));
  }

  PlanResult out;
  out.url = RedactUrl(request.source.url);
  out.ref = request.source.ref;
  out.path = request.source.path;
  out.commit = (*snap)->commit();
  out.source_id = source->id;
  spdlog::info("source {} resolved to commit {} ({} spec files)", out.url, out.commit, (*snap)->files().size());
  int64_t started = env->NowMillis();
  Result<bool> fast = TryFastPath(request, *source, out.commit, inventory, &out);
  if (!fast.ok()) return fast.status();
  if (*fast) {
    spdlog::info("no-op path: commit already applied; {} objects checked by resourceVersion in {} ms, {} changed",
                 out.plan.summary.unchanged + out.plan.actions.size(), env->NowMillis() - started,
                 out.plan.actions.size());
    return out;
  }
  Result<PlanResult> full = FullPlan(request, *source, **snap, inventory);
  if (full.ok()) {
    spdlog::info("planned {} actions ({} unchanged) in {} ms", full->plan.actions.size(), full->plan.summary.unchanged,
                 env->NowMillis() - started);
  }
  return full;
}

// The no-op path: the commit is the one last applied completely, so the desired state is exactly
// the inventory's last-applied objects, and only objects whose live resourceVersion moved need a
// diff. Returns false (take the full path) whenever that premise does not hold.
Result<bool> Reconciler::Impl::TryFastPath(const SyncRequest& request, const SourceRecord& source,
                                           const std::string& commit,
                                           const std::map<ObjectRef, InventoryEntry>& inventory, PlanResult* out) {
  if (!request.prune || source.last_commit != commit || inventory.empty()) return false;
  std::vector<const InventoryEntry*> fleet_rows;
  std::map<std::string, std::vector<const InventoryEntry*>> per_cluster;
  for (const auto& [ref, e] : inventory) {
    if (e.pending || e.last_applied.empty()) return false;
    if (ref.cluster.empty()) {
      fleet_rows.push_back(&e);
    } else {
      per_cluster[ref.cluster].push_back(&e);
    }
  }
  Result<SpecSet> specs = SpecsFromInventory(fleet_rows);
  if (!specs.ok()) return false;
  Result<std::unique_ptr<FleetSession>> fs =
      FleetSession::Create(specs->clouds, specs->clusters, {}, registry, Context());
  if (!fs.ok()) return fs.status();
  session = std::move(fs).value();

  std::vector<Action> actions;
  int unchanged = 0;
  std::vector<InventoryEntry> refreshed;
  bool needs_git = false;
  // Diffs a row whose live version moved against its last-applied object (the desired state).
  auto diff_against_last = [&](const InventoryEntry& e, const Json* live) {
    Json last = Json::parse(e.last_applied);
    ObjectDiff d = DiffObject(&last, live, &last);
    InventoryEntry row = e;
    if (d.type == ChangeType::kUnchanged) {  // only status moved: remember the new version
      unchanged++;
      row.live_version = live ? ResourceVersionOf(*live) : "";
      row.drift = false;
      refreshed.push_back(std::move(row));
      return;
    }
    row.drift = true;
    refreshed.push_back(std::move(row));
    // The inventory keeps Secrets redacted: correcting one needs its real content from Git.
    if (IsSecret(last)) needs_git = true;
    Action a;
    a.type = d.type;
    a.ref = e.ref;
    a.api_version = e.api_version;
    a.desired = std::make_shared<Json>(std::move(last));
    a.diff = std::move(d.unified);
    actions.push_back(std::move(a));
  };

  for (const ClusterSpec& c : session->clusters()) {
    const InventoryEntry& row = inventory.at(FleetRef("Cluster", c.name));
    Result<Json> live = session->ProviderOfCloud(c.cloud)->GetCluster(c.name, Call(request.apply));
    if (!live.ok() && !live.status().IsNotFound()) return live.status().WithContext("cluster " + c.name);
    if (!live.ok() || std::string(PhaseOf(*live)) != "Running") return false;
    if (ResourceVersionOf(*live) == row.live_version) {
      unchanged++;
    } else {
      diff_against_last(row, &live.value());
    }
  }
  for (const auto& [cluster, entries] : per_cluster) {
    if (!session->ProviderOfCluster(cluster)) return false;
    Result<std::unique_ptr<ClusterConnector>> conn = session->Connect(cluster, Call(request.apply));
    if (!conn.ok()) return false;
    std::vector<ObjectKey> keys;
    for (const InventoryEntry* e : entries) keys.push_back(e->ref.key);
    Result<std::vector<std::string>> rvs = (*conn)->ResourceVersions(keys, Call(request.apply));
    if (!rvs.ok()) return false;  // the full path reports unreachable clusters
    std::vector<ObjectKey> moved_keys;
    std::vector<const InventoryEntry*> moved;
    for (size_t i = 0; i < entries.size(); i++) {
      if ((*rvs)[i] == entries[i]->live_version && !(*rvs)[i].empty()) {
        unchanged++;
      } else {
        moved_keys.push_back(entries[i]->ref.key);
        moved.push_back(entries[i]);
      }
    }
    if (moved.empty()) continue;
    Result<std::vector<std::optional<Json>>> live = (*conn)->GetMany(moved_keys, Call(request.apply));
    if (!live.ok()) return false;
    for (size_t i = 0; i < moved.size(); i++) {
      const auto& obj = (*live)[i];
      diff_against_last(*moved[i], obj ? &*obj : nullptr);
    }
  }
  if (needs_git) return false;
  if (may_write_cache && !refreshed.empty()) {
    Status cached = store->inventory()->Write({std::move(refreshed), {}});
    if (!cached.ok()) spdlog::warn("cannot remember the live versions just read: {}", cached.message());
  }
  Result<std::vector<Action>> ordered = OrderActions(std::move(actions));
  if (!ordered.ok()) return ordered.status();
  out->plan.actions = std::move(ordered).value();
  for (const Action& a : out->plan.actions) {
    if (a.type == ChangeType::kCreate) out->plan.summary.create++;
    if (a.type == ChangeType::kUpdate) out->plan.summary.update++;
    if (a.type == ChangeType::kDelete) out->plan.summary.del++;
  }
  out->plan.summary.unchanged = unchanged;
  out->fast_path = true;
  return true;
}

Result<PlanResult> Reconciler::Impl::FullPlan(const SyncRequest& request, const SourceRecord& source,
                                              const Snapshot& snap, std::map<ObjectRef, InventoryEntry>& inventory) {
  Result<Loaded> loaded = LoadSnapshot(snap);
  if (!loaded.ok()) return loaded.status();
  PlanResult out;
  out.url = RedactUrl(request.source.url);
  out.ref = request.source.ref;
  out.path = request.source.path;
  out.commit = loaded->commit;
  out.source_id = source.id;
  out.warnings = loaded->warnings;

  // Desired objects, keyed by where they go.
  std::map<ObjectRef, Desired> desired;
  std::set<std::string> desired_clusters;
  for (const ClusterSpec& c : loaded->specs.clusters) {
    Desired d{FleetRef("Cluster", c.name), kConvergeApiVersion, c.manifest.body, c.manifest.file, c.manifest.line};
    desired.emplace(d.ref, d);
    desired_clusters.insert(c.name);
  }
  for (const PlacedObject& p : loaded->placed) {
    Desired d{ObjectRef{p.cluster, p.manifest.key}, p.manifest.api_version, p.manifest.body, p.manifest.file,
              p.manifest.line};
    desired.emplace(d.ref, d);
  }

  // Clusters converge manages that Git dropped: their specs (and clouds) come from the inventory.
  std::set<std::string> desired_clouds;
  for (const CloudSpec& c : loaded->specs.clouds) desired_clouds.insert(c.name);
  bool any_removed = false;
  std::vector<const InventoryEntry*> fleet_rows;
  for (const auto& [ref, e] : inventory) {
    if (IsFleetKind(ref, "Cluster") || IsFleetKind(ref, "Cloud")) fleet_rows.push_back(&e);
    any_removed |= (IsFleetKind(ref, "Cluster") && !desired_clusters.count(ref.key.name));
  }
  std::vector<CloudSpec> clouds = loaded->specs.clouds;
  std::vector<ClusterSpec> removed_clusters;
  if (any_removed) {
    Result<SpecSet> old = SpecsFromInventory(fleet_rows);
    if (!old.ok()) return old.status().WithContext("reading the clusters converge manages");
    for (CloudSpec& c : old->clouds)
      if (!desired_clouds.count(c.name)) clouds.push_back(std::move(c));
    for (ClusterSpec& c : old->clusters)
      if (!desired_clusters.count(c.name)) removed_clusters.push_back(std::move(c));
  }
  Result<std::unique_ptr<FleetSession>> fs =
      FleetSession::Create(clouds, loaded->specs.clusters, removed_clusters, registry, Context());
  if (!fs.ok()) return fs.status();
  session = std::move(fs).value();

  std::vector<Action> actions;
  std::vector<InventoryEntry> cache_updates;
  int unchanged = 0;
  auto add = [&](const ObjectRef& ref, const Desired* d, const Json* live) {
    const InventoryEntry* inv = nullptr;
    if (auto it = inventory.find(ref); it != inventory.end()) inv = &it->second;
    JsonPtr last;
    if (inv && !inv->last_applied.empty()) last = std::make_shared<Json>(Json::parse(inv->last_applied));
    ObjectDiff diff = DiffObject(d ? d->body.get() : nullptr, live, last.get());
    bool same_desired = inv && d && !inv->pending && inv->desired_hash == DesiredHash(*d->body);
    if (diff.type == ChangeType::kUnchanged) {
      if (d) unchanged++;
      if (d && live && !same_desired) {
        InventoryEntry e;
        e.source_id = source.id;
        e.ref = ref;
        e.api_version = d->api_version;
        e.last_applied = RedactSecret(*d->body).dump();
        e.desired_hash = DesiredHash(*d->body);
        e.live_version = ResourceVersionOf(*live);
        HealthStatus h = AssessHealth(live);
        e.health = HealthName(h.health);
        e.health_message = h.message;
        e.updated_at = env->NowMillis();
        out.adopt.push_back(std::move(e));
      }
      if (same_desired && live && (inv->live_version != ResourceVersionOf(*live) || inv->drift)) {
        InventoryEntry e = *inv;
        e.live_version = ResourceVersionOf(*live);
        e.drift = false;
        cache_updates.push_back(std::move(e));
      }
      return;
    }
    if (same_desired && diff.type == ChangeType::kUpdate && !inv->drift) {
      InventoryEntry e = *inv;
      e.drift = true;
      cache_updates.push_back(std::move(e));
    }
    Action a;
    a.type = diff.type;
    a.ref = ref;
    a.api_version = d ? d->api_version : (inv ? inv->api_version : "");
    a.desired = d ? d->body : nullptr;
    a.diff = std::move(diff.unified);
    a.source_file = d ? d->file + ":" + std::to_string(d->line) : "";
    actions.push_back(std::move(a));
  };

  // Clusters.
  std::map<std::string, bool> cluster_ready;  // observed and reachable
  for (const ClusterSpec& c : session->clusters()) {
    Result<Json> live = session->ProviderOfCloud(c.cloud)->GetCluster(c.name, Call(request.apply));
    if (!live.ok() && !live.status().IsNotFound()) return live.status().WithContext("cluster " + c.name);
    const Desired& d = desired.at(FleetRef("Cluster", c.name));
    add(d.ref, &d, live.ok() ? &live.value() : nullptr);
    cluster_ready[c.name] = live.ok() && std::string(PhaseOf(*live)) != "Creating";
  }
  std::vector<std::pair<int64_t, ObjectRef>> forget;  // inventory rows whose object is gone everywhere
  for (const ClusterSpec& c : removed_clusters) {
    ObjectRef ref = FleetRef("Cluster", c.name);
    CloudProvider* provider = session->ProviderOfCloud(c.cloud);
    Result<Json> live =
        provider ? provider->GetCluster(c.name, Call(request.apply)) : Result<Json>(Status::NotFound(c.name));
    if (!live.ok()) {
      if (live.status().IsNotFound() && request.prune) forget.push_back({source.id, ref});
      continue;
    }
    if (!request.allow_destroy) {
      out.kept_clusters.push_back(c.name);
      out.warnings.push_back({"", 0, 0,
                              "cluster " + c.name +
                                  " is no longer declared in Git and is kept: run apply --allow-destroy to delete it"});
      continue;
    }
    if (request.prune) add(ref, nullptr, &live.value());
  }

  // Objects, per cluster: desired plus what the inventory says converge put there.
  std::map<std::string, std::vector<ObjectRef>> per_cluster;
  for (const auto& [ref, d] : desired)
    if (!ref.cluster.empty()) per_cluster[ref.cluster].push_back(ref);
  for (const auto& [ref, e] : inventory)
    if (!ref.cluster.empty() && !desired.count(ref)) per_cluster[ref.cluster].push_back(ref);

  std::set<std::string> kept(out.kept_clusters.begin(), out.kept_clusters.end());
  for (const auto& [cluster, refs] : per_cluster) {
    bool cluster_declared = desired_clusters.count(cluster) > 0;
    CloudProvider* provider = session->ProviderOfCluster(cluster);
    if (!cluster_declared && !provider) {
      // The cluster is gone (destroyed, or its row was lost): so are its objects.
      for (const ObjectRef& ref : refs) forget.push_back({source.id, ref});
      continue;
    }
    if (!cluster_declared && request.allow_destroy) continue;  // its objects go with it
    if (kept.count(cluster)) continue;  // a kept cluster keeps its workloads too
    if (cluster_declared && !cluster_ready[cluster]) {
      for (const ObjectRef& ref : refs) {  // the cluster is being created: everything is new
        auto d = desired.find(ref);
        if (d != desired.end()) add(ref, &d->second, nullptr);
      }
      continue;
    }
    Result<std::unique_ptr<ClusterConnector>> conn = session->Connect(cluster, Call(request.apply));
    std::vector<ObjectKey> keys;
    for (const ObjectRef& ref : refs) keys.push_back(ref.key);
    Result<std::vector<std::string>> rvs = Status::Unavailable("not connected");
    if (conn.ok()) {
      ApplyOptions retry = request.apply;
      retry.max_attempts = std::min(retry.max_attempts, 3);
      Status st = RetryWithBackoff(retry, env, [&] {
        rvs = (*conn)->ResourceVersions(keys, Call(request.apply));
        return rvs.status();
      });
      (void)st;
    }
    if (!conn.ok() || !rvs.ok()) {
      const Status& why = conn.ok() ? rvs.status() : conn.status();
      out.unreachable_clusters.push_back(cluster);
      out.warnings.push_back({"", 0, 0, "cluster " + cluster + " is unreachable (" + why.message() +
                                            "): its objects were not compared and will not be applied"});
      continue;
    }
    // Objects whose desired hash and live version match the inventory are unchanged: no diff.
    std::vector<ObjectKey> need_keys;
    std::vector<ObjectRef> need_refs;
    for (size_t i = 0; i < refs.size(); i++) {
      const ObjectRef& ref = refs[i];
      auto inv = inventory.find(ref);
      auto d = desired.find(ref);
      if (inv != inventory.end() && d != desired.end() && !inv->second.pending && !(*rvs)[i].empty() &&
          inv->second.live_version == (*rvs)[i] && inv->second.desired_hash == DesiredHash(*d->second.body)) {
        unchanged++;
        continue;
      }
      if (d == desired.end() && (*rvs)[i].empty()) {  // gone from Git and from the cluster
        if (request.prune) forget.push_back({source.id, ref});
        continue;
      }
      need_keys.push_back(ref.key);
      need_refs.push_back(ref);
    }
    if (need_keys.empty()) continue;
    Result<std::vector<std::optional<Json>>> live = (*conn)->GetMany(need_keys, Call(request.apply));
    if (!live.ok()) {
      out.unreachable_clusters.push_back(cluster);
      out.warnings.push_back({"", 0, 0, "cluster " + cluster + " is unreachable (" + live.status().message() +
                                            "): its objects were not compared and will not be applied"});
      continue;
    }
    for (size_t i = 0; i < need_refs.size(); i++) {
      auto d = desired.find(need_refs[i]);
      const auto& obj = (*live)[i];
      if (d == desired.end() && !request.prune) continue;
      add(need_refs[i], d == desired.end() ? nullptr : &d->second, obj ? &*obj : nullptr);
    }
  }
  if (may_write_cache && (!cache_updates.empty() || !forget.empty())) {
    Status cached = store->inventory()->Write({std::move(cache_updates), std::move(forget)});
    if (!cached.ok()) spdlog::warn("cannot remember the live versions just read: {}", cached.message());
  }

  Result<std::vector<Action>> ordered = OrderActions(std::move(actions));
  if (!ordered.ok()) return ordered.status();
  out.plan.actions = std::move(ordered).value();
  for (const Action& a : out.plan.actions) {
    if (a.type == ChangeType::kCreate) out.plan.summary.create++;
    if (a.type == ChangeType::kUpdate) out.plan.summary.update++;
    if (a.type == ChangeType::kDelete) out.plan.summary.del++;
  }
  out.plan.summary.unchanged = unchanged;
  return out;
}

Result<ApplyOutcome> Reconciler::Apply(const SyncRequest& request, ApplyObserver* observer) {
  Result<std::unique_ptr<StateLock>> lock = StateLock::Acquire(impl_->state_dir, false);
  if (!lock.ok()) return lock.status();
  Status interrupted = impl_->store->runs()->MarkInterrupted();
  if (!interrupted.ok()) spdlog::warn("cannot mark runs of ended processes interrupted: {}", interrupted.message());
  impl_->may_write_cache = true;

  std::map<ObjectRef, InventoryEntry> inventory;
  Result<PlanResult> planned = impl_->ComputePlan(request, &inventory);
  if (!planned.ok()) return planned.status();

  ApplyOutcome out;
  out.planned = std::move(planned).value();
  Result<int64_t> run = impl_->store->runs()->Begin(out.planned.source_id, "apply", out.planned.commit);
  if (!run.ok()) return run.status();
  out.run_id = *run;

  FleetSession* session = impl_->session.get();
  Status st;
  // From here until it succeeds, the inventory may hold a mix of two commits: the no-op path must
  // not trust it, whatever commit a later plan asks for.
  if (!out.planned.plan.empty() || !out.planned.adopt.empty()) {
    st = impl_->store->sources()->SetSynced(out.planned.source_id, "", 0);
  }
  for (const CloudSpec& cloud : session->clouds()) {
    if (!st.ok()) break;
    CloudProvider* p = session->ProviderOfCloud(cloud.name);
    st = RetryWithBackoff(request.apply, impl_->env, [&] { return p->EnsureCloud(impl_->Call(request.apply)); });
    if (!st.ok()) {
      st = st.WithContext("Cloud " + cloud.name);
      break;
    }
  }
  // Clouds are recorded before any cluster on them, so the inventory can always reach its clusters.
  // (The no-op path read the clouds back from the inventory: nothing to record.)
  bool record_clouds = !out.planned.fast_path;
  if (st.ok() && record_clouds) st = impl_->RecordClouds(out.planned.source_id, inventory, /*remove_missing=*/false);
  // Objects already as Git wants them are recorded as converge's own.
  if (st.ok() && !out.planned.adopt.empty()) st = impl_->store->inventory()->Write({out.planned.adopt, {}});
  if (st.ok()) {
    StoreRecorder recorder(impl_->store, impl_->env, out.planned.source_id, inventory);
    out.report = ExecutePlan(out.planned.plan, session->Targets(), request.apply, &recorder, observer, impl_->env);
    st = out.report.status;
  }
  if (st.ok() && record_clouds) st = impl_->RecordClouds(out.planned.source_id, inventory, /*remove_missing=*/true);
  if (st.ok() && !out.planned.unreachable_clusters.empty()) {
    std::string names;
    for (const auto& c : out.planned.unreachable_clusters) names += (names.empty() ? "" : ", ") + c;
    st = Status::Unavailable("not applied to unreachable clusters: " + names + "; run apply again once they are back");
  }
  // The no-op path trusts that the inventory is exactly this commit's desired state.
  if (st.ok() && request.prune && out.planned.kept_clusters.empty()) {
    Status s = impl_->store->sources()->SetSynced(out.planned.source_id, out.planned.commit, impl_->env->NowMillis());
    if (!s.ok()) st = s;
  }
  SyncRun record;
  record.id = out.run_id;
  record.source_id = out.planned.source_id;
  record.operation = "apply";
  record.commit = out.planned.commit;
  record.finished_at = impl_->env->NowMillis();
  record.result = st.ok() ? "succeeded" : "failed";
  record.message = st.ok() ? "" : st.message();
  for (const ActionResult& r : out.report.results) {
    if (r.outcome != ActionOutcome::kSucceeded) continue;
    if (r.action.type == ChangeType::kCreate) record.created++;
    if (r.action.type == ChangeType::kUpdate) record.updated++;
    if (r.action.type == ChangeType::kDelete) record.deleted++;
  }
  record.unchanged = out.planned.plan.summary.unchanged;
  Status fs = impl_->store->runs()->Finish(record);
  if (!fs.ok()) spdlog::warn("cannot record the sync run: {}", fs.message());
  Status ev = impl_->store->events()->Add(Event{0, impl_->env->NowMillis(), out.planned.source_id,
                                                st.ok() ? "info" : "error", st.ok() ? "Synced" : "SyncFailed", "",
                                                "commit " + out.planned.commit.substr(0, 12) + ": " +
                                                    (st.ok() ? "applied" : st.message())});
  if (!ev.ok()) spdlog::warn("cannot record the sync event: {}", ev.message());
  out.status = st;
  return out;
}

Result<FleetStatus> Reconciler::CurrentStatus() {
  Result<std::vector<InventoryEntry>> rows = impl_->store->inventory()->Load(0);
  if (!rows.ok()) return rows.status();
  FleetStatus out;
  std::vector<const InventoryEntry*> fleet_rows;
  std::map<std::string, std::vector<const InventoryEntry*>> per_cluster;
  for (const InventoryEntry& e : *rows) {
    if (e.ref.cluster.empty()) {
      if (!e.last_applied.empty()) fleet_rows.push_back(&e);
    } else {
      per_cluster[e.ref.cluster].push_back(&e);
    }
  }
  std::unique_ptr<FleetSession> session;
  if (!fleet_rows.empty()) {
    Result<SpecSet> specs = SpecsFromInventory(fleet_rows);
    if (!specs.ok()) return specs.status().WithContext("reading the recorded fleet");
    Result<std::unique_ptr<FleetSession>> fs =
        FleetSession::Create(specs->clouds, specs->clusters, {}, impl_->registry, impl_->Context());
    if (!fs.ok()) return fs.status();
    session = std::move(fs).value();
    for (const ClusterSpec& c : session->clusters()) {
      FleetStatus::ClusterRow row;
      row.name = c.name;
      row.cloud = c.cloud;
      Result<Json> live = session->ProviderOfCloud(c.cloud)->GetCluster(c.name, impl_->Call());
      if (!live.ok()) {
        row.phase = live.status().IsNotFound() ? "Missing" : "Unknown";
        row.message = live.status().message();
      } else {
        const Json& s = (*live)["status"];
        row.phase = s.value("phase", "");
        row.version = s.value("version", "");
        row.nodes = s.value("nodes", 0);
        row.ready_nodes = s.value("readyNodes", 0);
        row.message = s.value("message", "");
      }
      out.clusters.push_back(std::move(row));
    }
  }
  for (const auto& [cluster, entries] : per_cluster) {
    CloudProvider* provider = session ? session->ProviderOfCluster(cluster) : nullptr;
    std::vector<std::optional<Json>> live(entries.size());
    std::string error;
    if (!provider) {
      error = "cluster " + cluster + " is not known";
    } else {
      Result<std::unique_ptr<ClusterConnector>> conn = session->Connect(cluster, impl_->Call());
      std::vector<ObjectKey> keys;
      for (const InventoryEntry* e : entries) keys.push_back(e->ref.key);
      Result<std::vector<std::optional<Json>>> got =
          conn.ok() ? (*conn)->GetMany(keys, impl_->Call()) : Result<std::vector<std::optional<Json>>>(conn.status());
      if (got.ok()) {
        live = std::move(got).value();
      } else {
        error = got.status().message();
      }
    }
    for (size_t i = 0; i < entries.size(); i++) {
      const InventoryEntry& e = *entries[i];
      FleetStatus::ObjectRow row;
      row.cluster = cluster;
      row.api_version = e.api_version;
      row.kind = e.ref.key.kind;
      row.ns = e.ref.key.ns;
      row.name = e.ref.key.name;
      if (!error.empty()) {
        row.health = "Unknown";
        row.message = error;
        row.drift = e.drift;
      } else {
        const Json* obj = live[i] ? &*live[i] : nullptr;
        HealthStatus h = AssessHealth(obj);
        row.health = HealthName(h.health);
        row.message = h.message;
        if (!e.last_applied.empty()) {
          Json last = Json::parse(e.last_applied);
          row.drift = DiffObject(&last, obj, &last).type != ChangeType::kUnchanged;
        }
      }
      out.objects.push_back(std::move(row));
    }
  }
  Result<std::vector<SourceRecord>> sources = impl_->store->sources()->List();
  Result<std::vector<SyncRun>> runs = impl_->store->runs()->List(1000);
  if (sources.ok()) {
    for (const SourceRecord& s : *sources) {
      FleetStatus::LastSync ls;
      ls.url = s.url + (s.ref.empty() ? "" : "@" + s.ref) + (s.path.empty() ? "" : "//" + s.path);
      if (runs.ok()) {
        for (const SyncRun& r : *runs) {
          if (r.source_id != s.id) continue;
          ls.commit = r.commit;
          ls.result = r.result;
          ls.finished_at = r.finished_at;
          break;
        }
      }
      out.sources.push_back(std::move(ls));
    }
  }
  return out;
}

}  // namespace converge
