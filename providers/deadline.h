// Deadlines of provider calls (CallOptions::deadline_ms), for the callers that set them and the
// providers that honour them: on the Env's monotonic clock, as provider.h says. Pure functions of
// the Env's clock; thread-safe.
#pragma once

#include <cstdint>
#include <limits>

#include "engine/base/env.h"
#include "providers/provider.h"

namespace converge {

// The clock deadlines are measured on.
inline int64_t CallClockMillis(Env* env) { return env->MonotonicMillis(); }

// Options for a call that must end within `timeout_ms` from now; 0 or less: no deadline.
inline CallOptions CallWithin(Env* env, int64_t timeout_ms) {
  CallOptions options;
  if (timeout_ms > 0) options.deadline_ms = CallClockMillis(env) + timeout_ms;
  return options;
}

// Milliseconds left before the deadline: max int64 without one, 0 or less once it has passed.
inline int64_t TimeLeftMillis(Env* env, const CallOptions& options) {
  if (options.deadline_ms == 0) return std::numeric_limits<int64_t>::max();
  return options.deadline_ms - CallClockMillis(env);
}

}  // namespace converge
