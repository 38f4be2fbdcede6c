#include "engine/reconcile/planner.h"

#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "engine/base/env.h"
#include "engine/diff/classify.h"
#include "engine/health/health.h"
#include "engine/observe/fleet_session.h"
#include "engine/reconcile/custom_kinds.h"

namespace converge {
namespace {

ObjectRef FleetRef(const char* kind, const std::string& name) {
  return ObjectRef{"", ObjectKey{kConvergeGroup, kind, "", name}};
}

Recorded RecordedOf(const InventoryEntry& e, const Json* last_applied) {
  Recorded r;
  r.desired_hash = e.desired_hash;
  r.live_version = e.live_version;
  r.last_applied = last_applied;
  r.pending = e.pending;
  r.drift = e.drift;
  return r;
}

class Planning {
 public:
  Planning(const PlannerInput& in, Observer* observer, FleetSession* session, InventoryReader* inventory, Env* env)
      : in_(in), observer_(observer), session_(session), inventory_(inventory), env_(env) {}

  Result<PlannerOutput> Run() {
    CONVERGE_RETURN_IF_ERROR(PlanClusters());
    std::set<std::string> names;
    for (const auto& [ref, d] : in_.desired->objects)
      if (!ref.cluster.empty()) names.insert(ref.cluster);
    for (const auto& [cluster, summary] : *in_.summaries)
      if (summary.rows > 0) names.insert(cluster);
    for (const auto& [cluster, marker] : *in_.markers) names.insert(cluster);
    for (const ClusterSpec& c : in_.desired->clusters) names.insert(c.name);
    for (const std::string& cluster : names) {
      CONVERGE_RETURN_IF_ERROR(PlanObjects(cluster));
      if (out_.needs_full_read) return std::move(out_);
    }
    // A depends-on entry must name an object declared for its cluster. On the no-op path nothing
    // was read (the entries were checked when their files were); on a delta read the objects of
    // unchanged files are their inventory rows, read only when an entry names none of the others.
    std::set<std::tuple<std::string, std::string, std::string, std::string>> declared;
    std::set<std::string> rows_read;
    bool indexed = false;
    auto is_declared = [&](const std::string& cluster, const ObjectKey& key) {
      if (in_.desired->from_inventory) return true;
      if (!indexed) {
        for (const auto& [ref, d] : in_.desired->objects) declared.emplace(ref.cluster, ref.key.kind, ref.key.ns, ref.key.name);
        indexed = true;
      }
      if (declared.count({cluster, key.kind, key.ns, key.name})) return true;
      if (!in_.desired->delta || !rows_read.insert(cluster).second) return false;
      Result<std::vector<InventoryEntry>> rows = inventory_->ClusterRows(cluster);
      if (!rows.ok()) return true;  // cannot tell: the entry is trusted, as before
      for (const InventoryEntry& e : *rows)
        if (Implied(&e)) declared.emplace(cluster, e.ref.key.kind, e.ref.key.ns, e.ref.key.name);
      return declared.count({cluster, key.kind, key.ns, key.name}) > 0;
    };
    Result<std::vector<Action>> ordered = OrderActions(std::move(actions_), is_declared);
    if (!ordered.ok()) return ordered.status();
    out_.plan.actions = std::move(ordered).value();
    for (const Action& a : out_.plan.actions) {
      if (a.type == ChangeType::kCreate) out_.plan.summary.create++;
      if (a.type == ChangeType::kUpdate) out_.plan.summary.update++;
      if (a.type == ChangeType::kDelete) out_.plan.summary.del++;
    }
    out_.plan.summary.unchanged = unchanged_;
    return std::move(out_);
  }

 private:
  const ClusterLive* Live(const std::string& cluster) const {
    auto it = in_.clusters->find(cluster);
    return it == in_.clusters->end() ? nullptr : &it->second;
  }

  // Whether a row stands for its own desired state: always on the no-op path; on a delta read
  // when it came from a file the read skipped (one this commit still has, unchanged).
  bool Implied(const InventoryEntry* row) const {
    if (!row) return false;
    if (in_.desired->from_inventory) return true;
    return in_.desired->delta && in_.desired->unchanged_blobs.count(row->blob_id) > 0;
  }

  const InventoryEntry* FleetRow(const ObjectRef& ref) const {
    auto it = in_.fleet_rows->find(ref);
    return it == in_.fleet_rows->end() ? nullptr : &it->second;
  }

  void Unreachable(const std::string& cluster, const Status& why) {
    out_.unreachable_clusters.push_back(cluster);
    out_.warnings.push_back({"", 0, 0, "cluster " + cluster + " is unreachable (" + why.message() +
                                           "): its objects were not compared and will not be applied"});
    out_.cache.clear_markers.push_back({in_.source_id, cluster});
  }

  // Applies one classification: an action, an adoption, a cache update, or nothing.
  void Decide(const ObjectRef& ref, const DesiredObject* d, const JsonPtr& desired_body, const Json* live,
              const std::string& live_version, const InventoryEntry* row, const Json* last_applied, bool* changed) {
    Recorded recorded;
    if (row) recorded = RecordedOf(*row, last_applied);
    Classification c =
        Classify(desired_body.get(), d ? d->hash : "", live, live_version, row ? &recorded : nullptr, in_.prune,
                 *in_.secrets);
    switch (c.decision) {
      case Decision::kUnchanged:
        if (d) unchanged_++;
        if (d && row && !d->blob_id.empty() && d->blob_id != row->blob_id && d->file != kInventoryFile) {
          out_.cache.observed.push_back({in_.source_id, ref, live_version, row->drift, d->blob_id});
        }
        return;
      case Decision::kRefresh: {
        unchanged_++;
        out_.cache.observed.push_back(
            {in_.source_id, ref, live_version, false, d && d->blob_id != row->blob_id ? d->blob_id : ""});
        return;
      }
      case Decision::kAdopt: {
        unchanged_++;
        InventoryEntry e;
        e.source_id = in_.source_id;
        e.ref = ref;
        e.api_version = d->api_version;
        e.last_applied = RedactSecret(*desired_body, *in_.secrets).dump();  // Secret values never reach the store
        e.desired_hash = d->hash;
        e.blob_id = d->blob_id;
        e.live_version = live_version;
        HealthStatus h = AssessHealth(live);
        e.health = HealthName(h.health);
        e.health_message = h.message;
        e.updated_at = env_->NowMillis();
        out_.adopt.push_back(std::move(e));
        *changed = true;  // the row does not match until apply rewrites it
        return;
      }
      case Decision::kForget:
        out_.cache.deletes.push_back({in_.source_id, ref});
        decide_forgot_[ref.cluster]++;
        return;
      case Decision::kCreate:
      case Decision::kUpdate:
      case Decision::kDelete:
        break;
    }
    // An action caused by Git alone leaves the cluster matching its rows (the marker stays); one
    // whose row no longer matches the live object (drift, a deleted object, a pending row) does not.
    if (row && (row->pending || !live || live_version != row->live_version)) *changed = true;
    if (c.drift && row && !row->drift) out_.cache.observed.push_back({in_.source_id, ref, row->live_version, true, ""});
    Action a;
    a.type = c.decision == Decision::kCreate ? ChangeType::kCreate
             : c.decision == Decision::kUpdate ? ChangeType::kUpdate
                                               : ChangeType::kDelete;
    a.ref = ref;
    a.api_version = d ? d->api_version : (row ? row->api_version : "");
    if (d && desired_body) a.desired = desired_body;
    a.diff = std::move(c.diff.unified);
    a.cause = c.cause;
    a.source_file = d && d->file != kInventoryFile ? d->Where() : "";
    a.blob_id = d ? d->blob_id : "";
    if (row) out_.rows[ref] = *row;
    actions_.push_back(std::move(a));
  }

  Status PlanClusters() {
    for (const ClusterSpec& c : in_.desired->clusters) {
      const ClusterLive* live = Live(c.name);
      if (!live || !live->reachable.ok()) {
        return live ? live->reachable : Status::Internal("cluster " + c.name + " was not observed");
      }
      ObjectRef ref = FleetRef("Cluster", c.name);
      const DesiredObject& d = in_.desired->objects.at(ref);
      const InventoryEntry* row = FleetRow(ref);
      std::optional<Json> last;
      if (row && !row->last_applied.empty()) last = Json::parse(row->last_applied);
      bool changed = false;
      Decide(ref, &d, d.body, live->cluster.get(), live->resource_version, row, last ? &*last : nullptr, &changed);
    }
    for (const ClusterSpec& c : *in_.removed) {
      ObjectRef ref = FleetRef("Cluster", c.name);
      const ClusterLive* live = Live(c.name);
      if (!live || !live->reachable.ok()) {
        Unreachable(c.name, live ? live->reachable : Status::Unavailable("not observed"));
        removed_.insert(c.name);
        continue;
      }
      if (!live->cluster) {  // gone already: so are its objects
        if (in_.prune) {
          out_.cache.deletes.push_back({in_.source_id, ref});
          gone_.insert(c.name);
        }
        removed_.insert(c.name);
        continue;
      }
      removed_.insert(c.name);
      if (!in_.allow_destroy) {
        out_.kept_clusters.push_back(c.name);
        out_.warnings.push_back(
            {"", 0, 0,
             "cluster " + c.name + " is no longer declared in Git and is kept: run apply --allow-destroy to delete it"});
        continue;
      }
      if (!in_.prune) continue;
      if (const Json::json_pointer protection("/spec/deletionProtection");
          live->cluster->contains(protection) && live->cluster->at(protection) == true) {
        out_.warnings.push_back({"", 0, 0,
                                 "cluster " + c.name + " has deletionProtection, so its cloud will refuse to delete it: "
                                 "declare it again with spec.deletionProtection: false, apply, then remove it"});
      }
      const InventoryEntry* row = FleetRow(ref);
      bool changed = false;
      Decide(ref, nullptr, nullptr, live->cluster.get(), live->resource_version, row, nullptr, &changed);
    }
    return Status::Ok();
  }

  Status PlanObjects(const std::string& cluster) {
    const bool declared = in_.desired->Cluster(cluster) != nullptr;
    const ClusterLive* live = Live(cluster);
    auto summary_it = in_.summaries->find(cluster);
    const bool counted = summary_it != in_.summaries->end();
    const ClusterSummary summary = counted ? summary_it->second : ClusterSummary{};

    if (!declared) {
      // Gone (destroyed, or its cloud is gone): its rows go too. Kept, destroyed with the cluster,
      // or without prune: nothing to plan.
      bool known = session_->ProviderOfCluster(cluster) != nullptr;
      if ((!known || gone_.count(cluster)) && in_.prune) return ForgetAll(cluster);
      return Status::Ok();
    }
    if (!live || !live->reachable.ok()) return Status::Ok();  // PlanClusters failed already
    std::vector<const DesiredObject*> desired;
    for (auto it = in_.desired->objects.lower_bound(ObjectRef{cluster, {}});
         it != in_.desired->objects.end() && it->first.cluster == cluster; ++it) {
      desired.push_back(&it->second);
    }
    if (!live->ready() && (in_.desired->from_inventory || in_.desired->delta)) {
      out_.needs_full_read = true;  // neither path lists every object to create
      return Status::Ok();
    }
    if (!in_.desired->from_inventory && (!live->ready() || live->objects_reachable.ok())) {
      // Custom resources need a kind the cluster serves; one being created serves only built-ins.
      CONVERGE_RETURN_IF_ERROR(CheckCustomKinds(cluster, desired, *in_.desired, [&]() -> Result<std::vector<ServedKind>> {
        if (!live->ready()) return std::vector<ServedKind>{};
        return observer_->Kinds(cluster);
      }));
    }
    if (!live->ready()) {
      // Being created (or not yet): everything desired is new, nothing can be observed.
      bool changed = false;
      for (const DesiredObject* d : desired) {
        Result<JsonPtr> body = in_.desired->Body(*d);
        if (!body.ok()) return body.status();
        Decide(d->ref, d, *body, nullptr, "", nullptr, nullptr, &changed);
      }
      return Status::Ok();
    }
    if (!live->objects_reachable.ok()) {
      Unreachable(cluster, live->objects_reachable);
      return Status::Ok();
    }
    auto recorded = in_.markers->find(cluster);
    const bool marker_unchanged =
        !live->marker.empty() && recorded != in_.markers->end() && recorded->second.marker == live->marker;
    // A marker is recorded only while its cluster matches the inventory exactly (nothing pending,
    // nothing drifted), so on the no-op path an unchanged marker settles the whole cluster.
    if (in_.desired->from_inventory && marker_unchanged && recorded->second.rows >= 0) {
      unchanged_ += static_cast<int>(recorded->second.rows);
      return Status::Ok();
    }

    // A delta read of a cluster that did not move needs only the rows the new commit may change.
    const bool partial = in_.desired->delta && marker_unchanged && recorded->second.rows >= 0;
    const bool may_have_rows = !counted || summary.rows > 0;
    Result<std::vector<InventoryEntry>> rows_or = std::vector<InventoryEntry>{};
    if (partial) {
      std::vector<ObjectRef> wanted;
      for (const DesiredObject* d : desired) wanted.push_back(d->ref);
      rows_or = inventory_->RowsOf(wanted);
      if (rows_or.ok() && !in_.desired->removed_blobs.empty()) {
        Result<std::vector<InventoryEntry>> gone = inventory_->RowsOfBlobs(
            cluster, std::vector<std::string>(in_.desired->removed_blobs.begin(), in_.desired->removed_blobs.end()));
        if (!gone.ok()) return gone.status();
        for (InventoryEntry& e : *gone) rows_or->push_back(std::move(e));
      }
    } else if (may_have_rows) {
      rows_or = inventory_->ClusterRows(cluster);
    }
    if (!rows_or.ok()) return rows_or.status();
    std::map<ObjectRef, InventoryEntry> rows;
    for (InventoryEntry& e : *rows_or) {
      ObjectRef ref = e.ref;
      rows.emplace(std::move(ref), std::move(e));
    }
    // The rows a partial read left out are unchanged: the marker vouches for them.
    if (partial) unchanged_ += static_cast<int>(recorded->second.rows) - static_cast<int>(rows.size());
    // Everything to look at: what Git wants here and what converge put here.
    std::vector<ObjectRef> refs;
    std::map<ObjectRef, const DesiredObject*> by_ref;
    for (const DesiredObject* d : desired) {
      by_ref[d->ref] = d;
      refs.push_back(d->ref);
    }
    for (const auto& [ref, row] : rows)
      if (!by_ref.count(ref)) refs.push_back(ref);

    // Versions: from the rows when the marker says nothing moved, else asked in one call.
    std::vector<std::string> versions(refs.size());
    std::vector<ObjectKey> ask_keys;
    std::vector<size_t> ask_at;
    for (size_t i = 0; i < refs.size(); i++) {
      auto row = rows.find(refs[i]);
      if (marker_unchanged && row != rows.end() && !row->second.pending) {
        versions[i] = row->second.live_version;
      } else {
        ask_keys.push_back(refs[i].key);
        ask_at.push_back(i);
      }
    }
    const bool checked_all = ask_keys.size() == refs.size();
    Result<std::vector<std::string>> asked = observer_->Versions(cluster, ask_keys);
    if (!asked.ok()) {
      Unreachable(cluster, asked.status());
      return Status::Ok();
    }
    for (size_t k = 0; k < ask_at.size(); k++) versions[ask_at[k]] = (*asked)[k];

    // The cheap comparison; bodies only for what it cannot settle.
    std::vector<size_t> need;
    int64_t forgotten = 0;
    for (size_t i = 0; i < refs.size(); i++) {
      auto d = by_ref.find(refs[i]);
      auto row = rows.find(refs[i]);
      const InventoryEntry* r = row == rows.end() ? nullptr : &row->second;
      std::string hash = d != by_ref.end() ? d->second->hash : (Implied(r) ? r->desired_hash : "");
      if (d != by_ref.end() && r && !r->blob_id.empty() && r->blob_id != d->second->blob_id &&
          in_.desired->unchanged_blobs.count(r->blob_id)) {
        return Status::Invalid(d->second->Where() + ": " + refs[i].key.ToString() + " is defined twice: " +
                               d->second->Where() + " and " + in_.desired->path_of_blob.at(r->blob_id) +
                               "; remove one of them");
      }
      Recorded rec;
      if (r) rec = RecordedOf(*r, nullptr);
      switch (QuickClassify(hash, versions[i], r ? &rec : nullptr, in_.prune)) {
        case Quick::kUnchanged:
          unchanged_++;
          // Remember which file declares it now, so later delta reads find it.
          if (d != by_ref.end() && r && !d->second->blob_id.empty() && r->blob_id != d->second->blob_id) {
            out_.cache.observed.push_back({in_.source_id, refs[i], r->live_version, r->drift, d->second->blob_id});
          }
          break;
        case Quick::kIgnore: break;
        case Quick::kForget:
          out_.cache.deletes.push_back({in_.source_id, refs[i]});
          forgotten++;
          break;
        case Quick::kNeedBodies: need.push_back(i); break;
      }
    }
    bool changed = false;
    if (!need.empty()) {
      std::vector<ObjectKey> keys;
      std::vector<ObjectRef> with_rows;
      for (size_t i : need) {
        keys.push_back(refs[i].key);
        if (rows.count(refs[i])) with_rows.push_back(refs[i]);
      }
      Result<std::vector<std::optional<Json>>> bodies = observer_->Bodies(cluster, keys);
      if (!bodies.ok()) {
        Unreachable(cluster, bodies.status());
        return Status::Ok();
      }
      Result<std::map<ObjectRef, std::string>> last = inventory_->LastApplied(with_rows);
      if (!last.ok()) return last.status();
      for (size_t k = 0; k < need.size(); k++) {
        const ObjectRef& ref = refs[need[k]];
        const std::optional<Json>& live_body = (*bodies)[k];
        auto row = rows.find(ref);
        const InventoryEntry* r = row == rows.end() ? nullptr : &row->second;
        std::optional<Json> last_applied;
        if (auto l = last->find(ref); l != last->end() && !l->second.empty()) last_applied = Json::parse(l->second);
        auto d = by_ref.find(ref);
        if (d != by_ref.end()) {
          Result<JsonPtr> body = in_.desired->Body(*d->second);
          if (!body.ok()) return body.status();
          Decide(ref, d->second, *body, live_body ? &*live_body : nullptr, versions[need[k]], r,
                 last_applied ? &*last_applied : nullptr, &changed);
        } else if (Implied(r) && in_.desired->delta) {
          // A file the delta read skipped still declares it: its desired state is in that file.
          Result<JsonPtr> body = in_.desired->BodyInBlob(r->blob_id, ref.key);
          if (!body.ok()) return body.status();
          DesiredObject from_file;
          from_file.ref = ref;
          from_file.api_version = r->api_version;
          from_file.hash = r->desired_hash;
          from_file.body = *body;
          from_file.file = in_.desired->path_of_blob.count(r->blob_id) ? in_.desired->path_of_blob.at(r->blob_id) : "";
          from_file.blob_id = r->blob_id;
          Decide(ref, &from_file, from_file.body, live_body ? &*live_body : nullptr, versions[need[k]], r,
                 last_applied ? &*last_applied : nullptr, &changed);
        } else if (in_.desired->from_inventory && r && last_applied) {
          // The no-op path: the desired state is what converge last applied.
          if (IsSecret(*last_applied) && live_body &&
              DiffObject(&*last_applied, &*live_body, &*last_applied, *in_.secrets).type != ChangeType::kUnchanged) {
            out_.needs_full_read = true;  // the inventory cannot restore a Secret's values
            return Status::Ok();
          }
          DesiredObject from_row;
          from_row.ref = ref;
          from_row.api_version = r->api_version;
          from_row.hash = r->desired_hash;
          from_row.body = std::make_shared<Json>(*last_applied);
          from_row.file = kInventoryFile;
          from_row.blob_id = r->blob_id;
          Decide(ref, &from_row, from_row.body, live_body ? &*live_body : nullptr, versions[need[k]], r,
                 &*last_applied, &changed);
        } else {
          Decide(ref, nullptr, nullptr, live_body ? &*live_body : nullptr, versions[need[k]], r,
                 last_applied ? &*last_applied : nullptr, &changed);
        }
      }
    }
    // The marker may stand for this cluster only while its live objects match their rows (stale
    // versions and drift flags are refreshed in the same write that records the marker).
    if (changed) {
      out_.cache.clear_markers.push_back({in_.source_id, cluster});
    } else if (partial) {
      int64_t gone = forgotten + ForgottenByDecide(cluster);
      if (gone > 0) {
        out_.cache.set_markers.push_back(
            ClusterMarker{in_.source_id, cluster, live->marker, 0, recorded->second.rows - gone});
      }
    } else if (checked_all && !live->marker.empty()) {
      int64_t kept = static_cast<int64_t>(rows.size()) - forgotten - ForgottenByDecide(cluster);
      out_.cache.set_markers.push_back(ClusterMarker{in_.source_id, cluster, live->marker, 0, kept});
    }
    return Status::Ok();
  }

  // Rows of `cluster` that Decide forgot (Classify's kForget) in this plan.
  int64_t ForgottenByDecide(const std::string& cluster) const {
    auto it = decide_forgot_.find(cluster);
    return it == decide_forgot_.end() ? 0 : it->second;
  }

  Status ForgetAll(const std::string& cluster) {
    out_.cache.delete_clusters.push_back({in_.source_id, cluster});
    return Status::Ok();
  }

  const PlannerInput& in_;
  Observer* observer_;
  FleetSession* session_;
  InventoryReader* inventory_;
  Env* env_;
  PlannerOutput out_;
  std::vector<Action> actions_;
  int unchanged_ = 0;
  std::set<std::string> removed_;  // Clusters Git dropped
  std::set<std::string> gone_;     // ... that no longer exist
  std::map<std::string, int64_t> decide_forgot_;
};

}  // namespace

Result<PlannerOutput> PlanSync(const PlannerInput& input, Observer* observer, FleetSession* session,
                               InventoryReader* inventory, Env* env) {
  return Planning(input, observer, session, inventory, env).Run();
}

}  // namespace converge
