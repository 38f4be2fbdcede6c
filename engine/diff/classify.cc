#include "engine/diff/classify.h"

#include <nlohmann/json.hpp>

#include "engine/base/hash.h"

namespace converge {

const char* DecisionName(Decision d) {
  switch (d) {
    case Decision::kCreate: return "create";
    case Decision::kUpdate: return "update";
    case Decision::kDelete: return "delete";
    case Decision::kUnchanged: return "unchanged";
    case Decision::kAdopt: return "adopt";
    case Decision::kRefresh: return "refresh";
    case Decision::kForget: return "forget";
  }
  return "unknown";
}

const char* CauseName(Cause c) {
  switch (c) {
    case Cause::kGit: return "git";
    case Cause::kDrift: return "drift";
    case Cause::kGitAndDrift: return "gitAndDrift";
    case Cause::kUnmanaged: return "unmanaged";
  }
  return "unknown";
}

namespace {

// Why an object needs a create or an update (see Cause).
Cause CauseOf(const Json* live, const Recorded* row, bool same_desired, const SecretKey& secrets) {
  if (!row) return live ? Cause::kUnmanaged : Cause::kGit;
  if (row->pending) return Cause::kGit;
  if (same_desired) return Cause::kDrift;  // Git did not change, so live did
  // Git changed: did live also move away from what converge applied?
  bool live_moved = !live;
  if (live && row->last_applied) {
    live_moved = DiffObject(row->last_applied, live, row->last_applied, secrets).type != ChangeType::kUnchanged;
  }
  return live_moved ? Cause::kGitAndDrift : Cause::kGit;
}

}  // namespace

std::string DesiredHash(const Json& desired, const SecretKey& secrets) {
  return Sha256Hex(IsSecret(desired) ? RedactSecret(desired, secrets).dump() : desired.dump());
}

std::string ResourceVersionOf(const Json& live) {
  auto md = live.find("metadata");
  if (md == live.end() || !md->is_object()) return "";
  auto rv = md->find("resourceVersion");
  return rv != md->end() && rv->is_string() ? rv->get<std::string>() : "";
}

Quick QuickClassify(const std::string& desired_hash, const std::string& live_version, const Recorded* row, bool prune) {
  const bool desired = !desired_hash.empty(), live = !live_version.empty();
  if (!desired && !live) return row && prune ? Quick::kForget : Quick::kIgnore;
  if (desired && live && row && !row->pending && !row->drift && row->desired_hash == desired_hash &&
      row->live_version == live_version) {
    return Quick::kUnchanged;
  }
  if (!desired && (!row || !prune)) return Quick::kIgnore;
  return Quick::kNeedBodies;
}

Classification Classify(const Json* desired, const std::string& desired_hash, const Json* live,
                        const std::string& live_version, const Recorded* row, bool prune, const SecretKey& secrets) {
  Classification out;
  if (!desired) {
    if (!row) return out;  // not converge's
    if (!live) {
      out.decision = prune ? Decision::kForget : Decision::kUnchanged;
      return out;
    }
    if (!prune) return out;
    out.decision = Decision::kDelete;
    out.diff = DiffObject(nullptr, live, nullptr, secrets);
    return out;
  }
  const bool same_desired = row && !row->pending && row->desired_hash == desired_hash;
  out.diff = DiffObject(desired, live, row ? row->last_applied : nullptr, secrets);
  switch (out.diff.type) {
    case ChangeType::kCreate:
      out.decision = Decision::kCreate;
      out.cause = CauseOf(live, row, same_desired, secrets);
      return out;
    case ChangeType::kUpdate:
      out.decision = Decision::kUpdate;
      out.drift = same_desired;
      out.cause = CauseOf(live, row, same_desired, secrets);
      return out;
    case ChangeType::kDelete:  // cannot happen with a desired object; keep the compiler honest
    case ChangeType::kUnchanged:
      break;
  }
  out.diff = ObjectDiff{};
  if (!same_desired) {
    out.decision = Decision::kAdopt;
  } else if (row->live_version != live_version || row->drift) {
    out.decision = Decision::kRefresh;
  } else {
    out.decision = Decision::kUnchanged;
  }
  return out;
}

}  // namespace converge
