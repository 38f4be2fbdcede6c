#include "engine/observe/observe.h"

#include <memory>

#include <nlohmann/json.hpp>

#include "engine/base/env.h"
#include "engine/base/scheduler.h"
#include "engine/diff/classify.h"
#include "engine/observe/fleet_session.h"

namespace converge {

Observer::Observer(FleetSession* session, Env* env, ObserveOptions options)
    : session_(session), env_(env), options_(options) {}

namespace {

CallOptions Deadline(Env* env, int64_t timeout_ms) {
  CallOptions o;
  if (timeout_ms > 0) o.deadline_ms = env->MonotonicMillis() + timeout_ms;
  return o;
}

}  // namespace

ClusterLive Observer::ObserveOne(const std::string& name, bool marker) {
  ClusterLive out;
  out.name = name;
  CloudProvider* provider = session_->ProviderOfCluster(name);
  if (!provider) {
    out.reachable = Status::NotFound("cluster " + name + " is not on any Cloud converge knows");
    return out;
  }
  Result<Json> live = Status::Internal("not observed");
  Status st = RetryWithBackoff(options_.retry, env_, [&] {
    live = provider->GetCluster(name, Deadline(env_, options_.call_timeout_ms));
    return live.ok() || live.status().IsNotFound() ? Status::Ok() : live.status();
  });
  if (!st.ok()) {
    out.reachable = st.WithContext("cluster " + name);
    return out;
  }
  if (!live.ok()) return out;  // NotFound: reachable, does not exist
  out.cluster = std::make_shared<const Json>(std::move(live).value());
  const Json& status = out.cluster->value("status", Json::object());
  if (status.is_object()) {
    out.phase = status.value("phase", "");
    out.nodes = status.value("nodes", 0);
    out.ready_nodes = status.value("readyNodes", 0);
  }
  out.resource_version = ResourceVersionOf(*out.cluster);
  if (!marker || !out.ready()) return out;
  Result<ClusterConnector*> conn = session_->Connector(name, Deadline(env_, options_.call_timeout_ms));
  if (!conn.ok()) {
    out.objects_reachable = conn.status();
    return out;
  }
  Result<std::string> m = Status::Internal("not observed");
  out.objects_reachable = RetryWithBackoff(options_.retry, env_, [&] {
    m = (*conn)->ChangeMarker(Deadline(env_, options_.call_timeout_ms));
    return m.status();
  });
  if (m.ok()) out.marker = *m;
  return out;
}

std::map<std::string, ClusterLive> Observer::Clusters(const std::vector<std::string>& names, bool markers) {
  std::map<std::string, ClusterLive> out;
  if (names.empty()) return out;
  std::unique_ptr<Scheduler> scheduler = env_->NewScheduler(std::max(1, std::min<int>(options_.parallelism, names.size())));
  std::vector<ClusterLive> results(names.size());
  size_t done = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    scheduler->Offload([this, &names, &results, i, markers] { results[i] = ObserveOne(names[i], markers); },
                       [&done] { done++; });
  }
  scheduler->RunUntil([&] { return done == names.size(); });
  for (ClusterLive& c : results) {
    std::string name = c.name;
    out.emplace(std::move(name), std::move(c));
  }
  return out;
}

Result<std::vector<std::string>> Observer::Versions(const std::string& cluster, const std::vector<ObjectKey>& keys) {
  if (keys.empty()) return std::vector<std::string>{};
  Result<ClusterConnector*> conn = session_->Connector(cluster, Deadline(env_, options_.call_timeout_ms));
  if (!conn.ok()) return conn.status();
  Result<std::vector<std::string>> out = Status::Internal("not observed");
  Status st = RetryWithBackoff(options_.retry, env_, [&] {
    out = (*conn)->ResourceVersions(keys, Deadline(env_, options_.call_timeout_ms));
    return out.status();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<std::optional<Json>>> Observer::Bodies(const std::string& cluster,
                                                          const std::vector<ObjectKey>& keys) {
  if (keys.empty()) return std::vector<std::optional<Json>>{};
  Result<ClusterConnector*> conn = session_->Connector(cluster, Deadline(env_, options_.call_timeout_ms));
  if (!conn.ok()) return conn.status();
  Result<std::vector<std::optional<Json>>> out = Status::Internal("not observed");
  Status st = RetryWithBackoff(options_.retry, env_, [&] {
    out = (*conn)->GetMany(keys, Deadline(env_, options_.call_timeout_ms));
    return out.status();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<ServedKind>> Observer::Kinds(const std::string& cluster) {
  Result<ClusterConnector*> conn = session_->Connector(cluster, Deadline(env_, options_.call_timeout_ms));
  if (!conn.ok()) return conn.status();
  Result<std::vector<ApiResource>> found = Status::Internal("not observed");
  Status st = RetryWithBackoff(options_.retry, env_, [&] {
    found = (*conn)->Discover(Deadline(env_, options_.call_timeout_ms));
    return found.status();
  });
  if (!st.ok()) return st;
  std::vector<ServedKind> out;
  out.reserve(found->size());
  for (const ApiResource& r : *found) out.push_back(ServedKind{r.group, r.kind, r.namespaced});
  return out;
}

}  // namespace converge
