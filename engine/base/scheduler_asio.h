// The real Scheduler: a Boost.Asio io_context run by RunUntil's caller, a steady_timer per RunAt,
// and `workers` std::threads for Offload. Only scheduler_asio.cc includes Asio, so this header
// stays cheap. Thread-safety as in scheduler.h.
#pragma once

#include <memory>

#include "engine/base/scheduler.h"

namespace converge {

// A scheduler on the steady clock (Env::Default()->MonotonicMillis()) with `workers` worker
// threads (0: offloaded work runs on the loop thread). Never fails.
std::unique_ptr<Scheduler> NewAsioScheduler(int workers);

}  // namespace converge
