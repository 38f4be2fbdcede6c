// The sim provider: whole simulated clouds in-process, their state persisted in the state dir's
// SQLite file (<state_dir>/converge.db, tables prefixed sim_), so separate converge processes
// see one world. Time is simulated lazily from the Env clock: a cluster created at T with a
// create time of D is Running from T+D, whichever process looks.
// Both factories register themselves as "sim" (CONVERGE_REGISTER_*); these functions make more of
// them, for tests that build their own registry or wrap the real sim. Providers and connectors
// are safe for concurrent calls (each holds one SQLite connection under a mutex).
#pragma once

#include <memory>

#include "providers/provider.h"

namespace converge {

inline constexpr const char* kSimProviderName = "sim";

// The "sim" CloudProviderFactory: validates `simulation` and the credential keys; its providers
// run cluster lifecycle in the simulated world and yield endpoints "sim://<cluster>".
std::unique_ptr<CloudProviderFactory> NewSimCloudFactory();
// The "sim" ConnectorFactory: connects to "sim://<cluster>" endpoints.
std::unique_ptr<ConnectorFactory> NewSimConnectorFactory();

}  // namespace converge
