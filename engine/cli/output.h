// Rendering of command results for people (text, colored on a TTY) and for programs (-o json).
// JSON shapes are part of the CLI contract (DESIGN.md, docs/cli.md). Pure functions.
#pragma once

#include <string>
#include <vector>

#include "engine/reconcile/reconciler.h"
#include "engine/store/store.h"

namespace converge {

std::string PlanToText(const PlannedSync& plan, bool color);
std::string PlanToJson(const PlannedSync& plan);

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
