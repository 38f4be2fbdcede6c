#include "engine/cli/output.h"

#include <ctime>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

namespace converge {
namespace {

const char* kReset = "\033[0m";
const char* kBold = "\033[1m";
const char* kRed = "\033[31m";
const char* kGreen = "\033[32m";
const char* kYellow = "\033[33m";
const char* kCyan = "\033[36m";

std::string Paint(const std::string& s, const char* code, bool color) {
  return color ? std::string(code) + s + kReset : s;
}

std::string Short(const std::string& sha) { return sha.substr(0, 12); }

// "Deployment guestbook/frontend" with the API group when there is one.
std::string ObjectName(const ObjectKey& key) {
  std::string out = key.kind;
  if (!key.group.empty() && key.group != kConvergeGroup) out += "." + key.group;
  out += " ";
  if (!key.ns.empty()) out += key.ns + "/";
  return out + key.name;
}
std::string ObjectName(const Action& a) { return ObjectName(a.ref.key); }

bool IsClusterDelete(const Action& a) {
  return a.type == ChangeType::kDelete && a.ref.cluster.empty() && a.ref.key.kind == "Cluster";
}

// Why a create or update is planned, in words ("" for a plain create from Git and for deletes).
std::string CauseText(const Action& a) {
  const bool create = a.type == ChangeType::kCreate;
  if (a.type == ChangeType::kDelete) return "";
  switch (a.cause) {
    case Cause::kGit: return create ? "" : "changed in Git";
    case Cause::kDrift:
      return create ? "drift: deleted from the cluster since converge applied it"
                    : "drift: changed on the cluster since converge applied it";
    case Cause::kGitAndDrift:
      return create ? "changed in Git; also deleted from the cluster since converge applied it"
                    : "changed in Git; also changed on the cluster since converge applied it";
    case Cause::kUnmanaged: return "exists on the cluster, not applied by converge before";
  }
  return "";
}

std::string Where(const Action& a) {
  return (a.ref.cluster.empty() ? std::string("fleet") : a.ref.cluster) + ": " + ObjectName(a);
}

Json ActionJson(const Action& a) {
  return Json{{"action", ChangeTypeName(a.type)},
              {"cluster", a.ref.cluster},
              {"apiVersion", a.api_version},
              {"kind", a.ref.key.kind},
              {"namespace", a.ref.key.ns},
              {"name", a.ref.key.name},
              {"diff", a.diff},
              {"cause", CauseName(a.type == ChangeType::kDelete ? Cause::kGit : a.cause)}};
}

Json SummaryJson(const PlanSummary& s) {
  return Json{{"create", s.create}, {"update", s.update}, {"delete", s.del}, {"unchanged", s.unchanged}};
}

Json SourceJson(const PlannedSync& p) {
  return Json{{"url", p.url}, {"ref", p.ref}, {"path", p.path}, {"commit", p.commit}};
}

Json WarningsJson(const std::vector<Diagnostic>& warnings) {
  Json out = Json::array();
  for (const Diagnostic& d : warnings) out.push_back(d.ToString());
  return out;
}

std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); i++) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); i++) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string WarningsText(const std::vector<Diagnostic>& warnings, bool color) {
  std::string out;
  for (const Diagnostic& d : warnings) out += Paint("warning: ", kYellow, color) + d.ToString() + "\n";
  return out;
}

}  // namespace

std::string FormatTime(int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string PlanToText(const PlannedSync& plan, const PlanView& view) {
  const bool color = view.color;
  std::ostringstream out;
  out << WarningsText(plan.warnings, color);
  out << "Source " << plan.url << (plan.ref.empty() ? "" : " @ " + plan.ref)
      << (plan.path.empty() ? "" : " path " + plan.path) << " (commit " << Short(plan.commit) << ")\n\n";
  size_t destroyed = 0;
  for (const Action& a : plan.plan.actions) {
    switch (a.type) {
      case ChangeType::kCreate: out << Paint("+ create ", kGreen, color); break;
      case ChangeType::kUpdate: out << Paint("~ update ", kYellow, color); break;
      case ChangeType::kDelete: out << Paint("- delete ", kRed, color); break;
      case ChangeType::kUnchanged: break;
    }
    out << Where(a);
    if (std::string cause = CauseText(a); !cause.empty()) out << " (" << cause << ")";
    out << "\n";
    const bool body = a.type == ChangeType::kUpdate || (a.type == ChangeType::kCreate && !view.compact);
    if (body && !a.diff.empty()) {
      std::istringstream lines(a.diff);
      std::string line;
      while (std::getline(lines, line)) {
        if (line.rfind("---", 0) == 0 || line.rfind("+++", 0) == 0) continue;
        if (a.type == ChangeType::kCreate && line.rfind("@@", 0) == 0) continue;  // all of it is new
        const char* code = line.rfind("@@", 0) == 0 ? kCyan : line[0] == '+' ? kGreen : line[0] == '-' ? kRed : nullptr;
        out << "    " << (code ? Paint(line, code, color) : line) << "\n";
      }
    }
    if (auto with = view.destroyed_with.find(a.ref.key.name); IsClusterDelete(a) && with != view.destroyed_with.end()) {
      const std::vector<InventoryEntry>& objects = with->second;
      destroyed += objects.size();
      if (objects.empty()) {
        out << "    converge recorded no objects on it\n";
      } else {
        std::string head = "deletes with it the " + std::to_string(objects.size()) + " objects converge recorded on it:";
        out << "    " << Paint(head, kRed, color) << "\n";
        for (const InventoryEntry& e : objects) out << "      " << Paint("- " + ObjectName(e.ref.key), kRed, color) << "\n";
      }
    }
  }
  const PlanSummary& s = plan.plan.summary;
  if (plan.plan.actions.empty() && !plan.unreachable_clusters.empty()) {
    out << "No changes on the clusters that could be observed (" << s.unchanged
        << " objects unchanged); the others are unknown.\n";
  } else if (plan.plan.actions.empty()) {
    out << "No changes. The fleet matches the commit (" << s.unchanged << " objects unchanged).\n";
  } else {
    out << "\n"
        << Paint("Plan:", kBold, color) << " " << s.create << " to create, " << s.update << " to update, " << s.del
        << " to delete";
    if (destroyed > 0) out << " (and " << destroyed << " objects on the deleted clusters)";
    out << ", " << s.unchanged << " unchanged.\n";
  }
  return out.str();
}

std::string PlanToJson(const PlannedSync& plan, const PlanView& view) {
  Json actions = Json::array();
  for (const Action& a : plan.plan.actions) {
    Json j = ActionJson(a);
    if (auto with = view.destroyed_with.find(a.ref.key.name); IsClusterDelete(a) && with != view.destroyed_with.end()) {
      Json destroys = Json::array();
      for (const InventoryEntry& e : with->second) {
        destroys.push_back(Json{{"cluster", e.ref.cluster}, {"apiVersion", e.api_version}, {"kind", e.ref.key.kind},
                                {"namespace", e.ref.key.ns}, {"name", e.ref.key.name}});
      }
      j["destroys"] = std::move(destroys);
    }
    actions.push_back(std::move(j));
  }
  Json unreachable = plan.unreachable_clusters;
  Json doc{{"source", SourceJson(plan)},
           {"actions", actions},
           {"summary", SummaryJson(plan.plan.summary)},
           {"warnings", WarningsJson(plan.warnings)},
           {"unreachableClusters", unreachable}};
  return doc.dump(2) + "\n";
}

std::string ApplyToText(const ApplyOutcome& outcome, bool color) {
  std::ostringstream out;
  const ApplyReport& r = outcome.report;
  if (outcome.planned.plan.actions.empty() && outcome.status.ok()) {
    out << "No changes. The fleet matches commit " << Short(outcome.planned.commit) << ".\n";
    return out.str();
  }
  int created = 0, updated = 0, deleted = 0;
  for (const ActionResult& a : r.results) {
    if (a.outcome != ActionOutcome::kSucceeded) continue;
    if (a.action.type == ChangeType::kCreate) created++;
    if (a.action.type == ChangeType::kUpdate) updated++;
    if (a.action.type == ChangeType::kDelete) deleted++;
  }
  const char* verdict = outcome.status.ok() ? "Apply complete:" : r.interrupted ? "Apply interrupted:" : "Apply failed:";
  out << Paint(verdict, outcome.status.ok() ? kGreen : kRed, color) << " "
      << created << " created, " << updated << " updated, " << deleted << " deleted";
  if (r.failed) out << ", " << r.failed << " failed";
  if (r.skipped) out << ", " << r.skipped << " skipped";
  if (r.not_run) out << ", " << r.not_run << " not started";
  out << " (commit " << Short(outcome.planned.commit) << ").\n";
  return out.str();
}

std::string ApplyToJson(const ApplyOutcome& outcome) {
  Json results = Json::array();
  for (const ActionResult& r : outcome.report.results) {
    Json a = ActionJson(r.action);
    a["result"] = r.outcome == ActionOutcome::kNotRun ? "notRun" : ActionOutcomeName(r.outcome);
    if (!r.status.ok()) a["error"] = r.status.message();
    if (r.attempts > 1) a["attempts"] = r.attempts;
    results.push_back(std::move(a));
  }
  Json failures = Json::array();
  for (const StepFailure& f : outcome.report.failures) failures.push_back(Json{{"step", f.step}, {"error", f.status.message()}});
  Json doc{{"source", SourceJson(outcome.planned)},
           {"runId", outcome.run_id},
           {"result", outcome.status.ok() ? "succeeded" : "failed"},
           {"error", outcome.status.ok() ? "" : outcome.status.message()},
           {"actions", results},
           {"failures", failures},
           {"interrupted", outcome.report.interrupted},
           {"summary", SummaryJson(outcome.planned.plan.summary)},
           {"warnings", WarningsJson(outcome.planned.warnings)}};
  return doc.dump(2) + "\n";
}

std::string StatusToText(const FleetStatus& status, bool color) {
  std::ostringstream out;
  if (status.clusters.empty() && status.objects.empty()) {
    return "No fleet yet: run `converge apply --repo URL` first.\n";
  }
  std::vector<std::vector<std::string>> rows = {{"CLUSTER", "CLOUD", "PHASE", "VERSION", "NODES", "MESSAGE"}};
  for (const auto& c : status.clusters) {
    rows.push_back({c.name, c.cloud, c.phase, c.version,
                    std::to_string(c.ready_nodes) + "/" + std::to_string(c.nodes), c.message});
  }
  out << Table(rows) << "\n";
  // Per cluster: object counts by health, then every object that is not Healthy or drifted.
  std::map<std::string, std::map<std::string, int>> counts;
  std::vector<std::vector<std::string>> problems = {{"CLUSTER", "KIND", "NAMESPACE", "NAME", "HEALTH", "DRIFT", "MESSAGE"}};
  for (const auto& o : status.objects) {
    counts[o.cluster][o.health]++;
    if (o.drift) counts[o.cluster]["Drifted"]++;
    if (o.health != "Healthy" || o.drift)
      problems.push_back({o.cluster, o.kind, o.ns.empty() ? "-" : o.ns, o.name, o.health, o.drift ? "yes" : "no", o.message});
  }
  std::vector<std::vector<std::string>> summary = {{"CLUSTER", "OBJECTS", "HEALTHY", "PROGRESSING", "DEGRADED", "MISSING", "UNKNOWN", "DRIFTED"}};
  for (const auto& [cluster, c] : counts) {
    int total = 0;
    for (const auto& [h, n] : c)
      if (h != "Drifted") total += n;
    auto get = [&](const char* k) { auto it = c.find(k); return std::to_string(it == c.end() ? 0 : it->second); };
    summary.push_back({cluster, std::to_string(total), get("Healthy"), get("Progressing"), get("Degraded"),
                       get("Missing"), get("Unknown"), get("Drifted")});
  }
  out << Table(summary);
  if (problems.size() > 1) out << "\n" << Paint("Needs attention:", kBold, color) << "\n" << Table(problems);
  if (!status.sources.empty()) {
    out << "\n";
    std::vector<std::vector<std::string>> src = {{"SOURCE", "LAST SYNC", "COMMIT", "RESULT"}};
    for (const auto& s : status.sources) src.push_back({s.url, FormatTime(s.finished_at), Short(s.commit), s.result});
    out << Table(src);
  }
  return out.str();
}

std::string StatusToJson(const FleetStatus& status) {
  Json clusters = Json::array();
  for (const auto& c : status.clusters) {
    clusters.push_back(Json{{"name", c.name}, {"cloud", c.cloud}, {"phase", c.phase}, {"version", c.version},
                            {"nodes", c.nodes}, {"readyNodes", c.ready_nodes}, {"message", c.message}});
  }
  Json objects = Json::array();
  for (const auto& o : status.objects) {
    objects.push_back(Json{{"cluster", o.cluster}, {"apiVersion", o.api_version}, {"kind", o.kind},
                           {"namespace", o.ns}, {"name", o.name}, {"health", o.health}, {"message", o.message},
                           {"drift", o.drift}});
  }
  Json sources = Json::array();
  for (const auto& s : status.sources) {
    sources.push_back(Json{{"source", s.url}, {"commit", s.commit}, {"result", s.result},
                           {"finishedAt", FormatTime(s.finished_at)}});
  }
  return Json{{"clusters", clusters}, {"objects", objects}, {"sources", sources}}.dump(2) + "\n";
}

std::string HistoryToText(const std::vector<SyncRun>& runs) {
  if (runs.empty()) return "No sync runs yet.\n";
  std::vector<std::vector<std::string>> rows = {
      {"ID", "STARTED", "FINISHED", "SOURCE", "COMMIT", "RESULT", "CREATED", "UPDATED", "DELETED", "UNCHANGED", "MESSAGE"}};
  for (const SyncRun& r : runs) {
    rows.push_back({std::to_string(r.id), FormatTime(r.started_at), FormatTime(r.finished_at), r.source_url,
                    Short(r.commit), r.result, std::to_string(r.created), std::to_string(r.updated),
                    std::to_string(r.deleted), std::to_string(r.unchanged), r.message});
  }
  return Table(rows);
}

std::string HistoryToJson(const std::vector<SyncRun>& runs) {
  Json out = Json::array();
  for (const SyncRun& r : runs) {
    out.push_back(Json{{"id", r.id}, {"source", r.source_url}, {"operation", r.operation}, {"commit", r.commit},
                       {"startedAt", FormatTime(r.started_at)}, {"finishedAt", FormatTime(r.finished_at)},
                       {"result", r.result}, {"created", r.created}, {"updated", r.updated},
                       {"deleted", r.deleted}, {"unchanged", r.unchanged}, {"message", r.message}});
  }
  return Json{{"runs", out}}.dump(2) + "\n";
}

std::string ValidateToText(const ValidateResult& result) {
  std::ostringstream out;
  out << WarningsText(result.warnings, false);
  out << "Valid: commit " << Short(result.commit) << ": " << result.specs.clouds.size() << " clouds, "
      << result.specs.clusters.size() << " clusters, " << result.specs.manifests.size() << " manifests placed as "
      << result.placed_objects << " objects.\n";
  return out.str();
}

std::string ValidateToJson(const ValidateResult& result) {
  return Json{{"valid", true},
              {"commit", result.commit},
              {"clouds", result.specs.clouds.size()},
              {"clusters", result.specs.clusters.size()},
              {"manifests", result.specs.manifests.size()},
              {"placedObjects", result.placed_objects},
              {"warnings", WarningsJson(result.warnings)}}
             .dump(2) + "\n";
}

}  // namespace converge
