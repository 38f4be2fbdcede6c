// Classify: what to do with one object, from what Git wants (desired), what the cluster has
// (live) and what converge recorded when it last applied it (the inventory row). Pure; the one
// place the reconciler's per-object decisions are made, tested one line per case
// (tests/diff/classify_test.cc).
//
//   desired  live  row        -> decision
//   yes      no    any           create
//   yes      yes   any           DiffObject(desired, live, row's last-applied):
//                                  update (drift when the row records this same desired state),
//                                  or, when nothing differs: adopt (no row, a pending row, or a
//                                  row recording another desired state: apply records it),
//                                  refresh (the row's live version or drift flag is stale), or
//                                  unchanged
//   no       yes   yes           delete with prune; unchanged (kept) without
//   no       no    yes           forget (the row of an object gone everywhere) with prune
//   no       any   no            unchanged (not converge's, never touched)
// QuickClassify decides from versions alone whether the bodies are needed at all.
#pragma once

#include <string>

#include "engine/diff/diff.h"
#include "engine/model/object.h"

namespace converge {

class SecretKey;

// What the inventory recorded about an object (its row), without the row's storage types.
struct Recorded {
  std::string desired_hash;      // hash of the desired object last applied
  std::string live_version;      // resourceVersion seen after the last apply or check
  const Json* last_applied = nullptr;  // may be null when not loaded (QuickClassify needs none)
  bool pending = false;          // written before an apply whose result is not recorded
  bool drift = false;
};

enum class Decision { kCreate, kUpdate, kDelete, kUnchanged, kAdopt, kRefresh, kForget };

// Why a create or update is needed, for the plan's reader:
//   kGit         Git's desired state differs from what converge last applied here, or converge
//                never applied it (also every delete: Git no longer has it);
//   kDrift       Git did not change; the live object no longer matches what converge applied
//                (edited, or deleted, outside converge);
//   kGitAndDrift both;
//   kUnmanaged   the live object exists but converge has no record of applying it.
// A pending row (an apply that did not finish) counts as kGit: what converge applied is unknown.
enum class Cause { kGit, kDrift, kGitAndDrift, kUnmanaged };

const char* CauseName(Cause c);  // "git", "drift", "gitAndDrift", "unmanaged"

const char* DecisionName(Decision d);  // "create", "update", "delete", "unchanged", "adopt", "refresh", "forget"

struct Classification {
  Decision decision = Decision::kUnchanged;
  ObjectDiff diff;     // for create, update and delete
  bool drift = false;  // update: live moved away from a desired state converge had applied
  Cause cause = Cause::kGit;  // for create and update
};

// `desired_hash` is the hash of `desired` (DesiredHash); `live_version` of `live`. `secrets` is
// the key the row's last-applied Secret values were redacted with (DiffObject).
Classification Classify(const Json* desired, const std::string& desired_hash, const Json* live,
                        const std::string& live_version, const Recorded* row, bool prune, const SecretKey& secrets);

enum class Quick {
  kUnchanged,   // row, desired hash and live version all agree: nothing to do, no body needed
  kNeedBodies,  // Classify must decide
  kForget,      // gone from Git and from the cluster: forget the row (with prune)
  kIgnore,      // not desired, not live, and either no row or no prune: nothing to do
};

// From hashes and versions only. `desired_hash` empty: not desired; `live_version` empty: not live.
Quick QuickClassify(const std::string& desired_hash, const std::string& live_version, const Recorded* row, bool prune);

// Hash of a desired object as recorded in the inventory. A Secret's is the hash of its redacted
// form (RedactSecret under `secrets`), so it changes with any value and confirms no guess.
std::string DesiredHash(const Json& desired, const SecretKey& secrets);
// metadata.resourceVersion of a live object, "" when absent.
std::string ResourceVersionOf(const Json& live);

}  // namespace converge
