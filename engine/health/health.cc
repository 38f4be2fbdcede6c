// AssessHealth: per-kind health rules over a live object's spec and status (after gitops-engine
// pkg/health). A field of the wrong type is reported as Unknown with a message, never thrown.
#include "engine/health/health.h"

#include <exception>
#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

namespace converge {

const char* HealthName(Health h) {
  switch (h) {
    case Health::kHealthy: return "Healthy";
    case Health::kProgressing: return "Progressing";
    case Health::kUnknown: return "Unknown";
    case Health::kDegraded: return "Degraded";
    case Health::kMissing: return "Missing";
  }
  return "Unknown";
}

namespace {

// Thrown by the accessors below on a field of the wrong type; caught in AssessHealth.
struct Malformed {
  std::string message;
};

const Json* Child(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

// obj[a][b]... where every step must be a map when present; nullptr when absent.
const Json* Path(const Json& obj, std::initializer_list<const char*> keys) {
  const Json* cur = &obj;
  std::string walked;
  for (const char* key : keys) {
    if (!cur->is_object()) throw Malformed{(walked.empty() ? std::string("an entry") : walked) + " is not a map"};
    cur = Child(*cur, key);
    walked += walked.empty() ? key : std::string(".") + key;
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

std::string Dotted(std::initializer_list<const char*> keys) {
  std::string out;
  for (const char* k : keys) out += out.empty() ? k : std::string(".") + k;
  return out;
}

long long Int(const Json& obj, std::initializer_list<const char*> keys, long long fallback) {
  const Json* v = Path(obj, keys);
  if (v == nullptr) return fallback;
  if (!v->is_number_integer()) throw Malformed{Dotted(keys) + " is not an integer"};
  return v->get<long long>();
}

std::string Str(const Json& obj, std::initializer_list<const char*> keys) {
  const Json* v = Path(obj, keys);
  if (v == nullptr) return "";
  if (!v->is_string()) throw Malformed{Dotted(keys) + " is not a string"};
  return v->get<std::string>();
}

const Json* Array(const Json& obj, std::initializer_list<const char*> keys) {
  const Json* v = Path(obj, keys);
  if (v != nullptr && !v->is_array()) throw Malformed{Dotted(keys) + " is not a list"};
  return v;
}

// The status.conditions entry of this type, or nullptr.
const Json* Condition(const Json& obj, const char* type) {
  const Json* conditions = Array(obj, {"status", "conditions"});
  if (conditions == nullptr) return nullptr;
  for (const Json& c : *conditions) {
    if (c.is_object() && Str(c, {"type"}) == type) return &c;
  }
  return nullptr;
}

bool ConditionTrue(const Json& obj, const char* type) {
  const Json* c = Condition(obj, type);
  return c != nullptr && Str(*c, {"status"}) == "True";
}

std::string Fraction(long long have, long long want, const char* what) {
  return std::to_string(have) + "/" + std::to_string(want) + " " + what;
}

HealthStatus Make(Health h, std::string message = "") { return HealthStatus{h, std::move(message)}; }

// Progressing while the controller has not yet seen the latest spec.
bool GenerationPending(const Json& obj, HealthStatus* out) {
  const long long generation = Int(obj, {"metadata", "generation"}, 0);
  const long long observed = Int(obj, {"status", "observedGeneration"}, 0);
  if (generation > 0 && observed < generation) {
    *out = Make(Health::kProgressing, "waiting for the controller to observe generation " +
                                          std::to_string(generation) + " (observed " +
                                          std::to_string(observed) + ")");
    return true;
  }
  return false;
}

HealthStatus DeploymentHealth(const Json& obj) {
  HealthStatus pending;
  if (GenerationPending(obj, &pending)) return pending;
  if (const Json* c = Condition(obj, "Progressing");
      c != nullptr && Str(*c, {"reason"}) == "ProgressDeadlineExceeded") {
    std::string msg = Str(*c, {"message"});
    return Make(Health::kDegraded, msg.empty() ? "progress deadline exceeded" : msg);
  }
  const long long replicas = Int(obj, {"spec", "replicas"}, 1);
  const long long updated = Int(obj, {"status", "updatedReplicas"}, 0);
  const long long total = Int(obj, {"status", "replicas"}, 0);
  const long long available = Int(obj, {"status", "availableReplicas"}, 0);
  if (updated < replicas) return Make(Health::kProgressing, Fraction(updated, replicas, "replicas updated"));
  if (total > updated) {
    return Make(Health::kProgressing, std::to_string(total - updated) + " old replicas pending termination");
  }
  if (available < replicas) {
    return Make(Health::kProgressing, Fraction(available, replicas, "replicas available"));
  }
  return Make(Health::kHealthy, Fraction(available, replicas, "replicas available"));
}

HealthStatus StatefulSetHealth(const Json& obj) {
  HealthStatus pending;
  if (GenerationPending(obj, &pending)) return pending;
  const long long replicas = Int(obj, {"spec", "replicas"}, 1);
  const long long ready = Int(obj, {"status", "readyReplicas"}, 0);
  if (Path(obj, {"status", "updatedReplicas"}) != nullptr) {
    const long long updated = Int(obj, {"status", "updatedReplicas"}, 0);
    if (updated < replicas) return Make(Health::kProgressing, Fraction(updated, replicas, "replicas updated"));
  }
  if (ready < replicas) return Make(Health::kProgressing, Fraction(ready, replicas, "replicas ready"));
  return Make(Health::kHealthy, Fraction(ready, replicas, "replicas ready"));
}

HealthStatus DaemonSetHealth(const Json& obj) {
  HealthStatus pending;
  if (GenerationPending(obj, &pending)) return pending;
  const long long desired = Int(obj, {"status", "desiredNumberScheduled"}, 0);
  const long long available = Int(obj, {"status", "numberAvailable"}, 0);
  if (Path(obj, {"status", "updatedNumberScheduled"}) != nullptr) {
    const long long updated = Int(obj, {"status", "updatedNumberScheduled"}, 0);
    if (updated < desired) return Make(Health::kProgressing, Fraction(updated, desired, "pods updated"));
  }
  if (available < desired) return Make(Health::kProgressing, Fraction(available, desired, "pods available"));
  return Make(Health::kHealthy, Fraction(available, desired, "pods available"));
}

// A container stuck in a state that will not fix itself, as "web: CrashLoopBackOff: ...".
std::string StuckContainer(const Json& obj) {
  static const char* const kStuck[] = {"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull",
                                       "CreateContainerConfigError", "InvalidImageName"};
  for (const char* list : {"initContainerStatuses", "containerStatuses"}) {
    const Json* statuses = Array(obj, {"status", list});
    if (statuses == nullptr) continue;
    for (const Json& cs : *statuses) {
      const std::string reason = Str(cs, {"state", "waiting", "reason"});
      for (const char* stuck : kStuck) {
        if (reason != stuck) continue;
        std::string msg = Str(cs, {"name"}) + ": " + reason;
        const std::string detail = Str(cs, {"state", "waiting", "message"});
        return detail.empty() ? msg : msg + ": " + detail;
      }
    }
  }
  return "";
}

// The message of the first False condition ("Unschedulable: 0/3 nodes are available...").
std::string FalseConditionMessage(const Json& obj) {
  const Json* conditions = Array(obj, {"status", "conditions"});
  if (conditions == nullptr) return "";
  for (const Json& c : *conditions) {
    if (Str(c, {"status"}) != "False") continue;
    std::string reason = Str(c, {"reason"}), message = Str(c, {"message"});
    if (reason.empty()) return message;
    return message.empty() ? reason : reason + ": " + message;
  }
  return "";
}

HealthStatus PodHealth(const Json& obj) {
  const std::string phase = Str(obj, {"status", "phase"});
  if (phase == "Succeeded") return Make(Health::kHealthy, "pod completed");
  if (phase == "Failed") {
    std::string msg = Str(obj, {"status", "message"});
    if (msg.empty()) msg = Str(obj, {"status", "reason"});
    return Make(Health::kDegraded, msg.empty() ? "pod failed" : msg);
  }
  if (phase == "Unknown") return Make(Health::kUnknown, "pod phase is Unknown (node unreachable?)");
  if (std::string stuck = StuckContainer(obj); !stuck.empty()) return Make(Health::kDegraded, stuck);
  if (phase == "Running") {
    if (ConditionTrue(obj, "Ready")) return Make(Health::kHealthy);
    std::string msg = FalseConditionMessage(obj);
    return Make(Health::kProgressing, msg.empty() ? "pod running but not ready" : msg);
  }
  if (phase == "Pending" || phase.empty()) {
    std::string msg = FalseConditionMessage(obj);
    return Make(Health::kProgressing, msg.empty() ? "pod pending" : msg);
  }
  return Make(Health::kUnknown, "unknown pod phase \"" + phase + "\"");
}

HealthStatus ClusterHealth(const Json& obj) {
  const std::string phase = Str(obj, {"status", "phase"});
  const std::string message = Str(obj, {"status", "message"});
  auto with = [&](const std::string& fallback) { return message.empty() ? fallback : message; };
  if (phase == "Running") return Make(Health::kHealthy, message);
  if (phase.empty()) return Make(Health::kProgressing, "cluster status not reported yet");
  if (phase == "Creating" || phase == "Updating" || phase == "Upgrading" || phase == "Deleting" ||
      phase == "Pending" || phase == "Scaling") {
    return Make(Health::kProgressing, with("cluster is " + phase));
  }
  if (phase == "Failed" || phase == "Error" || phase == "Unavailable") {
    return Make(Health::kDegraded, with("cluster phase is " + phase));
  }
  return Make(Health::kUnknown, "unknown cluster phase \"" + phase + "\"");
}

HealthStatus ServiceHealth(const Json& obj) {
  if (Str(obj, {"spec", "type"}) != "LoadBalancer") return Make(Health::kHealthy);
  const Json* ingress = Array(obj, {"status", "loadBalancer", "ingress"});
  if (ingress == nullptr || ingress->empty()) {
    return Make(Health::kProgressing, "waiting for the load balancer to get an address");
  }
  return Make(Health::kHealthy);
}

HealthStatus PvcHealth(const Json& obj) {
  const std::string phase = Str(obj, {"status", "phase"});
  if (phase == "Bound") return Make(Health::kHealthy);
  if (phase == "Lost") return Make(Health::kDegraded, "claim lost its volume");
  return Make(Health::kProgressing, phase.empty() ? "claim not bound yet" : "claim is " + phase);
}

HealthStatus JobHealth(const Json& obj) {
  if (ConditionTrue(obj, "Failed")) {
    const Json* c = Condition(obj, "Failed");
    std::string msg = Str(*c, {"message"});
    if (msg.empty()) msg = Str(*c, {"reason"});
    return Make(Health::kDegraded, msg.empty() ? "job failed" : msg);
  }
  if (ConditionTrue(obj, "Complete")) return Make(Health::kHealthy, "job completed");
  return Make(Health::kProgressing, "job running");
}

HealthStatus Assess(const Json& obj) {
  if (!obj.is_object()) return Make(Health::kUnknown, "object is not a map");
  const std::string api_version = Str(obj, {"apiVersion"});
  const std::string kind = Str(obj, {"kind"});
  const std::string group = GroupOf(api_version);
  if (Path(obj, {"status"}) != nullptr && !Path(obj, {"status"})->is_object()) {
    throw Malformed{"status is not a map"};
  }
  if (group == kConvergeGroup && kind == "Cluster") return ClusterHealth(obj);
  if (group == "apps" || group == "extensions") {
    if (kind == "Deployment") return DeploymentHealth(obj);
    if (kind == "StatefulSet") return StatefulSetHealth(obj);
    if (kind == "DaemonSet") return DaemonSetHealth(obj);
  }
  if (group.empty()) {
    if (kind == "Pod") return PodHealth(obj);
    if (kind == "Service") return ServiceHealth(obj);
    if (kind == "PersistentVolumeClaim") return PvcHealth(obj);
  }
  if (group == "batch" && kind == "Job") return JobHealth(obj);
  return Make(Health::kHealthy);
}

}  // namespace

HealthStatus AssessHealth(const Json* live) {
  if (live == nullptr || live->is_null()) return Make(Health::kMissing, "object does not exist");
  try {
    return Assess(*live);
  } catch (const Malformed& m) {
    return Make(Health::kUnknown, "malformed object: " + m.message);
  } catch (const std::exception& e) {
    return Make(Health::kUnknown, std::string("cannot assess health: ") + e.what());
  }
}

}  // namespace converge
