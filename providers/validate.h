// ValidateClouds: the providers' half of spec validation. The engine checks the fields every Cloud
// shares (engine/spec); each Cloud's provider checks the rest of its spec here, through the
// registry, and every problem is reported where it is written. Pure apart from the registry
// lookups; thread-safe.
#pragma once

#include "engine/base/status.h"
#include "engine/model/fleet.h"
#include "providers/provider.h"

namespace converge {

// Ok when every Cloud names a registered provider whose ValidateConfig accepts its spec; otherwise
// Invalid listing every problem, one per line, sorted by file and position:
//   "file:line:col: Cloud \"name\": <the provider's message>"
// at the field the diagnostic's path names (CloudSpec::positions; its nearest recorded ancestor,
// else the document's line), and an unknown provider as
//   "file:line:col: Cloud \"x\": unknown provider \"foo\" (known: sim)"  at spec.provider.
Status ValidateClouds(const SpecSet& specs, const ProviderRegistry& registry);

}  // namespace converge
