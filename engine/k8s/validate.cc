#include "engine/k8s/validate.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "engine/k8s/names.h"
#include "engine/k8s/openapi.h"
#include "engine/model/object.h"

namespace converge::k8s {
namespace {

// ---- the API server's rules that the schema does not carry ----------------------------------

// Integer fields the API server bounds (pkg/apis/*/validation: ValidateNonnegativeField, port
// ranges, HPA replica counts). By definition and field.
struct IntRule {
  const char* def;
  const char* field;
  int64_t min;
  int64_t max;
};
constexpr int64_t kNoMax = INT64_MAX;
const IntRule kIntRules[] = {
    {"io.k8s.api.apps.v1.DeploymentSpec", "replicas", 0, kNoMax},
    {"io.k8s.api.apps.v1.DeploymentSpec", "minReadySeconds", 0, kNoMax},
    {"io.k8s.api.apps.v1.DeploymentSpec", "revisionHistoryLimit", 0, kNoMax},
    {"io.k8s.api.apps.v1.DeploymentSpec", "progressDeadlineSeconds", 0, kNoMax},
    {"io.k8s.api.apps.v1.ReplicaSetSpec", "replicas", 0, kNoMax},
    {"io.k8s.api.apps.v1.ReplicaSetSpec", "minReadySeconds", 0, kNoMax},
    {"io.k8s.api.apps.v1.StatefulSetSpec", "replicas", 0, kNoMax},
    {"io.k8s.api.apps.v1.StatefulSetSpec", "minReadySeconds", 0, kNoMax},
    {"io.k8s.api.apps.v1.StatefulSetSpec", "revisionHistoryLimit", 0, kNoMax},
    {"io.k8s.api.apps.v1.DaemonSetSpec", "minReadySeconds", 0, kNoMax},
    {"io.k8s.api.apps.v1.DaemonSetSpec", "revisionHistoryLimit", 0, kNoMax},
    {"io.k8s.api.core.v1.ReplicationControllerSpec", "replicas", 0, kNoMax},
    {"io.k8s.api.core.v1.ReplicationControllerSpec", "minReadySeconds", 0, kNoMax},
    {"io.k8s.api.batch.v1.JobSpec", "parallelism", 0, kNoMax},
    {"io.k8s.api.batch.v1.JobSpec", "completions", 0, kNoMax},
    {"io.k8s.api.batch.v1.JobSpec", "activeDeadlineSeconds", 0, kNoMax},
    {"io.k8s.api.batch.v1.JobSpec", "backoffLimit", 0, kNoMax},
    {"io.k8s.api.batch.v1.JobSpec", "ttlSecondsAfterFinished", 0, kNoMax},
    {"io.k8s.api.batch.v1.CronJobSpec", "startingDeadlineSeconds", 0, kNoMax},
    {"io.k8s.api.batch.v1.CronJobSpec", "successfulJobsHistoryLimit", 0, kNoMax},
    {"io.k8s.api.batch.v1.CronJobSpec", "failedJobsHistoryLimit", 0, kNoMax},
    {"io.k8s.api.core.v1.PodSpec", "terminationGracePeriodSeconds", 0, kNoMax},
    {"io.k8s.api.core.v1.PodSpec", "activeDeadlineSeconds", 1, kNoMax},
    {"io.k8s.api.core.v1.Probe", "initialDelaySeconds", 0, kNoMax},
    {"io.k8s.api.core.v1.Probe", "timeoutSeconds", 0, kNoMax},
    {"io.k8s.api.core.v1.Probe", "periodSeconds", 0, kNoMax},
    {"io.k8s.api.core.v1.Probe", "successThreshold", 0, kNoMax},
    {"io.k8s.api.core.v1.Probe", "failureThreshold", 0, kNoMax},
    {"io.k8s.api.core.v1.ContainerPort", "containerPort", 1, 65535},
    {"io.k8s.api.core.v1.ContainerPort", "hostPort", 0, 65535},
    {"io.k8s.api.core.v1.ServicePort", "port", 1, 65535},
    {"io.k8s.api.core.v1.ServicePort", "nodePort", 0, 65535},
    {"io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec", "minReplicas", 1, kNoMax},
    {"io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec", "maxReplicas", 1, kNoMax},
    {"io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec", "minReplicas", 1, kNoMax},
    {"io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec", "maxReplicas", 1, kNoMax},
};

// Required fields of the schema that the API server of this version defaults or does not require.
const std::pair<const char*, const char*> kNotRequired[] = {
    {"io.k8s.api.apps.v1.StatefulSetSpec", "serviceName"},
    {"io.k8s.api.networking.v1.NetworkPolicySpec", "podSelector"},
};

// Definitions with rules of their own, by what they are.
enum class DefRule { kNone, kObjectMeta, kLabelSelector, kPodSpec, kServiceSpec, kContainer, kResources };

struct Rules {
  std::map<std::pair<int32_t, std::string>, std::pair<int64_t, int64_t>> ints;
  std::set<std::pair<int32_t, std::string>> not_required;
  std::map<int32_t, DefRule> def_rules;
  int32_t object_meta = -1;
};

const Rules& GetRules() {
  static const Rules* rules = [] {
    auto* r = new Rules;
    for (const IntRule& rule : kIntRules) {
      int32_t def = FindDefinition(rule.def);
      if (def >= 0) r->ints[{def, rule.field}] = {rule.min, rule.max};
    }
    for (const auto& [def, field] : kNotRequired) {
      int32_t d = FindDefinition(def);
      if (d >= 0) r->not_required.emplace(d, field);
    }
    r->object_meta = FindDefinition("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    const std::pair<const char*, DefRule> defs[] = {
        {"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", DefRule::kObjectMeta},
        {"io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", DefRule::kLabelSelector},
        {"io.k8s.api.core.v1.PodSpec", DefRule::kPodSpec},
        {"io.k8s.api.core.v1.ServiceSpec", DefRule::kServiceSpec},
        {"io.k8s.api.core.v1.Container", DefRule::kContainer},
        {"io.k8s.api.core.v1.ResourceRequirements", DefRule::kResources},
    };
    for (const auto& [name, rule] : defs) {
      int32_t d = FindDefinition(name);
      if (d >= 0) r->def_rules[d] = rule;
    }
    return r;
  }();
  return *rules;
}

// How metadata.name is checked, by kind (pkg/apis/*/validation's Validate*Name).
enum class NameRule { kSubdomain, kLabel1123, kLabel1035, kPathSegment };

NameRule NameRuleFor(const std::string& group, const std::string& kind) {
  if (group.empty() && kind == "Namespace") return NameRule::kLabel1123;
  if (group.empty() && kind == "Service") return NameRule::kLabel1035;
  if (group == "rbac.authorization.k8s.io") return NameRule::kPathSegment;
  return NameRule::kSubdomain;
}

// ---- helpers ------------------------------------------------------------------------------------

std::string Quote(const std::string& s) {
  std::string shown = s.size() > 60 ? s.substr(0, 57) + "..." : s;
  return Json(shown).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// `string "three"`, `integer 3`, `number 1e+20`, `boolean true`, `null`, `a list`, `a map`.
std::string Describe(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string: return "string " + Quote(v.get_ref<const std::string&>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "integer " + v.dump();
    case Json::value_t::number_float: return "number " + v.dump();
    case Json::value_t::boolean: return std::string("boolean ") + (v.get<bool>() ? "true" : "false");
    case Json::value_t::null: return "null";
    case Json::value_t::array: return "a list";
    default: return "a map";
  }
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                                           std::tolower(static_cast<unsigned char>(b[j - 1]))
                                       ? 0
                                       : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

template <typename Names>
std::string Closest(const std::string& word, const Names& names) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& n : names) {
    std::string name(n);
    size_t d = EditDistance(word, name);
    if (d < best_d) {
      best_d = d;
      best = name;
    }
  }
  return best;
}

bool IsBase64(const std::string& s) {
  size_t n = 0, pad = 0;
  for (char c : s) {
    if (c == '\n' || c == '\r') continue;  // Go's decoder skips line breaks (YAML block scalars)
    bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (c == '=') {
      ++pad;
    } else if (!alpha || pad > 0) {
      return false;
    }
    ++n;
  }
  return n % 4 == 0 && pad <= 2;
}

size_t Base64DecodedSize(const std::string& s) {
  size_t n = 0, pad = 0;
  for (char c : s) {
    if (c == '\n' || c == '\r') continue;
    ++n;
    if (c == '=') ++pad;
  }
  return n / 4 * 3 - std::min(pad, n / 4 * 3);
}

// An integer value as int64; false for non-integers and for unsigned values past INT64_MAX.
bool AsInt64(const Json& v, int64_t* out) {
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v.get<uint64_t>());
    return true;
  }
  if (!v.is_number_integer()) return false;
  *out = v.get<int64_t>();
  return true;
}

bool IsDigits(const std::string& s, size_t from, size_t count) {
  if (from + count > s.size()) return false;
  for (size_t i = from; i < from + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// RFC 3339 as Go's time.Time reads it: 2024-01-02T03:04:05[.fraction](Z|+hh:mm).
bool IsRfc3339(const std::string& s) {
  if (!IsDigits(s, 0, 4) || s.size() < 20 || s[4] != '-' || !IsDigits(s, 5, 2) || s[7] != '-' || !IsDigits(s, 8, 2) ||
      (s[10] != 'T' && s[10] != 't') || !IsDigits(s, 11, 2) || s[13] != ':' || !IsDigits(s, 14, 2) || s[16] != ':' ||
      !IsDigits(s, 17, 2)) {
    return false;
  }
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) return i + 1 == s.size();
  return i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && IsDigits(s, i + 1, 2) && s[i + 3] == ':' &&
         IsDigits(s, i + 4, 2);
}

// Whether a LabelSelector (matchLabels, matchExpressions) selects `labels`.
bool SelectorMatches(const Json& selector, const Json& labels) {
  auto label = [&](const std::string& key) -> const Json* {
    if (!labels.is_object()) return nullptr;
    auto it = labels.find(key);
    return it == labels.end() ? nullptr : &*it;
  };
  if (auto ml = selector.find("matchLabels"); ml != selector.end() && ml->is_object()) {
    for (const auto& [k, v] : ml->items()) {
      const Json* have = label(k);
      if (have == nullptr || *have != v) return false;
    }
  }
  if (auto me = selector.find("matchExpressions"); me != selector.end() && me->is_array()) {
    for (const Json& e : *me) {
      if (!e.is_object()) continue;
      std::string key = e.value("key", Json("")).is_string() ? e.value("key", "") : "";
      std::string op = e.value("operator", Json("")).is_string() ? e.value("operator", "") : "";
      const Json* have = label(key);
      bool in = false;
      if (auto values = e.find("values"); have != nullptr && values != e.end() && values->is_array()) {
        for (const Json& v : *values) in = in || v == *have;
      }
      if ((op == "In" && !in) || (op == "NotIn" && in) || (op == "Exists" && have == nullptr) ||
          (op == "DoesNotExist" && have != nullptr)) {
        return false;
      }
    }
  }
  return true;
}

bool SelectorEmpty(const Json& selector) {
  if (!selector.is_object()) return true;
  auto ml = selector.find("matchLabels");
  auto me = selector.find("matchExpressions");
  return (ml == selector.end() || !ml->is_object() || ml->empty()) &&
         (me == selector.end() || !me->is_array() || me->empty());
}

const Json* Member(const Json& obj, std::initializer_list<const char*> path) {
  const Json* cur = &obj;
  for (const char* key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

// ---- the walk -----------------------------------------------------------------------------------

class Validator {
 public:
  explicit Validator(size_t max_errors) : max_(max_errors), rules_(GetRules()) {}

  std::vector<FieldError> Take() { return std::move(errors_); }
  bool Full() const { return errors_.size() >= max_; }

  // `what` follows the field's path: "must be ...". At the root it reads "the object ...".
  void Error(const std::string& what, bool at_key = false) {
    if (Full()) return;
    std::string subject = path_.empty() ? "the object" : PathText(path_);
    errors_.push_back(FieldError{path_, subject + " " + what, at_key});
  }

  struct Step {
    Step(Validator* v, std::string key, int index = -1) : v_(v) { v_->path_.push_back(PathStep{std::move(key), index}); }
    ~Step() { v_->path_.pop_back(); }
    Validator* v_;
  };

  void Walk(int32_t node_index, const Json& v) {
    if (Full() || v.is_null()) return;  // null reads as "not set", as the API server decodes it
    const SchemaNode& node = Node(node_index);
    switch (node.type) {
      case SchemaType::kAny: return;
      case SchemaType::kObject: return WalkObject(node.def, v);
      case SchemaType::kString:
        if (!v.is_string()) Error("must be a string, got " + Describe(v) + QuoteHint(v));
        return;
      case SchemaType::kBytes:
        if (!v.is_string()) {
          Error("must be a base64-encoded string, got " + Describe(v));
        } else if (!IsBase64(v.get_ref<const std::string&>())) {
          Error("is not valid base64: encode the value (e.g. base64 -w0 FILE), or put plain text under stringData");
        }
        return;
      case SchemaType::kDateTime:
        if (!v.is_string() || !IsRfc3339(v.get_ref<const std::string&>()))
          Error("must be an RFC 3339 time such as \"2024-01-02T15:04:05Z\", got " + Describe(v));
        return;
      case SchemaType::kInt32: CheckInteger(v, INT32_MIN, INT32_MAX, "int32"); return;
      case SchemaType::kInt64: CheckInteger(v, INT64_MIN, INT64_MAX, "int64"); return;
      case SchemaType::kNumber:
        if (!v.is_number()) Error("must be a number, got " + Describe(v) + UnquoteHint(v));
        return;
      case SchemaType::kBoolean:
        if (!v.is_boolean()) {
          std::string hint;
          if (v.is_string()) {
            const std::string& s = v.get_ref<const std::string&>();
            if (s == "true" || s == "false") hint = " (remove the quotes: " + s + ")";
          }
          Error("must be true or false, got " + Describe(v) + hint);
        }
        return;
      case SchemaType::kIntOrString: {
        if (v.is_string()) return;
        int64_t n = 0;
        if (!v.is_number_integer()) {
          Error("must be an integer or a string, got " + Describe(v));
        } else if (!AsInt64(v, &n) || n < INT32_MIN || n > INT32_MAX) {
          Error("is out of range for an int32 (" + v.dump() + ")");
        }
        return;
      }
      case SchemaType::kQuantity:
        if (v.is_string()) {
          std::string why = CheckQuantity(v.get_ref<const std::string&>());
          if (!why.empty()) Error(Quote(v.get_ref<const std::string&>()) + " " + why);
        } else if (v.is_number_float() && !std::isfinite(v.get<double>())) {
          Error("is not a quantity, got " + Describe(v));
        } else if (!v.is_number()) {
          Error("must be a quantity such as \"250m\", \"1\" or \"128Mi\", got " + Describe(v));
        }
        return;
      case SchemaType::kArray:
        if (!v.is_array()) {
          Error("must be a list, got " + Describe(v));
          return;
        }
        for (size_t i = 0; i < v.size() && !Full(); ++i) {
          Step s(this, "", static_cast<int>(i));
          const SchemaNode& elem = Node(node.elem);
          if (v[i].is_null() && elem.type == SchemaType::kObject) {
            Error("must be a map (" + std::string(Definition(elem.def).name) + "), got null: remove the empty item");
          } else {
            Walk(node.elem, v[i]);
          }
        }
        return;
      case SchemaType::kMap:
        if (!v.is_object()) {
          Error("must be a map, got " + Describe(v));
          return;
        }
        if (Node(node.elem).type == SchemaType::kAny) return;
        for (const auto& [key, item] : v.items()) {
          if (Full()) return;
          Step s(this, key);
          Walk(node.elem, item);
        }
        return;
    }
  }

  void WalkObject(int32_t def_index, const Json& v) {
    const SchemaDefinition& def = Definition(def_index);
    if (!v.is_object()) {
      Error("must be a map (" + std::string(def.name) + "), got " + Describe(v));
      return;
    }
    for (const auto& [key, item] : v.items()) {
      if (Full()) return;
      const SchemaField* f = FindField(def, key);
      Step s(this, key);
      if (f == nullptr) {
        UnknownField(def, key);
        continue;
      }
      Walk(f->node, item);
      if (auto r = rules_.ints.find({def_index, key}); r != rules_.ints.end()) CheckRange(item, r->second);
    }
    for (const SchemaField& f : Fields(def)) {
      if (!f.required || rules_.not_required.count({def_index, f.name})) continue;
      auto it = v.find(f.name);
      if (it == v.end() || it->is_null()) {
        Step s(this, f.name);
        Error("is required (" + std::string(def.name) + ")");
      }
    }
    if (auto r = rules_.def_rules.find(def_index); r != rules_.def_rules.end()) DefinitionRules(r->second, v);
  }

  // At the field's own path: `unknown field "replica" in spec (DeploymentSpec): did you mean "replicas"?`
  void UnknownField(const SchemaDefinition& def, const std::string& key) {
    std::vector<PathStep> parent(path_.begin(), path_.end() - 1);
    std::string where = parent.empty() ? "" : " in " + PathText(parent);
    std::vector<std::string> names;
    for (const SchemaField& field : Fields(def)) names.emplace_back(field.name);
    std::string near = Closest(key, names);
    std::string msg = "unknown field " + Quote(key) + where + " (" + def.name + ")";
    msg += near.empty() ? "; remove it, or check it against the Kubernetes " + std::string(kKubernetesVersion) +
                              " API reference"
                        : ": did you mean " + Quote(near) + "?";
    if (!Full()) errors_.push_back(FieldError{path_, msg, true});
  }

  void CheckInteger(const Json& v, int64_t min, int64_t max, const char* format) {
    if (v.is_number_integer()) {
      int64_t n = 0;
      if (!AsInt64(v, &n) || n < min || n > max)
        Error("is out of range for an " + std::string(format) + " (" + v.dump() + ")");
      return;
    }
    Error("must be an integer (" + std::string(format) + "), got " + Describe(v) + UnquoteHint(v));
  }

  void CheckRange(const Json& v, std::pair<int64_t, int64_t> range) {
    int64_t n = 0;
    if (!AsInt64(v, &n) || n > INT32_MAX) return;  // a type error is reported already
    if (n >= range.first && n <= range.second) return;
    if (range.second == 65535) {
      Error("must be a port number from " + std::to_string(range.first) + " to 65535, got " + v.dump());
    } else {
      Error("must be " + std::to_string(range.first) + " or more, got " + v.dump());
    }
  }

  static std::string QuoteHint(const Json& v) {
    if (v.is_number() || v.is_boolean()) return " (quote it: \"" + v.dump() + "\")";
    return "";
  }
  static std::string UnquoteHint(const Json& v) {
    if (!v.is_string()) return "";
    const std::string& s = v.get_ref<const std::string&>();
    bool digits = !s.empty() && s.size() < 19;
    for (size_t i = 0; i < s.size(); ++i) digits = digits && ((s[i] >= '0' && s[i] <= '9') || (i == 0 && s[i] == '-'));
    return digits ? " (remove the quotes: " + s + ")" : "";
  }

  void DefinitionRules(DefRule rule, const Json& v) {
    switch (rule) {
      case DefRule::kObjectMeta:
        LabelMap(v, "labels");
        Annotations(v);
        return;
      case DefRule::kLabelSelector: {
        LabelMap(v, "matchLabels");
        auto me = v.find("matchExpressions");
        if (me == v.end() || !me->is_array()) return;
        Step s(this, "matchExpressions");
        for (size_t i = 0; i < me->size(); ++i) {
          const Json& e = (*me)[i];
          if (!e.is_object()) continue;
          Step item(this, "", static_cast<int>(i));
          if (auto key = e.find("key"); key != e.end() && key->is_string()) {
            std::string why = CheckQualifiedName(key->get_ref<const std::string&>());
            Step k(this, "key");
            if (!why.empty()) Error(Quote(key->get_ref<const std::string&>()) + " is not a valid label key: " + why);
          }
          auto op = e.find("operator");
          if (op == e.end() || !op->is_string()) continue;
          const std::string& o = op->get_ref<const std::string&>();
          auto values = e.find("values");
          size_t n = values != e.end() && values->is_array() ? values->size() : 0;
          if (o == "In" || o == "NotIn") {
            Step k(this, "values");
            if (n == 0) Error("must be non-empty when operator is " + o);
          } else if (o == "Exists" || o == "DoesNotExist") {
            Step k(this, "values");
            if (n != 0) Error("must be empty when operator is " + o);
          } else {
            Step k(this, "operator");
            Error(Quote(o) + " is not a selector operator: use In, NotIn, Exists or DoesNotExist");
          }
        }
        return;
      }
      case DefRule::kPodSpec: LabelMap(v, "nodeSelector"); return;
      case DefRule::kServiceSpec: LabelMap(v, "selector"); return;
      case DefRule::kContainer: {
        if (auto name = v.find("name"); name != v.end() && name->is_string()) {
          std::string why = CheckDns1123Label(name->get_ref<const std::string&>());
          Step s(this, "name");
          if (!why.empty()) Error(Quote(name->get_ref<const std::string&>()) + " is not a valid container name: " + why);
        }
        auto image = v.find("image");
        if (image == v.end() || image->is_null() || (image->is_string() && image->get_ref<const std::string&>().empty())) {
          Step s(this, "image");
          Error("is required: name the container image, e.g. nginx:1.27");
        }
        return;
      }
      case DefRule::kResources:  // ValidateResourceRequirements: no negative requests or limits
        for (const char* section : {"limits", "requests"}) {
          auto it = v.find(section);
          if (it == v.end() || !it->is_object()) continue;
          Step s(this, section);
          for (const auto& [name, q] : it->items()) {
            bool negative = (q.is_number() && q.get<double>() < 0) ||
                            (q.is_string() && !q.get_ref<const std::string&>().empty() &&
                             q.get_ref<const std::string&>()[0] == '-');
            Step r(this, name);
            if (negative) Error("must be 0 or more, got " + Describe(q));
          }
        }
        return;
      case DefRule::kNone: return;
    }
  }

  // Keys and values of a label map (labels, matchLabels, nodeSelector, a Service's selector).
  void LabelMap(const Json& parent, const char* field) {
    auto it = parent.find(field);
    if (it == parent.end() || !it->is_object()) return;
    Step s(this, field);
    for (const auto& [key, value] : it->items()) {
      if (Full()) return;
      Step k(this, key);
      std::string why = CheckQualifiedName(key);
      if (!why.empty()) {
        Error("is not a valid label key: " + why, true);
        continue;
      }
      if (!value.is_string()) continue;  // the schema walk reported it
      why = CheckLabelValue(value.get_ref<const std::string&>());
      if (!why.empty()) Error("has an invalid label value " + Quote(value.get_ref<const std::string&>()) + ": " + why);
    }
  }

  void Annotations(const Json& meta) {
    auto it = meta.find("annotations");
    if (it == meta.end() || !it->is_object()) return;
    Step s(this, "annotations");
    size_t total = 0;
    for (const auto& [key, value] : it->items()) {
      total += key.size() + (value.is_string() ? value.get_ref<const std::string&>().size() : 0);
      std::string lower = key;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string why = CheckQualifiedName(lower);
      if (!why.empty()) {
        Step k(this, key);
        Error("is not a valid annotation key: " + why, true);
      }
    }
    if (total > kMaxAnnotationBytes) {
      Error("hold " + std::to_string(total) + " bytes; the API server allows at most " +
            std::to_string(kMaxAnnotationBytes) + " (256 KiB) in all annotations of an object: move large data "
            "into a ConfigMap");
    }
  }

  // ---- per object ----

  void Name(const Json& obj, const std::string& group, const std::string& kind) {
    const Json* name = Member(obj, {"metadata", "name"});
    if (name == nullptr || !name->is_string()) return;
    const std::string& n = name->get_ref<const std::string&>();
    Step m(this, "metadata");
    Step s(this, "name");
    NameRule rule = NameRuleFor(group, kind);
    std::string why, shape;
    size_t max = kDns1123SubdomainMaxLength;
    switch (rule) {
      case NameRule::kSubdomain: why = CheckDns1123Subdomain(n); break;
      case NameRule::kLabel1123: why = CheckDns1123Label(n); max = kDns1123LabelMaxLength; break;
      case NameRule::kLabel1035: why = CheckDns1035Label(n); max = kDns1123LabelMaxLength; break;
      case NameRule::kPathSegment: why = CheckPathSegmentName(n); break;
    }
    if (why.empty() && group == "batch" && kind == "CronJob" && n.size() > 52) {
      why = "must be no more than 52 characters (it has " + std::to_string(n.size()) +
            "): the CronJob controller appends 11 characters to name its Jobs";
      max = 52;
    }
    if (why.empty()) return;
    std::string suggestion = rule == NameRule::kPathSegment ? "" : SuggestDnsName(n, max);
    if (rule == NameRule::kLabel1035) {
      while (!suggestion.empty() && suggestion[0] >= '0' && suggestion[0] <= '9') suggestion.erase(0, 1);
    }
    std::string fix = suggestion.empty() || suggestion == n ? "rename it" : "rename it, e.g. " + Quote(suggestion);
    Error(Quote(n) + " is not a valid " + kind + " name: it " + why + "; " + fix);
  }

  void NamespaceName(const Json& obj) {
    const Json* ns = Member(obj, {"metadata", "namespace"});
    if (ns == nullptr || !ns->is_string() || ns->get_ref<const std::string&>().empty()) return;
    std::string why = CheckDns1123Label(ns->get_ref<const std::string&>());
    if (why.empty()) return;
    Step m(this, "metadata");
    Step s(this, "namespace");
    Error(Quote(ns->get_ref<const std::string&>()) + " is not a valid namespace name: it " + why);
  }

  // data / binaryData / stringData of a ConfigMap or Secret: keys, one key in one place, size.
  void DataMaps(const Json& obj, const std::string& kind) {
    size_t total = 0;
    std::map<std::string, std::string> seen;  // key -> field
    for (const char* field : {"data", "binaryData", "stringData"}) {
      auto it = obj.find(field);
      if (it == obj.end() || !it->is_object()) continue;
      bool encoded = kind == "Secret" ? std::string(field) == "data" : std::string(field) == "binaryData";
      Step s(this, field);
      for (const auto& [key, value] : it->items()) {
        if (Full()) return;
        Step k(this, key);
        std::string why = CheckConfigMapKey(key);
        if (!why.empty()) Error("is not a valid " + kind + " key: it " + why, true);
        if (value.is_string()) {
          const std::string& text = value.get_ref<const std::string&>();
          total += encoded ? Base64DecodedSize(text) : text.size();
        }
        auto [prev, fresh] = seen.emplace(key, field);
        if (!fresh && kind == "ConfigMap") {
          Error("is also in " + prev->second + ": a key may appear in data or binaryData, not both");
        }
      }
    }
    if (total > kMaxDataBytes) {
      Step s(this, obj.contains("data") ? "data" : obj.contains("binaryData") ? "binaryData" : "stringData");
      Error("holds " + std::to_string(total) + " bytes of data; a " + kind + " may hold at most " +
            std::to_string(kMaxDataBytes) + " (1 MiB): split it, or mount the data another way");
    }
  }

  // A workload's selector is not empty and selects its own pod template.
  void WorkloadSelector(const Json& obj, const std::string& kind) {
    const Json* selector = Member(obj, {"spec", "selector"});
    const Json* labels = Member(obj, {"spec", "template", "metadata", "labels"});
    if (selector == nullptr || !selector->is_object()) return;  // required: reported by the schema walk
    Step sp(this, "spec");
    if (SelectorEmpty(*selector)) {
      Step s(this, "selector");
      Error("must not be empty: an empty selector would select every pod; give it matchLabels");
      return;
    }
    if (!SelectorMatches(*selector, labels ? *labels : Json::object())) {
      Step t(this, "template");
      Step m(this, "metadata");
      Step l(this, "labels");
      Error("must match spec.selector: the " + kind + "'s selector does not select its own pod template; give the "
            "template the labels the selector names");
    }
  }

  // A ReplicationController's selector is a plain label map; when set it must select the template.
  void ControllerSelector(const Json& obj) {
    const Json* selector = Member(obj, {"spec", "selector"});
    const Json* labels = Member(obj, {"spec", "template", "metadata", "labels"});
    if (selector == nullptr || !selector->is_object() || selector->empty()) return;
    if (!SelectorMatches(Json{{"matchLabels", *selector}}, labels ? *labels : Json::object())) {
      Step sp(this, "spec");
      Step t(this, "template");
      Step m(this, "metadata");
      Step l(this, "labels");
      Error("must match spec.selector: the ReplicationController's selector does not select its own pod template");
    }
  }

  void CrdName(const Json& obj) {
    const Json* name = Member(obj, {"metadata", "name"});
    const Json* group = Member(obj, {"spec", "group"});
    const Json* plural = Member(obj, {"spec", "names", "plural"});
    if (!name || !name->is_string() || !group || !group->is_string() || !plural || !plural->is_string()) return;
    std::string want = plural->get<std::string>() + "." + group->get<std::string>();
    if (*name == want) return;
    Step m(this, "metadata");
    Step s(this, "name");
    Error("must be spec.names.plural + \".\" + spec.group: rename it " + Quote(want));
  }

  void Size(const Json& obj) {
    std::string text;
    try {
      text = obj.dump();
    } catch (const Json::exception&) {
      return;  // not UTF-8: the spec loader says so
    }
    if (text.size() > kMaxObjectBytes) {
      Error("is " + std::to_string(text.size()) + " bytes as JSON; the API server stores at most " +
            std::to_string(kMaxObjectBytes) + " (1.5 MiB) per object: split it into smaller objects");
    }
  }

  std::vector<PathStep> path_;

 private:
  size_t max_;
  const Rules& rules_;
  std::vector<FieldError> errors_;
};

// Problems with apiVersion/kind for a built-in group; nullptr kind when there are any.
const SchemaKind* ResolveKind(Validator* v, const std::string& api_version, const std::string& group,
                              const std::string& version, const std::string& kind) {
  const SchemaKind* k = FindKind(group, version, kind);
  if (k != nullptr && !k->alpha) {
    if (!k->appliable) {
      Validator::Step s(v, "kind");
      v->Error("names " + kind + ", which the API server does not store (it only answers requests); remove it");
      return nullptr;
    }
    return k;
  }
  std::vector<const SchemaKind*> here = ServedVersions(group, kind);
  if (!here.empty()) {
    Validator::Step s(v, "apiVersion");
    std::string why = k != nullptr ? " is an alpha API, off by default" : " does not serve " + kind;
    v->Error(Quote(api_version) + why + " in Kubernetes " + kKubernetesVersion + "; use apiVersion: " +
             ApiVersionOf(*here[0]));
    return nullptr;
  }
  std::vector<const SchemaKind*> elsewhere = KindsNamed(kind);
  if (!elsewhere.empty()) {
    Validator::Step s(v, "apiVersion");
    v->Error(Quote(api_version) + " does not serve " + kind + "; " + kind + " is served as apiVersion: " +
             ApiVersionOf(*elsewhere[0]));
    return nullptr;
  }
  Validator::Step s(v, "kind");
  std::string near = Closest(kind, KindNamesInGroup(group));
  std::string list = group.empty() ? "the core group (v1)" : "group " + group;
  v->Error(Quote(kind) + " is not a kind of " + list + " in Kubernetes " + kKubernetesVersion +
           (near.empty() ? "; check the kind and the apiVersion" : ": did you mean " + near + "?"));
  return nullptr;
}

}  // namespace

std::string PathText(const std::vector<PathStep>& path) {
  std::string out;
  for (const PathStep& s : path) {
    if (s.index >= 0) {
      out += "[" + std::to_string(s.index) + "]";
    } else if (s.key.find_first_of("./ ") != std::string::npos || s.key.empty()) {
      out += "[" + Quote(s.key) + "]";
    } else {
      out += (out.empty() ? "" : ".") + s.key;
    }
  }
  return out;
}

bool IsCustomResource(const std::string& group, const std::string& kind) {
  (void)kind;
  return !IsBuiltinGroup(group) && group != kConvergeGroup && group != "policy.karmada.io";
}

bool CustomKindOf(const Json& crd, CustomKind* out) {
  const Json* group = Member(crd, {"spec", "group"});
  const Json* kind = Member(crd, {"spec", "names", "kind"});
  if (!group || !group->is_string() || !kind || !kind->is_string()) return false;
  out->group = group->get<std::string>();
  out->kind = kind->get<std::string>();
  const Json* plural = Member(crd, {"spec", "names", "plural"});
  out->plural = plural && plural->is_string() ? plural->get<std::string>() : "";
  const Json* scope = Member(crd, {"spec", "scope"});
  out->namespaced = !(scope && scope->is_string() && scope->get<std::string>() == "Cluster");
  out->served_versions.clear();
  if (const Json* versions = Member(crd, {"spec", "versions"}); versions && versions->is_array()) {
    for (const Json& v : *versions) {
      if (!v.is_object() || !v.value("name", Json()).is_string()) continue;
      if (v.value("served", Json(true)) == Json(false)) continue;
      out->served_versions.push_back(v["name"].get<std::string>());
    }
  }
  return true;
}

std::vector<FieldError> ValidateObject(const Json& object, size_t max_errors) {
  Validator v(max_errors);
  const Json* api_version = Member(object, {"apiVersion"});
  const Json* kind_json = Member(object, {"kind"});
  if (!object.is_object() || !api_version || !api_version->is_string() || !kind_json || !kind_json->is_string()) {
    return {};  // identity problems are the caller's
  }
  const std::string& av = api_version->get_ref<const std::string&>();
  const std::string& kind = kind_json->get_ref<const std::string&>();
  std::string group = GroupOf(av);
  std::string version = av.substr(av.find('/') == std::string::npos ? 0 : av.find('/') + 1);
  if (group == kConvergeGroup || group == "policy.karmada.io") return {};
  const Rules& rules = GetRules();

  if (IsBuiltinGroup(group)) {
    const SchemaKind* k = ResolveKind(&v, av, group, version, kind);
    if (k == nullptr) return v.Take();
    v.WalkObject(k->def, object);
    // A workload's spec is a struct, not a pointer, in the API types: left out, it is validated as
    // empty, so its required fields are reported.
    bool workload = (group == "apps" && kind != "ControllerRevision") || (group == "batch");
    if (workload && (!object.contains("spec") || object["spec"].is_null())) {
      const SchemaField* spec = FindField(Definition(k->def), "spec");
      if (spec != nullptr) {
        Validator::Step s(&v, "spec");
        v.Walk(spec->node, Json::object());
      }
    }
    v.Name(object, group, kind);
    v.NamespaceName(object);
    if (group.empty() && (kind == "ConfigMap" || kind == "Secret")) v.DataMaps(object, kind);
    if (group == "apps" && kind != "ControllerRevision") v.WorkloadSelector(object, kind);
    if (group.empty() && kind == "ReplicationController") v.ControllerSelector(object);
    if (group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition") v.CrdName(object);
  } else {
    if (const Json* md = Member(object, {"metadata"}); md != nullptr && rules.object_meta >= 0) {
      Validator::Step s(&v, "metadata");
      v.WalkObject(rules.object_meta, *md);
    }
    v.Name(object, group, kind);
    v.NamespaceName(object);
  }
  v.Size(object);
  return v.Take();
}

}  // namespace converge::k8s
