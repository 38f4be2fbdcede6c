// Scheduler: one event loop with timers on a monotonic clock and a pool of worker threads for
// blocking calls (provider I/O), as envoy's Dispatcher. The real one sits on Boost.Asio
// (scheduler_asio.cc); tests use the simulated one from tests/testing/simulated_env.h, whose
// clock jumps to the next due timer whenever nothing else can run, so no test ever sleeps.
// Callbacks run on the thread that calls RunUntil (the loop thread), one at a time, in order of
// due time (ties: in the order they were posted). Post, RunAt, Cancel and Offload are
// thread-safe; RunUntil is called from one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

namespace converge {

using Closure = std::function<void()>;

// Identifies a timer for Cancel. 0 is never a valid id.
using TimerId = uint64_t;

class Scheduler {
 public:
  virtual ~Scheduler() = default;

  // The scheduler's monotonic clock in milliseconds (the Env's MonotonicMillis).
  virtual int64_t Now() = 0;

  // Runs `fn` on the loop thread as soon as possible.
  virtual void Post(Closure fn) = 0;
  // Runs `fn` on the loop thread once Now() >= `monotonic_ms`. Returns an id for Cancel.
  virtual TimerId RunAt(int64_t monotonic_ms, Closure fn) = 0;
  TimerId RunAfter(int64_t delay_ms, Closure fn) { return RunAt(Now() + (delay_ms > 0 ? delay_ms : 0), std::move(fn)); }
  // Cancels a timer that has not run yet; true when it was cancelled (false: already ran, or
  // unknown). A cancelled timer's closure is destroyed without running.
  virtual bool Cancel(TimerId id) = 0;

  // Runs `work` on a worker thread, then `done` on the loop thread. With zero workers both run
  // on the loop thread. While offloaded work is in flight a simulated clock does not advance.
  virtual void Offload(Closure work, Closure done) = 0;

  // Runs callbacks on the calling thread until `done()` is true or nothing is left to run (no
  // ready callback, no timer, no offloaded work in flight). `done` is checked before the first
  // callback, after every callback, and at least every kMaxBlockMillis of real time while the
  // loop waits, so a flag set by a signal handler is seen promptly. Returns done().
  virtual bool RunUntil(const std::function<bool()>& done) = 0;

  // Upper bound on how long RunUntil blocks in real time without re-checking `done`.
  static constexpr int64_t kMaxBlockMillis = 50;
};

}  // namespace converge
