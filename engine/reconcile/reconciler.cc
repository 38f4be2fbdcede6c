#include "engine/reconcile/reconciler.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "engine/base/env.h"
#include "engine/base/hash.h"
#include "engine/base/secret_key.h"
#include "engine/diff/classify.h"
#include "engine/diff/diff.h"
#include "engine/health/health.h"
#include "engine/observe/fleet_session.h"
#include "engine/observe/observe.h"
#include "engine/reconcile/desired_state.h"
#include "engine/reconcile/recorders.h"
#include "engine/source/identity.h"
#include "providers/provider.h"

namespace converge {

PlannedSync::PlannedSync() = default;
PlannedSync::PlannedSync(PlannedSync&&) noexcept = default;
PlannedSync& PlannedSync::operator=(PlannedSync&&) noexcept = default;
PlannedSync::~PlannedSync() = default;

namespace {

constexpr int64_t kLeaseTtlMs = 60'000;

bool IsFleetKind(const ObjectRef& ref, const char* kind) {
  return ref.cluster.empty() && ref.key.group == kConvergeGroup && ref.key.kind == kind;
}

ObjectRef FleetRef(const char* kind, const std::string& name) {
  return ObjectRef{"", ObjectKey{kConvergeGroup, kind, "", name}};
}

// Placement depends on the Clusters' names and labels only: while they are what the last
// completely applied commit had, objects of unchanged files go where they went.
bool SamePlacementContext(const DesiredState& desired, const std::map<ObjectRef, InventoryEntry>& fleet_rows) {
  std::map<std::string, std::string> before, now;
  for (const auto& [ref, e] : fleet_rows) {
    if (!IsFleetKind(ref, "Cluster")) continue;
    Json body = Json::parse(e.last_applied, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object()) return false;
    before[ref.key.name] = body.value("metadata", Json::object()).value("labels", Json::object()).dump();
  }
  for (const ClusterSpec& c : desired.clusters) now[c.name] = Json(c.labels).dump();
  if (before.size() != now.size()) return false;
  for (const auto& [name, labels] : now) {
    auto it = before.find(name);
    if (it == before.end()) return false;
    Json a = Json::parse(it->second), b = Json::parse(labels);
    if (a.is_null()) a = Json::object();
    if (a != b) return false;
  }
  return true;
}

// What the Clusters and Clouds of other sources were when a plan placed onto them: their identity
// and desired hash. A change (a label, a new or dropped Cluster) sends the next plan through Git.
std::string FleetDigest(const std::vector<InventoryEntry>& others_fleet) {
  if (others_fleet.empty()) return "";
  std::string text;
  for (const InventoryEntry& e : others_fleet) text += e.ref.ToString() + "\t" + e.desired_hash + "\n";
  return Sha256Hex(text);
}

// One owner per object: what this plan would create, change or adopt must not be another
// source's. Conflict naming each such object, where it is declared and its owner; the plan is
// then refused as a whole, so nothing of the sync is applied.
Status CheckOwnership(Store* store, int64_t source_id, const PlannedSync& planned,
                      const std::map<ObjectRef, InventoryEntry>& fleet_rows) {
  std::vector<ObjectRef> refs;
  std::map<ObjectRef, std::string> where;
  for (const Action& a : planned.plan.actions) {
    if (a.type == ChangeType::kDelete) continue;
    refs.push_back(a.ref);
    where[a.ref] = a.source_file;
  }
  for (const InventoryEntry& e : planned.adopt) refs.push_back(e.ref);
  for (const CloudSpec& c : planned.clouds_from_git) {
    ObjectRef ref = FleetRef("Cloud", c.name);
    if (fleet_rows.count(ref)) continue;
    refs.push_back(ref);
    where[ref] = c.manifest.Where();
  }
  Result<std::map<ObjectRef, int64_t>> owners = store->inventory()->OwnersElsewhere(source_id, refs);
  if (!owners.ok()) return owners.status().WithContext("checking who manages the planned objects");
  if (owners->empty()) return Status::Ok();
  std::map<int64_t, std::string> sources;
  if (Result<std::vector<SourceRecord>> all = store->sources()->List(); all.ok()) {
    for (const SourceRecord& s : *all) sources[s.id] = DescribeSource(s);
  }
  std::string msg;
  int shown = 0;
  for (const auto& [ref, owner] : *owners) {
    if (++shown > 20) break;
    std::string w = where.count(ref) && !where[ref].empty() ? where[ref] + ": " : "";
    std::string what = ref.cluster.empty() ? ref.key.kind + " " + ref.key.name : ref.ToString();
    msg += (msg.empty() ? "" : "\n") + w + what + " is managed by source " + std::to_string(owner) +
           (sources.count(owner) ? " (" + sources[owner] + ")" : "");
  }
  if (owners->size() > 20) msg += "\n... and " + std::to_string(owners->size() - 20) + " more";
  msg += "\nan object has one owner: remove it from one of the two sources (or name it differently); nothing was applied";
  return Status::Conflict(msg);
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

// The planner's view of the inventory, over the store.
class StoreInventoryReader : public InventoryReader {
 public:
  StoreInventoryReader(Store* store, int64_t source_id) : store_(store), source_id_(source_id) {}
  Result<std::vector<InventoryEntry>> ClusterRows(const std::string& cluster) override {
    return store_->inventory()->LoadClusterIndex(source_id_, cluster);
  }
  Result<std::map<ObjectRef, std::string>> LastApplied(const std::vector<ObjectRef>& refs) override {
    return store_->inventory()->LoadLastApplied(source_id_, refs);
  }
  Result<std::vector<InventoryEntry>> RowsOf(const std::vector<ObjectRef>& refs) override {
    return store_->inventory()->LoadRefs(source_id_, refs);
  }
  Result<std::vector<InventoryEntry>> RowsOfBlobs(const std::string& cluster, const std::vector<std::string>& blobs) override {
    return store_->inventory()->LoadByBlobs(source_id_, cluster, blobs);
  }

 private:
  Store* store_;
  int64_t source_id_;
};

}  // namespace

struct Reconciler::Impl {
  Env* env;
  Store* store;
  const ProviderRegistry* registry;
  std::string state_dir;
  std::optional<SecretKey> secrets;

  ProviderContext Context() const { return ProviderContext{env, state_dir}; }

  // The state dir's key of Secret value tags, read (or created) on first use. A state dir that
  // cannot hold one gets a key of this process only: recorded Secrets then compare as changed.
  const SecretKey& Secrets() {
    if (!secrets) {
      Result<SecretKey> key = SecretKey::Open(state_dir, env);
      if (key.ok()) {
        secrets.emplace(std::move(key).value());
      } else {
        if (key.status().code() == Code::kCorrupt) {
          spdlog::warn("{}", key.status().message());
        } else {
          spdlog::info("{}; Secrets are compared with a key of this run only", key.status().message());
        }
        secrets.emplace(SecretKey::Ephemeral(env));
      }
    }
    return *secrets;
  }
  std::string CacheRoot() const { return state_dir + "/git"; }

  ObserveOptions Observation(const ApplyOptions& apply) const {
    ObserveOptions o;
    o.parallelism = std::max(1, apply.parallelism);
    o.retry = RetryPolicy{std::min(apply.max_attempts, 3), apply.backoff_initial_ms, apply.backoff_max_ms};
    o.call_timeout_ms = apply.call_timeout_ms;
    return o;
  }

  LeaseOwner Owner() const {
    LeaseOwner o;
    o.host = HostName();
    o.pid = env->ProcessId();
    char nonce[17];
    snprintf(nonce, sizeof(nonce), "%016llx", static_cast<unsigned long long>(env->RandomU64()));
    o.id = o.host + ":" + std::to_string(o.pid) + ":" + nonce;
    return o;
  }

  // The source `request` names, under its identity (engine/source/identity.h): `request` is
  // rewritten to fetch the normalized location. `take_ref` records request's ref as the source's
  // (an apply does; a plan only adds a source it has not seen).
  Result<SourceRecord> Register(SyncRequest* request, bool take_ref) {
    Result<SourceIdentity> id = IdentifySource(request->source.url, request->source.path);
    if (!id.ok()) return id.status();
    request->source.url = id->fetch_url;
    request->source.path = id->path;
    return store->sources()->Upsert(id->url, request->source.ref, id->path, take_ref);
  }

  Result<PlannedSync> Plan(const SyncRequest& request, const SourceRecord& source, bool may_write);
  Result<ApplyOutcome> Apply(PlannedSync planned, const ApplyOptions& options, const std::vector<ApplyObserver*>& observers,
                             LeaseKeeper* keeper);
};

Reconciler::Reconciler(Env* env, Store* store, const ProviderRegistry* registry, std::string state_dir)
    : impl_(std::make_unique<Impl>()) {
  impl_->env = env;
  impl_->store = store;
  impl_->registry = registry;
  impl_->state_dir = std::move(state_dir);
}

Reconciler::~Reconciler() = default;

Result<ValidateResult> Reconciler::Validate(const SourceSpec& source) {
  Result<std::unique_ptr<Snapshot>> snap = FetchSource(source, impl_->CacheRoot(), impl_->env);
  if (!snap.ok()) return snap.status();
  Result<DesiredState> desired =
      ReadDesiredFromGit(**snap, impl_->store->parse_cache(), impl_->store->file_results(), *impl_->registry,
                         impl_->Secrets());
  if (!desired.ok()) return desired.status();
  // Manifests may be placed onto Clusters other sources declare.
  Result<std::vector<InventoryEntry>> others_fleet = impl_->store->inventory()->LoadOthersFleet(0);
  if (!others_fleet.ok()) return others_fleet.status();
  CONVERGE_RETURN_IF_ERROR(AddFleetOfOthers(&*desired, *others_fleet));
  ValidateResult out;
  out.commit = desired->commit;
  out.specs.clouds = desired->clouds;
  out.specs.clusters = desired->clusters;
  out.specs.manifests = desired->manifests;
  CONVERGE_RETURN_IF_ERROR(Place(&*desired, {}, impl_->Secrets()));
  // Validation looks at everything: the files read from summaries count too.
  for (const FileSummary& f : desired->summarized) {
    for (const DocSummary& d : f.docs) {
      Manifest m;
      m.key = d.key;
      m.api_version = d.api_version;
      m.file = f.path;
      m.line = d.line;
      out.specs.manifests.push_back(std::move(m));
    }
  }
  out.warnings = desired->warnings;
  // Ordering annotations (sync waves, depends-on and their cycles) are part of validity too.
  std::vector<Action> actions;
  for (const auto& [ref, d] : desired->objects) {
    if (ref.cluster.empty()) continue;
    out.placed_objects++;
    Result<JsonPtr> body = desired->Body(d);
    if (!body.ok()) return body.status();
    Action a;
    a.ref = ref;
    a.api_version = d.api_version;
    a.desired = *body;
    a.source_file = d.Where();
    actions.push_back(std::move(a));
  }
  // Every placed object is an action here: an entry naming none of them names nothing.
  Result<std::vector<Action>> ordered =
      OrderActions(std::move(actions), [](const std::string&, const ObjectKey&) { return false; });
  if (!ordered.ok()) return ordered.status();
  return out;
}

Result<PlannedSync> Reconciler::ComputePlan(const SyncRequest& typed) {
  SyncRequest request = typed;
  Result<SourceRecord> source = impl_->Register(&request, /*take_ref=*/false);
  if (!source.ok()) return source.status();
  // The observation cache is written only by the holder of the source's lease, so a plan never
  // writes over a running apply's rows. Without it the plan is read-only.
  LeaseOwner owner = impl_->Owner();
  Result<Lease> lease = impl_->store->sources()->AcquireLease(source->id, owner, kLeaseTtlMs, impl_->env->NowMillis());
  Result<PlannedSync> planned = impl_->Plan(request, *source, lease.ok());
  if (lease.ok()) {
    Status released = impl_->store->sources()->ReleaseLease(source->id, owner);
    if (!released.ok() && planned.ok()) return released.WithContext("releasing the lease on source " + source->url);
  }
  return planned;
}

Result<ApplyOutcome> Reconciler::Sync(const SyncRequest& typed, const std::vector<ApplyObserver*>& observers) {
  SyncRequest request = typed;
  Result<SourceRecord> source = impl_->Register(&request, /*take_ref=*/true);
  if (!source.ok()) return source.status();
  LeaseOwner owner = impl_->Owner();
  Result<Lease> lease = impl_->store->sources()->AcquireLease(source->id, owner, kLeaseTtlMs, impl_->env->NowMillis());
  if (!lease.ok()) return lease.status();
  Result<ApplyOutcome> out = Status::Internal("not run");
  Result<PlannedSync> planned = impl_->Plan(request, *source, /*may_write=*/true);
  if (!planned.ok()) {
    out = planned.status();
  } else {
    ApplyOptions options = request.apply;
    LeaseKeeper keeper(impl_->store, impl_->env, *lease, kLeaseTtlMs, options.stop);
    out = impl_->Apply(std::move(planned).value(), options, observers, &keeper);
  }
  Status released = impl_->store->sources()->ReleaseLease(source->id, owner);
  if (!released.ok() && out.ok() && out->status.ok()) {
    out->status = released.WithContext("releasing the lease on source " + source->url);
  }
  return out;
}

Result<ApplyOutcome> Reconciler::Apply(PlannedSync planned, const ApplyOptions& options,
                                       const std::vector<ApplyObserver*>& observers) {
  return impl_->Apply(std::move(planned), options, observers, nullptr);
}

Result<PlannedSync> Reconciler::Impl::Plan(const SyncRequest& request, const SourceRecord& source, bool may_write) {
  Result<std::unique_ptr<Snapshot>> snap = FetchSource(request.source, CacheRoot(), env);
  if (!snap.ok()) return snap.status();
  const int64_t started = env->MonotonicMillis();

  PlannedSync out;
  out.url = source.url;
  out.ref = request.source.ref;
  out.path = request.source.path;
  out.commit = (*snap)->commit();
  out.source_id = source.id;
  out.prune = request.prune;
  spdlog::info("source {} resolved to commit {} ({} spec files)", out.url, out.commit, (*snap)->files().size());

  Result<std::vector<InventoryEntry>> fleet = store->inventory()->LoadFleet(source.id);
  if (!fleet.ok()) return fleet.status();
  std::map<ObjectRef, InventoryEntry> fleet_rows;
  for (const InventoryEntry& e : *fleet) fleet_rows.emplace(e.ref, e);
  Result<std::vector<ClusterMarker>> marker_rows = store->inventory()->LoadMarkers(source.id);
  if (!marker_rows.ok()) return marker_rows.status();
  std::map<std::string, ClusterMarker> markers;
  for (const ClusterMarker& m : *marker_rows) markers[m.cluster] = m;

  // Clusters other sources declare may receive this source's objects.
  Result<std::vector<InventoryEntry>> others_fleet = store->inventory()->LoadOthersFleet(source.id);
  if (!others_fleet.ok()) return others_fleet.status();
  out.fleet_digest = FleetDigest(*others_fleet);
  const bool same_fleet = source.fleet_digest == out.fleet_digest;

  // The no-op path: this commit was applied completely (and the other sources' Clusters are as
  // they were then), so the inventory is its desired state. Pending rows never take it (one
  // index lookup says whether there are any).
  bool from_inventory = request.prune && source.last_commit == out.commit && same_fleet;
  for (const auto& [ref, e] : fleet_rows) from_inventory = from_inventory && !e.pending && !e.last_applied.empty();
  if (from_inventory) {
    Result<bool> pending = store->inventory()->HasPending(source.id);
    if (!pending.ok()) return pending.status();
    from_inventory = !*pending;
  }
  // A delta read: a new commit on top of one applied completely, every row knowing its file.
  // Only the files that changed are read, and only the rows they (and files that are gone) touch.
  std::unique_ptr<Snapshot> previous;
  if (!from_inventory && request.prune && !source.last_commit.empty() && source.last_commit != out.commit &&
      same_fleet) {
    Result<bool> pending = store->inventory()->HasPending(source.id);
    Result<bool> unknown = store->inventory()->HasRowsWithoutBlob(source.id);
    if (!pending.ok()) return pending.status();
    if (!unknown.ok()) return unknown.status();
    if (!*pending && !*unknown) {
      SourceSpec before = request.source;
      before.ref = source.last_commit;  // in the cache already: no network
      Result<std::unique_ptr<Snapshot>> snap_before = FetchSource(before, CacheRoot(), env);
      if (snap_before.ok()) {
        previous = std::move(snap_before).value();
      } else {
        spdlog::info("reading every file: the last applied commit is not at hand ({})", snap_before.status().message());
      }
    }
  }
  // Per-cluster counts read every row's key: the no-op path and delta reads go by the markers.
  std::map<std::string, ClusterSummary> summaries;
  auto count_rows = [&]() -> Status {
    Result<std::map<std::string, ClusterSummary>> s = store->inventory()->Summaries(source.id);
    if (!s.ok()) return s.status();
    summaries = std::move(s).value();
    return Status::Ok();
  };
  if (!from_inventory && !previous) CONVERGE_RETURN_IF_ERROR(count_rows());

  for (;;) {
    Result<DesiredState> desired =
        from_inventory ? ReadDesiredFromInventory(out.commit, *fleet)
                       : ReadDesiredFromGit(**snap, store->parse_cache(), store->file_results(), *registry,
                                            Secrets(), previous ? &previous->files() : nullptr);
    if (!desired.ok()) return desired.status();
    CONVERGE_RETURN_IF_ERROR(AddFleetOfOthers(&*desired, *others_fleet));
    if (desired->delta && !SamePlacementContext(*desired, fleet_rows)) {
      previous.reset();  // the Clusters changed: every object may go elsewhere
      CONVERGE_RETURN_IF_ERROR(count_rows());
      continue;
    }
    // Clusters converge manages that Git dropped: their specs (and clouds) come from the inventory.
    std::set<std::string> desired_clusters, desired_clouds;
    for (const ClusterSpec& c : desired->clusters) desired_clusters.insert(c.name);
    for (const CloudSpec& c : desired->clouds) desired_clouds.insert(c.name);
    bool any_removed = false;
    for (const auto& [ref, e] : fleet_rows) any_removed |= IsFleetKind(ref, "Cluster") && !desired_clusters.count(ref.key.name);
    std::vector<CloudSpec> clouds = desired->clouds;
    std::vector<ClusterSpec> removed;
    if (any_removed) {
      Result<DesiredState> old = ReadDesiredFromInventory(out.commit, *fleet);
      if (!old.ok()) return old.status().WithContext("reading the clusters converge manages");
      for (CloudSpec& c : old->clouds)
        if (!desired_clouds.count(c.name)) clouds.push_back(std::move(c));
      for (ClusterSpec& c : old->clusters)
        if (!desired_clusters.count(c.name)) removed.push_back(std::move(c));
    }
    out.others_clouds.clear();
    for (const CloudSpec& c : desired->fleet_clouds) {
      clouds.push_back(c);
      out.others_clouds.insert(c.name);
    }
    Result<std::unique_ptr<FleetSession>> session =
        FleetSession::Create(clouds, desired->PlacementClusters(), removed, registry, Context());
    if (!session.ok()) return session.status();

    Observer observer(session->get(), env, Observation(request.apply));
    std::vector<std::string> names;
    for (const ClusterSpec& c : desired->PlacementClusters()) names.push_back(c.name);
    for (const ClusterSpec& c : removed) names.push_back(c.name);
    std::map<std::string, ClusterLive> live = observer.Clusters(names, /*markers=*/true);
    CONVERGE_RETURN_IF_ERROR(Place(&*desired, live, Secrets()));

    PlannerInput in;
    in.source_id = source.id;
    in.prune = request.prune;
    in.allow_destroy = request.allow_destroy;
    in.desired = &*desired;
    in.fleet_rows = &fleet_rows;
    in.summaries = &summaries;
    in.markers = &markers;
    in.clusters = &live;
    in.removed = &removed;
    in.secrets = &Secrets();
    StoreInventoryReader reader(store, source.id);
    Result<PlannerOutput> planned = PlanSync(in, &observer, session->get(), &reader, env);
    if (!planned.ok()) return planned.status();
    if (planned->needs_full_read && (from_inventory || desired->delta)) {
      from_inventory = false;
      previous.reset();
      CONVERGE_RETURN_IF_ERROR(count_rows());
      continue;
    }
    out.plan = std::move(planned->plan);
    out.warnings = std::move(desired->warnings);
    for (Diagnostic& d : planned->warnings) out.warnings.push_back(std::move(d));
    out.unreachable_clusters = std::move(planned->unreachable_clusters);
    out.kept_clusters = std::move(planned->kept_clusters);
    out.adopt = std::move(planned->adopt);
    out.cache = std::move(planned->cache);
    out.rows = std::move(planned->rows);
    out.fast_path = from_inventory;
    out.delta_read = desired->delta;
    out.session = std::move(session).value();
    if (!from_inventory) out.clouds_from_git = desired->clouds;
    break;
  }
  CONVERGE_RETURN_IF_ERROR(CheckOwnership(store, source.id, out, fleet_rows));

  Result<std::vector<OperationRecord>> open = store->operations()->ListOpen(source.id);
  if (!open.ok()) return open.status();
  for (const OperationRecord& r : *open) {
    out.unfinished_operations[r.cluster].push_back(Operation{r.id, r.cluster, r.kind});
  }
  if (may_write && !out.cache.empty()) {
    CONVERGE_RETURN_IF_ERROR(store->inventory()->Write(out.cache).WithContext("recording what the plan observed"));
    out.cache_written = true;
  }
  spdlog::info("{}: {} actions, {} unchanged, in {} ms",
               out.fast_path ? "no-op path" : previous ? "planned from the changed files" : "planned",
               out.plan.actions.size(), out.plan.summary.unchanged, env->MonotonicMillis() - started);
  return out;
}

Result<ApplyOutcome> Reconciler::Impl::Apply(PlannedSync planned, const ApplyOptions& options,
                                             const std::vector<ApplyObserver*>& caller_observers, LeaseKeeper* keeper) {
  // The caller holds the source's lease: no run of this source can still be going.
  CONVERGE_RETURN_IF_ERROR(store->runs()->MarkInterrupted(planned.source_id));
  ApplyOutcome out;
  Result<int64_t> run = store->runs()->Begin(planned.source_id, "apply", planned.commit);
  if (!run.ok()) return run.status();
  out.run_id = *run;
  const int64_t source_id = planned.source_id;
  const std::string commit = planned.commit;
  FleetSession* session = planned.session.get();

  Status st;
  // From here until it succeeds, the inventory may hold a mix of two commits: the no-op path must
  // not trust it, whatever commit a later plan asks for.
  if (!planned.plan.empty() || !planned.adopt.empty()) st = store->sources()->SetSynced(source_id, "", 0);
  for (const CloudSpec& cloud : session->clouds()) {
    if (!st.ok()) break;
    if (planned.others_clouds.count(cloud.name)) continue;  // another source's to ensure
    CloudProvider* p = session->ProviderOfCloud(cloud.name);
    st = RetryWithBackoff(options.retry(), env, [&] { return p->EnsureCloud(CallOptions{}); });
    if (!st.ok()) st = st.WithContext("Cloud " + cloud.name);
  }
  // Clouds are recorded before any cluster on them, so the inventory can always reach its clusters.
  // Objects already as Git wants them are recorded as converge's own; the plan's observations
  // are written unless the plan did so.
  if (st.ok()) {
    InventoryBatch batch;
    for (const CloudSpec& c : planned.clouds_from_git) {
      InventoryEntry e;
      e.source_id = source_id;
      e.ref = FleetRef("Cloud", c.name);
      e.api_version = kConvergeApiVersion;
      e.last_applied = c.manifest.body->dump();
      e.desired_hash = DesiredHash(*c.manifest.body, Secrets());
      e.health = "Healthy";
      e.updated_at = env->NowMillis();
      batch.upserts.push_back(std::move(e));
    }
    for (InventoryEntry& e : planned.adopt) batch.upserts.push_back(e);
    st = store->inventory()->Write(batch).WithContext("recording clouds and adopted objects");
  }
  if (st.ok() && !planned.cache_written && !planned.cache.empty()) {
    st = store->inventory()->Write(planned.cache).WithContext("recording what the plan observed");
  }
  if (st.ok()) {
    InventoryRecorder inventory(store, env, source_id, &Secrets());
    RunLogRecorder run_log(store, out.run_id);
    EventRecorder events(store, env, source_id);
    std::vector<ApplyObserver*> observers = {&inventory, &run_log, &events};
    if (keeper) observers.push_back(keeper);
    observers.insert(observers.end(), caller_observers.begin(), caller_observers.end());
    FleetTargets targets;
    for (const ClusterSpec& c : session->clusters()) {
      targets.clusters[c.name] = &c;
      if (CloudProvider* p = session->ProviderOfCloud(c.cloud)) targets.provider_of_cluster[c.name] = p;
    }
    for (const ClusterSpec& c : session->removed())
      if (CloudProvider* p = session->ProviderOfCloud(c.cloud)) targets.provider_of_cluster[c.name] = p;
    targets.connect = [session](const std::string& cluster, const CallOptions& o) { return session->Connector(cluster, o); };
    targets.unfinished_operations = planned.unfinished_operations;
    out.report = ExecutePlan(planned.plan, targets, options, observers, env);
    st = out.report.status;
    if (keeper && !keeper->status().ok()) st = keeper->status();
  }
  // After a complete apply, Clouds Git no longer declares are forgotten.
  if (st.ok() && !planned.fast_path) {
    std::set<std::string> desired;
    for (const CloudSpec& c : planned.clouds_from_git) desired.insert(c.name);
    Result<std::vector<InventoryEntry>> fleet = store->inventory()->LoadFleet(source_id);
    if (!fleet.ok()) st = fleet.status();
    InventoryBatch batch;
    if (fleet.ok()) {
      for (const InventoryEntry& e : *fleet)
        if (IsFleetKind(e.ref, "Cloud") && !desired.count(e.ref.key.name)) batch.deletes.push_back({source_id, e.ref});
    }
    if (st.ok() && !batch.deletes.empty()) st = store->inventory()->Write(batch);
  }
  if (st.ok() && !planned.unreachable_clusters.empty()) {
    std::string names;
    for (const auto& c : planned.unreachable_clusters) names += (names.empty() ? "" : ", ") + c;
    st = Status::Unavailable("not applied to unreachable clusters: " + names + "; run apply again once they are back");
  }
  // The no-op path trusts that the inventory is exactly this commit's desired state.
  if (st.ok() && planned.prune && planned.kept_clusters.empty()) {
    st = store->sources()->SetSynced(source_id, commit, env->NowMillis(), planned.fleet_digest);
  }
  SyncRun record;
  record.id = out.run_id;
  record.source_id = source_id;
  record.operation = "apply";
  record.commit = commit;
  record.finished_at = env->NowMillis();
  record.result = st.ok() ? "succeeded" : out.report.interrupted ? "interrupted" : "failed";
  record.message = st.ok() ? "" : st.message();
  for (const ActionResult& r : out.report.results) {
    if (r.outcome != ActionOutcome::kSucceeded) continue;
    if (r.action.type == ChangeType::kCreate) record.created++;
    if (r.action.type == ChangeType::kUpdate) record.updated++;
    if (r.action.type == ChangeType::kDelete) record.deleted++;
  }
  record.unchanged = planned.plan.summary.unchanged;
  Status finished = store->runs()->Finish(record);
  Status logged = store->events()->Add(Event{0, env->NowMillis(), source_id, st.ok() ? "info" : "error",
                                            st.ok() ? "Synced" : "SyncFailed", "",
                                            "commit " + commit.substr(0, 12) + ": " + (st.ok() ? "applied" : st.message())});
  if (st.ok() && !finished.ok()) st = finished.WithContext("recording the sync run");
  if (st.ok() && !logged.ok()) st = logged.WithContext("recording the sync event");
  out.status = st;
  out.planned = std::move(planned);
  return out;
}

Result<FleetStatus> Reconciler::CurrentStatus() {
  Store* store = impl_->store;
  Result<std::vector<InventoryEntry>> rows = store->inventory()->Load(0);
  if (!rows.ok()) return rows.status();
  FleetStatus out;
  std::vector<InventoryEntry> fleet_rows;
  std::map<std::string, std::vector<const InventoryEntry*>> per_cluster;
  for (const InventoryEntry& e : *rows) {
    if (e.ref.cluster.empty()) {
      if (!e.last_applied.empty()) fleet_rows.push_back(e);
    } else {
      per_cluster[e.ref.cluster].push_back(&e);
    }
  }
  // `status` shows what is recorded and never fails because of it: a fleet that cannot be read
  // back (or reached) is reported on every row it concerns.
  std::unique_ptr<FleetSession> session;
  std::string fleet_error;
  if (!fleet_rows.empty()) {
    Result<DesiredState> specs = ReadDesiredFromInventory("", fleet_rows);
    Result<std::unique_ptr<FleetSession>> fs =
        specs.ok() ? FleetSession::Create(specs->clouds, specs->clusters, {}, impl_->registry, impl_->Context())
                   : Result<std::unique_ptr<FleetSession>>(specs.status());
    if (fs.ok()) {
      session = std::move(fs).value();
    } else {
      fleet_error = "the recorded fleet cannot be read back: " + fs.status().message();
    }
  }
  ObserveOptions options;
  std::unique_ptr<Observer> observer = session ? std::make_unique<Observer>(session.get(), impl_->env, options) : nullptr;
  if (session) {
    std::vector<std::string> names;
    for (const ClusterSpec& c : session->clusters()) names.push_back(c.name);
    std::map<std::string, ClusterLive> live = observer->Clusters(names, /*markers=*/false);
    for (const ClusterSpec& c : session->clusters()) {
      FleetStatus::ClusterRow row;
      row.name = c.name;
      row.cloud = c.cloud;
      const ClusterLive& l = live[c.name];
      if (!l.reachable.ok()) {
        row.phase = "Unknown";
        row.message = l.reachable.message();
      } else if (!l.cluster) {
        row.phase = "Missing";
        row.message = "cluster " + c.name + " does not exist on cloud " + c.cloud;
      } else {
        const Json& s = l.cluster->value("status", Json::object());
        row.phase = l.phase;
        row.version = s.value("version", "");
        row.nodes = l.nodes;
        row.ready_nodes = l.ready_nodes;
        row.message = s.value("message", "");
      }
      out.clusters.push_back(std::move(row));
    }
  }
  for (const auto& [cluster, entries] : per_cluster) {
    std::vector<std::optional<Json>> live(entries.size());
    std::string error;
    if (!fleet_error.empty()) {
      error = fleet_error;
    } else if (!session || !session->ProviderOfCluster(cluster)) {
      error = "cluster " + cluster + " is not known";
    } else {
      std::vector<ObjectKey> keys;
      for (const InventoryEntry* e : entries) keys.push_back(e->ref.key);
      Result<std::vector<std::optional<Json>>> got = observer->Bodies(cluster, keys);
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
          row.drift = DiffObject(&last, obj, &last, impl_->Secrets()).type != ChangeType::kUnchanged;
        }
      }
      out.objects.push_back(std::move(row));
    }
  }
  // `status` shows what is recorded and never fails because of it.
  Result<std::vector<SourceRecord>> sources = store->sources()->List();
  Result<std::vector<SyncRun>> runs = store->runs()->List(1000);
  if (sources.ok()) {
    for (const SourceRecord& s : *sources) {
      FleetStatus::LastSync ls;
      ls.url = DescribeSource(s);
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
