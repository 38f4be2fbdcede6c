// Rendering of command results for people (text, colored on a TTY) and for programs (-o json).
// JSON shapes are part of the CLI contract (DESIGN.md, docs/cli.md). Pure functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/reconcile/reconciler.h"
#include "engine/store/store.h"

namespace converge {

// How a plan is shown, beyond the plan itself.
struct PlanView {
  bool color = false;
  bool compact = false;  // no YAML of what creates will contain
  // Per Cluster the plan deletes: the objects the inventory records on it (of every source),
  // which go with it. A cluster missing here is shown without the list.
  std::map<std::string, std::vector<InventoryEntry>> destroyed_with;
};

// Text: one line per action, marked with why (a Git change, drift, both); creates followed by the
// object's YAML as `+` lines (Secrets redacted), updates by their diff, Cluster deletes by what
// goes with them.
std::string PlanToText(const PlannedSync& plan, const PlanView& view);
// JSON: adds `cause` to every action and `destroys` to Cluster deletes listed in the view.
std::string PlanToJson(const PlannedSync& plan, const PlanView& view);

std::string ApplyToText(const ApplyOutcome& outcome, bool color);
std::string ApplyToJson(const ApplyOutcome& outcome);

std::string StatusToText(const FleetStatus& status, bool color);
std::string StatusToJson(const FleetStatus& status);

std::string HistoryToText(const std::vector<SyncRun>& runs);
std::string HistoryToJson(const std::vector<SyncRun>& runs);

std::string ValidateToText(const ValidateResult& result);
std::string ValidateToJson(const ValidateResult& result);

// "2026-11-27T05:31:10Z" for a unix-ms time; "-" for 0.
std::string FormatTime(int64_t unix_ms);

}  // namespace converge
