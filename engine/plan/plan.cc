// Plan ordering: annotations (waves, depends-on), the OrderBefore comparator and OrderActions, a
// Kahn topological sort whose ready set is a priority queue under OrderBefore, so that without
// dependency edges the result is exactly the sorted order (O(n log n)). Pure.
#include "engine/plan/plan.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <queue>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace converge {
namespace {

constexpr const char* kWaveAnnotation = "converge.dev/sync-wave";
constexpr const char* kArgoWaveAnnotation = "argocd.argoproj.io/sync-wave";
constexpr const char* kDependsOnAnnotation = "converge.dev/depends-on";
constexpr int kUnknownKindRank = 1000;

const Json* Annotation(const Json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto md = object.find("metadata");
  if (md == object.end() || !md->is_object()) return nullptr;
  auto ann = md->find("annotations");
  if (ann == md->end() || !ann->is_object()) return nullptr;
  auto it = ann->find(name);
  return it == ann->end() || it->is_null() ? nullptr : &*it;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ParseInt(std::string_view text, int* out) {
  text = Trim(text);
  if (text.empty()) return false;
  size_t i = (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (i == text.size()) return false;
  for (size_t k = i; k < text.size(); ++k) {
    if (text[k] < '0' || text[k] > '9') return false;
  }
  std::string s(text);
  errno = 0;
  long long v = std::strtoll(s.c_str(), nullptr, 10);
  if (errno == ERANGE || v < INT_MIN || v > INT_MAX) return false;
  *out = static_cast<int>(v);
  return true;
}

// Kinds that are cluster-scoped whatever their group, for "Kind/name" depends-on entries.
bool ClusterScopedKind(std::string_view kind) {
  static const char* const kKinds[] = {
      "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding",
      "CustomResourceDefinition", "StorageClass", "CSIDriver", "CSINode", "VolumeAttachment",
      "PriorityClass", "IngressClass", "MutatingWebhookConfiguration",
      "ValidatingWebhookConfiguration", "APIService", "RuntimeClass", "ClusterPropagationPolicy",
      "ClusterOverridePolicy"};
  for (const char* k : kKinds) {
    if (kind == k) return true;
  }
  return false;
}

bool IsDelete(const Action& a) { return a.type == ChangeType::kDelete; }

// Rule 1 and 4 tiers: Cloud, Cluster, objects; then object deletes, Cluster deletes, Cloud deletes.
int Tier(const Action& a) {
  int fleet = 2;
  if (a.ref.cluster.empty() && (a.ref.key.group == kConvergeGroup || a.ref.key.group.empty())) {
    if (a.ref.key.kind == "Cloud") fleet = 0;
    if (a.ref.key.kind == "Cluster") fleet = 1;
  }
  return IsDelete(a) ? 5 - fleet : fleet;
}

bool IsFoundationKind(const std::string& kind) {
  return kind == "Namespace" || kind == "CustomResourceDefinition";
}

// -1, 0, 1 comparing the within-tier order of a and b (rule 2).
int CompareWithinTier(const Action& a, const Action& b) {
  // Namespaces and CRDs come before everything they contain or define, whatever the waves.
  const bool fa = IsFoundationKind(a.ref.key.kind), fb = IsFoundationKind(b.ref.key.kind);
  if (fa != fb) return fa ? -1 : 1;
  if (a.wave != b.wave) return a.wave < b.wave ? -1 : 1;
  const int ra = KindRank(a.ref.key.kind), rb = KindRank(b.ref.key.kind);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (int c = a.ref.key.ns.compare(b.ref.key.ns); c != 0) return c < 0 ? -1 : 1;
  if (int c = a.ref.key.name.compare(b.ref.key.name); c != 0) return c < 0 ? -1 : 1;
  if (int c = a.ref.key.kind.compare(b.ref.key.kind); c != 0) return c < 0 ? -1 : 1;
  if (int c = a.ref.key.group.compare(b.ref.key.group); c != 0) return c < 0 ? -1 : 1;
  return 0;
}

std::string IndexKey(const std::string& cluster, const std::string& kind, const std::string& ns,
                     const std::string& name) {
  std::string k = cluster;
  k += '\0';
  k += kind;
  k += '\0';
  k += ns;
  k += '\0';
  k += name;
  return k;
}

}  // namespace

Result<int> WaveOf(const Json& object, const std::string& where) {
  for (const char* name : {kWaveAnnotation, kArgoWaveAnnotation}) {
    const Json* value = Annotation(object, name);
    if (value == nullptr) continue;
    int wave = 0;
    if (value->is_number_integer()) {
      const long long v = value->get<long long>();
      if (v >= INT_MIN && v <= INT_MAX) return static_cast<int>(v);
    } else if (value->is_string() && ParseInt(value->get_ref<const std::string&>(), &wave)) {
      return wave;
    }
    return Status::Invalid(where + ": " + KeyOf(object).ToString() + ": annotation " + name + " is " +
                           value->dump() + ", not an integer; set it to a whole number such as \"-1\" or \"2\"");
  }
  return 0;
}

Result<std::vector<ObjectKey>> DependsOnOf(const Json& object, const std::string& where) {
  std::vector<ObjectKey> out;
  const Json* value = Annotation(object, kDependsOnAnnotation);
  if (value == nullptr) return out;
  const ObjectKey self = KeyOf(object);
  if (!value->is_string()) {
    return Status::Invalid(where + ": " + self.ToString() + ": annotation " + kDependsOnAnnotation +
                           " must be a string such as \"Deployment/namespace/name, Namespace/name\"");
  }
  std::string_view rest = value->get_ref<const std::string&>();
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view entry = Trim(rest.substr(0, comma));
    if (!entry.empty()) {
      std::vector<std::string_view> parts;
      std::string_view e = entry;
      while (true) {
        size_t slash = e.find('/');
        parts.push_back(Trim(e.substr(0, slash)));
        if (slash == std::string_view::npos) break;
        e.remove_prefix(slash + 1);
      }
      const bool empty_part = std::any_of(parts.begin(), parts.end(), [](auto p) { return p.empty(); });
      if (parts.size() < 2 || parts.size() > 3 || empty_part) {
        return Status::Invalid(where + ": " + self.ToString() + ": annotation " + kDependsOnAnnotation +
                               " entry \"" + std::string(entry) +
                               "\" is not Kind/name or Kind/namespace/name; write e.g. "
                               "\"ConfigMap/shop/settings\" or \"Namespace/shop\"");
      }
      ObjectKey key;
      key.kind = std::string(parts[0]);
      if (parts.size() == 3) {
        key.ns = std::string(parts[1]);
        key.name = std::string(parts[2]);
      } else {
        key.ns = ClusterScopedKind(key.kind) ? "" : self.ns;
        key.name = std::string(parts[1]);
      }
      out.push_back(std::move(key));
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

int KindRank(const std::string& kind) {
  static const std::unordered_map<std::string, int> kRanks = [] {
    static const char* const kOrder[] = {
        "Namespace",          "CustomResourceDefinition", "NetworkPolicy",
        "ResourceQuota",      "LimitRange",               "PodSecurityPolicy",
        "PodDisruptionBudget", "ServiceAccount",          "Secret",
        "SecretList",         "ConfigMap",                "StorageClass",
        "PersistentVolume",   "PersistentVolumeClaim",    "ClusterRole",
        "ClusterRoleBinding", "Role",                     "RoleBinding",
        "Service",            "DaemonSet",                "Pod",
        "ReplicationController", "ReplicaSet",            "Deployment",
        "HorizontalPodAutoscaler", "StatefulSet",         "Job",
        "CronJob",            "Ingress",                  "APIService",
    };
    std::unordered_map<std::string, int> m;
    int rank = 0;
    for (const char* k : kOrder) m.emplace(k, rank++);
    return m;
  }();
  auto it = kRanks.find(kind);
  return it == kRanks.end() ? kUnknownKindRank : it->second;
}

bool OrderBefore(const Action& a, const Action& b) {
  const int ta = Tier(a), tb = Tier(b);
  if (ta != tb) return ta < tb;
  if (a.ref.cluster != b.ref.cluster) return a.ref.cluster < b.ref.cluster;
  const int c = CompareWithinTier(a, b);
  return IsDelete(a) ? c > 0 : c < 0;  // deletes: the reverse of the create order (rule 4)
}

Result<std::vector<Action>> OrderActions(std::vector<Action> actions, const DeclaredFn& declared) {
  const int n = static_cast<int>(actions.size());
  // Fill waves and dependencies from the desired objects.
  for (Action& a : actions) {
    if (IsDelete(a) || a.desired == nullptr) continue;
    const std::string where = a.source_file.empty() ? a.ref.ToString() : a.source_file;
    Result<int> wave = WaveOf(*a.desired, where);
    if (!wave.ok()) return wave.status();
    a.wave = *wave;
    Result<std::vector<ObjectKey>> deps = DependsOnOf(*a.desired, where);
    if (!deps.ok()) return deps.status();
    a.depends_on = std::move(*deps);
  }

  // Resolve depends-on keys to actions in the same cluster (group ignored); keys that name no
  // action are already in place and add no edge. A resolved key takes the action's full key.
  std::unordered_map<std::string, std::vector<int>> index;
  for (int i = 0; i < n; ++i) {
    const ObjectKey& k = actions[i].ref.key;
    index[IndexKey(actions[i].ref.cluster, k.kind, k.ns, k.name)].push_back(i);
  }
  std::vector<std::vector<int>> deps_of(n);  // i depends on each of deps_of[i]
  for (int i = 0; i < n; ++i) {
    Action& a = actions[i];
    for (ObjectKey& dep : a.depends_on) {
      auto it = index.find(IndexKey(a.ref.cluster, dep.kind, dep.ns, dep.name));
      if (it == index.end() && !dep.ns.empty()) {  // "Kind/name" of a cluster-scoped custom kind
        it = index.find(IndexKey(a.ref.cluster, dep.kind, "", dep.name));
      }
      if (it == index.end()) {
        ObjectKey scoped = dep;
        bool known = !declared || declared(a.ref.cluster, dep);
        if (!known && !dep.ns.empty()) {
          scoped.ns.clear();
          known = declared(a.ref.cluster, scoped);
        }
        if (!known) {
          const std::string where = a.source_file.empty() ? a.ref.ToString() : a.source_file;
          return Status::Invalid(where + ": " + a.ref.ToString() + ": annotation " + kDependsOnAnnotation + " names " +
                                 dep.kind + "/" + (dep.ns.empty() ? "" : dep.ns + "/") + dep.name +
                                 ", which is not declared for cluster " + a.ref.cluster +
                                 ": correct the entry or remove it");
        }
        continue;
      }
      for (int j : it->second) {
        if (IsDelete(actions[j]) != IsDelete(a)) continue;  // deletes run after all else anyway
        deps_of[i].push_back(j);
        dep = actions[j].ref.key;
      }
    }
  }

  // Edges "runs before": a dependency runs before its dependent; for deletes, after it.
  std::vector<std::vector<int>> successors(n);
  std::vector<int> indegree(n, 0);
  for (int i = 0; i < n; ++i) {
    for (int j : deps_of[i]) {
      const int from = IsDelete(actions[i]) ? i : j, to = IsDelete(actions[i]) ? j : i;
      successors[from].push_back(to);
      ++indegree[to];
    }
  }

  auto after = [&actions](int x, int y) {  // priority_queue pops the greatest: invert
    if (OrderBefore(actions[y], actions[x])) return true;
    if (OrderBefore(actions[x], actions[y])) return false;
    return x > y;  // equal keys: keep input order
  };
  std::priority_queue<int, std::vector<int>, decltype(after)> ready(after);
  for (int i = 0; i < n; ++i) {
    if (indegree[i] == 0) ready.push(i);
  }
  std::vector<int> order;
  order.reserve(n);
  while (!ready.empty()) {
    const int i = ready.top();
    ready.pop();
    order.push_back(i);
    for (int s : successors[i]) {
      if (--indegree[s] == 0) ready.push(s);
    }
  }

  if (static_cast<int>(order.size()) < n) {
    // Every action left over waits on another left-over action; walking "depends on" edges from
    // the first of them must come back to a node already seen: that loop is the cycle.
    std::vector<bool> done(n, false);
    for (int i : order) done[i] = true;
    int start = -1;
    for (int i = 0; i < n; ++i) {
      if (!done[i] && (start < 0 || OrderBefore(actions[i], actions[start]))) start = i;
    }
    std::vector<int> path;
    std::unordered_map<int, size_t> pos;
    int cur = start;
    while (pos.find(cur) == pos.end()) {
      pos[cur] = path.size();
      path.push_back(cur);
      int next = -1;
      for (int j : deps_of[cur]) {
        if (!done[j]) {
          next = j;
          break;
        }
      }
      if (next < 0) break;  // cannot happen; defensive
      cur = next;
    }
    std::string text = "dependency cycle: ";
    std::string files;
    const size_t from = pos.count(cur) ? pos[cur] : 0;
    for (size_t k = from; k < path.size(); ++k) {
      text += actions[path[k]].ref.ToString() + " -> ";
      const std::string& file = actions[path[k]].source_file;
      if (!file.empty() && files.find(file) == std::string::npos) files += (files.empty() ? "" : ", ") + file;
    }
    text += actions[path[from]].ref.ToString();
    text += "; remove one of these converge.dev/depends-on entries";
    if (!files.empty()) text += " (in " + files + ")";
    return Status::Invalid(text);
  }

  std::vector<Action> sorted;
  sorted.reserve(n);
  for (int i : order) sorted.push_back(std::move(actions[i]));
  return sorted;
}

}  // namespace converge
