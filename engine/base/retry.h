// Retry with exponential backoff over the Env seam: no clock or sleep of its own, retryability
// decided by the Status. For code that must block (observation before a plan); the steps of a run
// retry on the scheduler instead (engine/apply). Pure policy, thread-compatible.
#pragma once

#include <cstdint>
#include <functional>

#include "engine/base/status.h"

namespace converge {

class Env;

struct RetryPolicy {
  int max_attempts = 6;       // calls in all, retryable errors only
  int64_t initial_ms = 200;   // delay before the second attempt
  int64_t max_ms = 5'000;     // the delay doubles up to this
};

// The delay after failed attempt number `attempt` (1-based): initial, doubling, capped.
int64_t BackoffDelay(const RetryPolicy& policy, int attempt);

// Calls `fn` until it succeeds, fails with a non-retryable error, or max_attempts is reached,
// sleeping BackoffDelay on the Env between attempts; `on_retry(status, attempt, delay)` is told
// before each sleep. Returns the last status.
Status RetryWithBackoff(const RetryPolicy& policy, Env* env, const std::function<Status()>& fn,
                        const std::function<void(const Status&, int, int64_t)>& on_retry = nullptr);

}  // namespace converge
