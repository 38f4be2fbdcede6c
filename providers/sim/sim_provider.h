// The sim provider: whole simulated clouds in-process, their state persisted in the state dir's
// SQLite file (<state_dir>/converge.db, tables prefixed sim_), so separate converge processes
// see one world. Time is simulated lazily from the Env clock: a cluster created at T with a
// create time of D is Running from T+D, whichever process looks. Safe for use from several
// threads (one connector per thread).
#pragma once

#include <memory>
#include <string>

#include "engine/base/status.h"
#include "providers/provider.h"

namespace converge {

// Factory registered as "sim".
Result<std::unique_ptr<CloudProvider>> CreateSimProvider(const CloudSpec& cloud, const ProviderContext& ctx);

}  // namespace converge
