#include "engine/apply/apply_graph.h"

#include <algorithm>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

namespace converge::apply_internal {
namespace {

bool IsClusterAction(const Action& a) {
  return a.ref.cluster.empty() && a.ref.key.kind == "Cluster" &&
         (a.ref.key.group == kConvergeGroup || a.ref.key.group.empty());
}
bool IsDelete(const Action& a) { return a.type == ChangeType::kDelete; }
bool IsNamespace(const ObjectKey& k) { return k.group.empty() && k.kind == "Namespace"; }
bool IsCrd(const ObjectKey& k) { return k.group == "apiextensions.k8s.io" && k.kind == "CustomResourceDefinition"; }

// The (group, kind) a CRD defines, from its desired body; nullopt when it does not say.
std::optional<std::pair<std::string, std::string>> CrdDefines(const Action& a) {
  if (!a.desired || !a.desired->is_object()) return std::nullopt;
  const Json& spec = a.desired->value("spec", Json::object());
  if (!spec.is_object()) return std::nullopt;
  const Json& names = spec.value("names", Json::object());
  if (!spec.value("group", Json()).is_string() || !names.is_object() || !names.value("kind", Json()).is_string()) {
    return std::nullopt;
  }
  return std::make_pair(spec["group"].get<std::string>(), names["kind"].get<std::string>());
}

class Builder {
 public:
  Builder(const Plan& plan, const FleetTargets& fleet, const ApplyOptions& options)
      : plan_(plan), fleet_(fleet), options_(options) {
    out_.action_end.assign(plan.actions.size(), dag::kNoStep);
    out_.action_start.assign(plan.actions.size(), dag::kNoStep);
  }

  ApplyGraph Build() {
    out_.pool_capacity["global"] = std::max(1, options_.parallelism);
    std::map<std::string, std::vector<int>> per_cluster;  // object actions by cluster, plan order
    std::vector<dag::StepId> cluster_deletes;
    for (int i = 0; i < static_cast<int>(plan_.actions.size()); ++i) {
      const Action& a = plan_.actions[static_cast<size_t>(i)];
      if (IsClusterAction(a)) {
        dag::StepId start = AddClusterAction(i);
        if (IsDelete(a)) cluster_deletes.push_back(start);
      } else {
        per_cluster[a.ref.cluster].push_back(i);
      }
    }
    std::vector<dag::StepId> object_steps;
    for (const auto& [cluster, actions] : per_cluster) AddCluster(cluster, actions, &object_steps);
    if (options_.wait) {
      // Desired clusters without object actions must still be Running at the end.
      for (const auto& [name, spec] : fleet_.clusters) {
        if (per_cluster.count(name)) continue;
        dag::StepId ready = AddReady(name, std::numeric_limits<int>::max() / 2);
        object_steps.push_back(ready);
      }
    }
    if (!cluster_deletes.empty()) {
      dag::StepId done = Add(StepKind::kObjectsDone, "", "every object step", {}, true, std::numeric_limits<int>::max());
      for (dag::StepId s : object_steps) out_.graph.After(done, s);
      for (dag::StepId s : cluster_deletes) out_.graph.After(s, done);
    }
    return std::move(out_);
  }

 private:
  dag::StepId Add(StepKind kind, const std::string& cluster, const std::string& name, std::vector<std::string> pools,
                  bool on_loop_thread, int priority) {
    dag::StepId id = out_.graph.Add(dag::StepSpec{name, std::move(pools), on_loop_thread, priority});
    ApplyStep step;
    step.kind = kind;
    step.cluster = cluster;
    step.what = name;
    out_.steps.push_back(std::move(step));
    return id;
  }
  ApplyStep& At(dag::StepId id) { return out_.steps[static_cast<size_t>(id)]; }
  static int Priority(int action_index) { return 2 * action_index + 1; }

  std::vector<std::string> ClusterPools(const std::string& cluster) {
    std::string pool = "cluster/" + cluster;
    out_.pool_capacity[pool] = std::max(1, options_.cluster_parallelism);
    return {"global", pool};
  }

  // Operations of an earlier run on `cluster` still to be seen to their end.
  std::vector<dag::StepId> AddResumes(const std::string& cluster, int priority) {
    std::vector<dag::StepId> out;
    auto it = fleet_.unfinished_operations.find(cluster);
    if (it == fleet_.unfinished_operations.end()) return out;
    for (const Operation& op : it->second) {
      dag::StepId s = Add(StepKind::kAwaitOperation, cluster,
                          "cluster " + cluster + ": earlier " + op.kind + " operation " + op.id + " to finish", {"global"},
                          false, priority);
      At(s).resume = op;
      out.push_back(s);
    }
    resumed_.insert(cluster);
    return out;
  }

  dag::StepId AddClusterAction(int i) {
    const Action& a = plan_.actions[static_cast<size_t>(i)];
    const std::string& name = a.ref.key.name;
    std::string label = a.ref.ToString();
    dag::StepId pending = Add(StepKind::kRecordPending, name, label + " (recording)", {}, true, Priority(i) - 1);
    At(pending).actions = {i};
    dag::StepId start = Add(StepKind::kStartOperation, name, label, {"global"}, false, Priority(i));
    At(start).action = i;
    out_.graph.Needs(start, pending);
    for (dag::StepId r : AddResumes(name, Priority(i) - 1)) out_.graph.After(pending, r);
    dag::StepId await = Add(StepKind::kAwaitOperation, name, label, {"global"}, false, Priority(i));
    At(await).action = i;
    At(await).start = start;
    out_.graph.Needs(await, start);
    out_.action_start[static_cast<size_t>(i)] = start;
    out_.action_end[static_cast<size_t>(i)] = await;
    if (!IsDelete(a)) cluster_applied_[name] = await;
    return start;
  }

  dag::StepId AddReady(const std::string& cluster, int priority) {
    dag::StepId ready =
        Add(StepKind::kClusterReady, cluster, "cluster " + cluster + " to be Running", ClusterPools(cluster), false, priority);
    if (auto it = cluster_applied_.find(cluster); it != cluster_applied_.end()) {
      out_.graph.Needs(ready, it->second);
    } else if (!resumed_.count(cluster)) {
      for (dag::StepId r : AddResumes(cluster, priority)) out_.graph.After(ready, r);
    }
    return ready;
  }

  void AddCluster(const std::string& cluster, const std::vector<int>& actions, std::vector<dag::StepId>* object_steps) {
    const int first = Priority(actions.front()) - 1;
    dag::StepId ready = AddReady(cluster, first);
    object_steps->push_back(ready);
    dag::StepId pending = Add(StepKind::kRecordPending, cluster, "cluster " + cluster + ": recording its actions", {},
                              true, first);
    At(pending).actions = actions;
    out_.graph.Needs(pending, ready);

    std::vector<std::string> pools = ClusterPools(cluster);
    std::map<std::string, dag::StepId> namespace_step;                   // Namespace name -> apply
    std::map<std::pair<std::string, std::string>, dag::StepId> crd_step;  // (group, kind) -> apply
    std::vector<dag::StepId> crd_without_names;
    std::map<ObjectKey, dag::StepId> apply_step;                          // every apply, by key
    std::vector<int> applies, deletes;
    for (int i : actions) {
      const Action& a = plan_.actions[static_cast<size_t>(i)];
      dag::StepId s = Add(StepKind::kObjectAction, cluster, a.ref.ToString(), pools, false, Priority(i));
      At(s).action = i;
      out_.action_start[static_cast<size_t>(i)] = s;
      out_.action_end[static_cast<size_t>(i)] = s;
      out_.graph.Needs(s, pending);
      object_steps->push_back(s);
      if (IsDelete(a)) {
        deletes.push_back(i);
        continue;
      }
      applies.push_back(i);
      apply_step[a.ref.key] = s;
      if (IsNamespace(a.ref.key)) namespace_step[a.ref.key.name] = s;
      if (IsCrd(a.ref.key)) {
        if (auto defines = CrdDefines(a)) {
          crd_step[*defines] = s;
        } else {
          crd_without_names.push_back(s);
        }
      }
    }

    // Namespaces, CRDs and depends-on.
    std::map<int, std::vector<int>> waves;  // wave -> applies in it (not Namespaces or CRDs)
    for (int i : applies) {
      const Action& a = plan_.actions[static_cast<size_t>(i)];
      dag::StepId s = out_.action_end[static_cast<size_t>(i)];
      for (const ObjectKey& dep : a.depends_on) {
        if (auto it = apply_step.find(dep); it != apply_step.end() && it->second != s) out_.graph.Needs(s, it->second);
      }
      if (IsNamespaceOrCrd(a.ref)) continue;
      if (auto it = namespace_step.find(a.ref.key.ns); !a.ref.key.ns.empty() && it != namespace_step.end()) {
        out_.graph.Needs(s, it->second);
      }
      if (auto it = crd_step.find({a.ref.key.group, a.ref.key.kind}); it != crd_step.end()) {
        out_.graph.Needs(s, it->second);
      } else if (!a.ref.key.group.empty()) {
        for (dag::StepId crd : crd_without_names) out_.graph.Needs(s, crd);
      }
      waves[a.wave].push_back(i);
    }

    // Sync waves: each wave waits for the one before to be healthy.
    dag::StepId previous_gate = dag::kNoStep;
    for (auto it = waves.begin(); it != waves.end(); ++it) {
      auto next = std::next(it);
      if (previous_gate != dag::kNoStep) {
        for (int i : it->second) out_.graph.Needs(out_.action_end[static_cast<size_t>(i)], previous_gate);
      }
      if (next == waves.end()) break;
      std::string what = "sync wave " + std::to_string(it->first) + " on cluster " + cluster + " to be healthy";
      dag::StepId gate = Add(StepKind::kWaveHealthy, cluster, what, pools, false, Priority(next->second.front()) - 1);
      At(gate).wave = it->first;
      for (int i : it->second) {
        out_.graph.Needs(gate, out_.action_end[static_cast<size_t>(i)]);
        At(gate).keys.push_back(plan_.actions[static_cast<size_t>(i)].ref.key);
      }
      if (previous_gate != dag::kNoStep) out_.graph.Needs(gate, previous_gate);
      object_steps->push_back(gate);
      previous_gate = gate;
    }

    dag::StepId applies_done = Add(StepKind::kAppliesDone, cluster, "applies on cluster " + cluster, {}, true,
                                   applies.empty() ? first : Priority(applies.back()) + 1);
    for (int i : applies) out_.graph.Needs(applies_done, out_.action_end[static_cast<size_t>(i)]);
    out_.graph.Needs(applies_done, pending);
    object_steps->push_back(applies_done);

    // Prune: after the applies; a Namespace after what lived in it, CRDs last.
    std::map<std::string, dag::StepId> namespace_delete;
    std::vector<dag::StepId> crd_deletes, other_deletes;
    for (int i : deletes) {
      const Action& a = plan_.actions[static_cast<size_t>(i)];
      dag::StepId s = out_.action_end[static_cast<size_t>(i)];
      out_.graph.Needs(s, applies_done);
      if (IsNamespace(a.ref.key)) {
        namespace_delete[a.ref.key.name] = s;
      } else if (IsCrd(a.ref.key)) {
        crd_deletes.push_back(s);
      } else {
        other_deletes.push_back(s);
      }
    }
    for (int i : deletes) {
      const Action& a = plan_.actions[static_cast<size_t>(i)];
      if (IsNamespaceOrCrd(a.ref)) continue;
      if (auto it = namespace_delete.find(a.ref.key.ns); !a.ref.key.ns.empty() && it != namespace_delete.end()) {
        out_.graph.After(it->second, out_.action_end[static_cast<size_t>(i)]);
      }
    }
    for (dag::StepId crd : crd_deletes)
      for (dag::StepId other : other_deletes) out_.graph.After(crd, other);

    if (options_.wait && !applies.empty()) {
      dag::StepId final_step = Add(StepKind::kFinalHealthy, cluster, "applied objects on cluster " + cluster + " to be healthy",
                                   pools, false, Priority(applies.back()) + 1);
      for (int i : applies) At(final_step).keys.push_back(plan_.actions[static_cast<size_t>(i)].ref.key);
      out_.graph.Needs(final_step, applies_done);
      object_steps->push_back(final_step);
    }
  }

  const Plan& plan_;
  const FleetTargets& fleet_;
  const ApplyOptions& options_;
  ApplyGraph out_;
  std::map<std::string, dag::StepId> cluster_applied_;  // cluster -> await of its create/update
  std::set<std::string> resumed_;
};

}  // namespace

bool IsNamespaceOrCrd(const ObjectRef& ref) { return IsNamespace(ref.key) || IsCrd(ref.key); }

ApplyGraph BuildApplyGraph(const Plan& plan, const FleetTargets& fleet, const ApplyOptions& options) {
  return Builder(plan, fleet, options).Build();
}

}  // namespace converge::apply_internal
