// SimState basics: opening, the resourceVersion counter, identifiers, cluster rows, faults and
// the lazy advance of simulated time.
#include "providers/sim/sim_state.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <sstream>

#include "engine/base/env.h"

namespace converge::sim {

std::string Rfc3339(int64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<int64_t> ParseRfc3339(const std::string& text) {
  struct tm tm {};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

Json Faults::ToJson() const {
  Json j = Json::object();
  if (outage) j["outage"] = true;
  if (api_error_rate > 0) j["apiErrorRate"] = api_error_rate;
  if (latency_ms > 0) j["latencyMs"] = latency_ms;
  return j;
}

Faults Faults::FromJson(const std::string& text) {
  Faults f;
  Json j = Json::parse(text.empty() ? "{}" : text);
  f.outage = j.value("outage", false);
  f.api_error_rate = j.value("apiErrorRate", 0.0);
  f.latency_ms = j.value("latencyMs", int64_t{0});
  return f;
}

SimState::SimState(std::unique_ptr<Db> db, Env* env) : db_(std::move(db)), env_(env) {
  // From the Env, so a simulated Env makes generated names repeatable.
  name_rng_.seed(env_->RandomU64());
  std::string seed = env_->GetVar("CONVERGE_SIM_SEED");
  if (!seed.empty()) {
    fault_rng_.seed(std::strtoull(seed.c_str(), nullptr, 10));
  } else {
    fault_rng_.seed(env_->RandomU64());
  }
}

Result<std::unique_ptr<SimState>> SimState::Open(const std::string& state_dir, Env* env) {
  if (state_dir.empty()) return Status::Invalid("sim: no state directory given: pass --state-dir DIR");
  Status dirs = env->CreateDirs(state_dir);
  if (!dirs.ok()) return dirs.WithContext("sim: cannot create the state directory " + state_dir);
  Result<std::unique_ptr<Db>> db = Db::Open(state_dir + "/converge.db");
  if (!db.ok()) return db.status();
  return std::unique_ptr<SimState>(new SimState(std::move(db).value(), env));
}

int64_t SimState::Now() { return env_->NowMillis(); }

int64_t SimState::NextRv() {
  if (!rv_loaded_) {
    Stmt q = db_->Prepare("SELECT next_rv FROM sim_meta LIMIT 1");
    rv_next_ = q.Step() ? q.Int(0) : 1;
    rv_stored_ = rv_next_;
    rv_loaded_ = true;
  }
  return rv_next_++;
}

void SimState::FlushRv() {
  if (rv_loaded_ && rv_next_ != rv_stored_) {
    db_->Prepare("UPDATE sim_meta SET next_rv = ?").Bind(1, rv_next_).Run();
    rv_stored_ = rv_next_;
  }
  rv_loaded_ = false;
}

std::string SimState::NewUid() {
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    int v = static_cast<int>(name_rng_() & 15);
    if (i == 12) v = 4;                 // version 4
    if (i == 16) v = 8 | (v & 3);       // variant 10xx
    out += kHex[v];
  }
  return out;
}

std::string SimState::RandomSuffix(int n) {
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";  // Kubernetes' safe alphabet
  std::string out;
  for (int i = 0; i < n; ++i) out += kAlphabet[name_rng_() % (sizeof kAlphabet - 1)];
  return out;
}

std::optional<ClusterRow> SimState::FindCluster(const std::string& name) {
  // The cluster's columns, then its cloud's timings (a cluster whose cloud row is gone keeps the
  // default timings).
  static const std::string kSql = "SELECT " + ClusterCodec().Columns("c") +
                                  ", cl.name IS NOT NULL, cl.create_ms, cl.pod_start_ms, cl.upgrade_step_ms, "
                                  "cl.scale_ms FROM sim_clusters c LEFT JOIN sim_clouds cl ON cl.name = c.cloud "
                                  "WHERE c.name = ?1";
  static const int kCloud = ClusterCodec().size();
  Stmt q = db_->Prepare(kSql);
  q.Bind(1, name);
  if (!q.Step()) return std::nullopt;
  ClusterRow c = q.Read(ClusterCodec());
  if (q.Int(kCloud) != 0) c.timings = Timings{q.Int(kCloud + 1), q.Int(kCloud + 2), q.Int(kCloud + 3), q.Int(kCloud + 4)};
  return c;
}

std::optional<CloudRow> SimState::FindCloud(const std::string& name) {
  static const std::string kSql = CloudCodec().Select() + " WHERE name = ?1";
  Stmt q = db_->Prepare(kSql);
  q.Bind(1, name);
  if (!q.Step()) return std::nullopt;
  return q.Read(CloudCodec());
}

ClusterRow SimState::LoadCluster(const std::string& name, const std::string& cloud) {
  std::optional<ClusterRow> c = FindCluster(name);
  if (!c || (!cloud.empty() && c->cloud != cloud)) {
    Fail(Status::NotFound("cluster \"" + name + "\" not found" + (cloud.empty() ? "" : " on cloud \"" + cloud + "\"") +
                          " in the simulated world: apply its Cluster first (`converge sim list` shows what exists)"));
  }
  return *c;
}

ClusterRow SimState::Preflight(const std::string& cluster) {
  std::optional<ClusterRow> c = FindCluster(cluster);
  if (!c) {
    Fail(Status::Unavailable("cluster " + cluster + " does not exist (any more) in the simulated world: apply its Cluster",
                             false));
  }
  if (c->faults.latency_ms > 0) SleepLatency(cluster, c->faults.latency_ms);
  if (c->faults.outage) Fail(Status::Unavailable("cluster " + cluster + ": connection refused (simulated outage)"));
  int64_t now = Now();
  if (now < c->ready_at) {
    Fail(Status::Unavailable("cluster " + cluster + " is still creating (ready in about " +
                             std::to_string((c->ready_at - now + 999) / 1000) + "s); retry later"));
  }
  if (c->faults.api_error_rate > 0) {
    std::uniform_real_distribution<double> dist(0.0, 1.0);
    if (dist(fault_rng_) < c->faults.api_error_rate) {
      Fail(Status::Unavailable("cluster " + cluster + ": 500 Internal Server Error (simulated)"));
    }
  }
  return *c;
}

bool SimState::NeedsAdvance(const ClusterRow& c, int64_t now) {
  if (c.next_event_at && *c.next_event_at <= now) return true;
  Stmt q = db_->Prepare("SELECT 1 FROM sim_objects WHERE cluster = ? AND next_event_at <= ? LIMIT 1");
  q.Bind(1, c.name).Bind(2, now);
  return q.Step();
}

void SimState::Advance(ClusterRow& c) {
  int64_t now = Now();
  std::set<WorkloadRef> owners;
  std::vector<std::pair<int64_t, int64_t>> due;  // id, event time
  {
    Stmt q = db_->Prepare(
        "SELECT id, next_event_at FROM sim_objects WHERE cluster = ? AND next_event_at <= ? ORDER BY next_event_at");
    q.Bind(1, c.name).Bind(2, now);
    while (q.Step()) due.emplace_back(q.Int(0), q.Int(1));
  }
  for (const auto& [id, at] : due) {
    std::optional<ObjRow> row = FindObjectById(id);
    if (!row) continue;
    if (row->key.group.empty() && row->key.kind == "Pod") {
      StartPod(c, *row, at);
      if (!row->owner_kind.empty()) owners.insert({row->owner_kind, row->key.ns, row->owner_name});
    } else {
      db_->Prepare("UPDATE sim_objects SET next_event_at = NULL WHERE id = ?").Bind(1, id).Run();
      owners.insert({row->key.kind, row->key.ns, row->key.name});
    }
  }
  if (c.next_event_at && *c.next_event_at <= now) {
    SchedulePending(c, &owners, *c.next_event_at);  // bound as of when the node became ready
    UpdateNextNodeEvent(c, now);
  }
  RefreshAll(c, owners);
}

void SimState::AdvanceIfDue(ClusterRow& c) {
  // A read-only state dir (read-only commands of another user) cannot record simulated time
  // passing: the simulated fleet is read as it was last written.
  if (db_->connection().read_only()) return;
  if (!NeedsAdvance(c, Now())) return;
  Write([&] {
    c = LoadCluster(c.name);
    Advance(c);
  });
}

void SimState::UpdateNextNodeEvent(ClusterRow& c, int64_t now) {
  Stmt q = db_->Prepare("SELECT MIN(ready_at) FROM sim_nodes WHERE cluster = ? AND ready_at > ?");
  q.Bind(1, c.name).Bind(2, now);
  c.next_event_at.reset();
  if (q.Step() && !q.IsNull(0)) c.next_event_at = q.Int(0);
  static const sqlite::RowCodec<ClusterRow> kNextEvent = ClusterCodec().Subset({"name", "next_event_at"});
  static const std::string kUpdate = kNextEvent.Update();
  db_->Prepare(kUpdate).BindRow(kNextEvent, c).Run();
}

Status SimState::Fault(const std::string& cluster, const std::string& fault) {
  return Guard([&]() -> Status {
    Faults add;
    std::string name = fault, value;
    if (auto eq = fault.find('='); eq != std::string::npos) {
      name = fault.substr(0, eq);
      value = fault.substr(eq + 1);
    }
    const std::string kForms = ": use outage, api-errors=RATE (0 < RATE <= 1) or latency=MS";
    if (name == "outage" && value.empty()) {
      add.outage = true;
    } else if (name == "api-errors") {
      char* end = nullptr;
      double rate = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !(rate > 0 && rate <= 1)) {
        return Status::Invalid("sim fault \"" + fault + "\": the rate must be a number in (0, 1]" + kForms);
      }
      add.api_error_rate = rate;
    } else if (name == "latency") {
      char* end = nullptr;
      long long ms = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || ms < 0) {
        return Status::Invalid("sim fault \"" + fault + "\": the latency must be whole milliseconds" + kForms);
      }
      add.latency_ms = ms;
    } else {
      return Status::Invalid("sim fault \"" + fault + "\" is unknown" + kForms);
    }
    Write([&] {
      static const sqlite::RowCodec<ClusterRow> kFaults = ClusterCodec().Subset({"name", "faults"});
      static const std::string kUpdate = kFaults.Update();
      ClusterRow c = LoadCluster(cluster);
      Faults& f = c.faults;
      f.outage = f.outage || add.outage;
      if (add.api_error_rate > 0) f.api_error_rate = add.api_error_rate;
      if (add.latency_ms > 0) f.latency_ms = add.latency_ms;
      db_->Prepare(kUpdate).BindRow(kFaults, c).Run();
    });
    return Status::Ok();
  });
}

Status SimState::Heal(const std::string& cluster) {
  return Guard([&]() -> Status {
    Write([&] {
      LoadCluster(cluster);
      db_->Prepare("UPDATE sim_clusters SET faults = '{}' WHERE name = ?").Bind(1, cluster).Run();
    });
    return Status::Ok();
  });
}

}  // namespace converge::sim
