#include "engine/base/retry.h"

#include <algorithm>

#include "engine/base/env.h"

namespace converge {

int64_t BackoffDelay(const RetryPolicy& policy, int attempt) {
  int64_t delay = std::max<int64_t>(policy.initial_ms, 0);
  for (int i = 1; i < attempt && delay < policy.max_ms; ++i) delay *= 2;
  return std::min(delay, policy.max_ms);
}

Status RetryWithBackoff(const RetryPolicy& policy, Env* env, const std::function<Status()>& fn,
                        const std::function<void(const Status&, int, int64_t)>& on_retry) {
  for (int attempt = 1;; attempt++) {
    Status st = fn();
    if (st.ok() || !st.retryable() || attempt >= policy.max_attempts) return st;
    int64_t delay = BackoffDelay(policy, attempt);
    if (on_retry) on_retry(st, attempt, delay);
    env->SleepMillis(delay);
  }
}

}  // namespace converge
