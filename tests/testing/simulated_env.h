// SimulatedEnv: the real Env (files, processes, variables) with simulated time and repeatable
// randomness, as envoy's SimulatedTimeSystem. Its wall and monotonic clocks move together, only
// when told to (Advance), when code sleeps, or when a SimulatedScheduler's RunUntil has nothing
// else to do; so tests of retries, timeouts and timers never wait on the real clock.
// Everything here is thread-safe, except that RunUntil is called from one thread at a time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/base/env.h"
#include "engine/base/scheduler.h"

namespace converge::testing {

class SimulatedScheduler;

class SimulatedEnv : public EnvWrapper {
 public:
  static constexpr int64_t kStartMillis = 1'700'000'000'000;      // the wall clock's start
  static constexpr int64_t kMonotonicStartMillis = 1'000'000;     // the monotonic clock's start
  static constexpr uint64_t kDefaultSeed = 42;

  explicit SimulatedEnv(uint64_t seed = kDefaultSeed, int64_t start_ms = kStartMillis);
  ~SimulatedEnv() override;

  int64_t NowMillis() override { return start_ms_ + elapsed_.load(); }
  int64_t MonotonicMillis() override { return kMonotonicStartMillis + elapsed_.load(); }
  // Advances both clocks by `ms` instead of blocking, and counts it in slept().
  void SleepMillis(int64_t ms) override;
  // A SimulatedScheduler on this Env's clock with `workers` real worker threads. It must be
  // destroyed before this Env.
  std::unique_ptr<Scheduler> NewScheduler(int workers) override;
  // The next value of a splitmix64 sequence started from the seed: repeatable across runs.
  uint64_t RandomU64() override;

  // Moves both clocks forward by `ms` (negative: ignored) and wakes waiting schedulers.
  void Advance(int64_t ms);
  // Moves both clocks forward so that MonotonicMillis() >= `monotonic_ms` (never backwards).
  void AdvanceTo(int64_t monotonic_ms);
  // Total milliseconds passed to SleepMillis.
  int64_t slept() const { return slept_.load(); }

 private:
  friend class SimulatedScheduler;
  void Register(SimulatedScheduler* s);
  void Unregister(SimulatedScheduler* s);
  void WakeSchedulers();

  const int64_t start_ms_;
  std::atomic<int64_t> elapsed_{0};
  std::atomic<int64_t> slept_{0};
  std::atomic<uint64_t> random_state_;

  std::mutex schedulers_mu_;
  std::set<SimulatedScheduler*> schedulers_;  // woken when the clock moves
};

// The Scheduler of a SimulatedEnv. RunUntil runs, one at a time and on its caller's thread, every
// callback whose time has come in (due time, post order); a RunAt in the past counts as now, as
// in the real scheduler. When nothing is ready and no offloaded work is in flight it jumps the
// Env's clocks to the earliest timer; while offloaded work is in flight it waits for it (the
// clock stays put unless a worker sleeps or a test advances it). Workers are real threads.
class SimulatedScheduler : public Scheduler {
 public:
  SimulatedScheduler(SimulatedEnv* env, int workers);
  // Drops callbacks not yet run and work not yet started; waits for work already running.
  ~SimulatedScheduler() override;

  int64_t Now() override { return env_->MonotonicMillis(); }
  void Post(Closure fn) override;
  TimerId RunAt(int64_t monotonic_ms, Closure fn) override;
  bool Cancel(TimerId id) override;
  void Offload(Closure work, Closure done) override;
  bool RunUntil(const std::function<bool()>& done) override;

  // Callbacks (posts, timers, offload completions) waiting to run, and offloaded work in flight.
  size_t pending() const;
  int in_flight() const;

 private:
  friend class SimulatedEnv;
  struct Key {
    int64_t due;
    uint64_t seq;
    bool operator<(const Key& o) const { return due != o.due ? due < o.due : seq < o.seq; }
  };
  struct Job {
    Closure work, done;
  };
  enum class Step { kRan, kWaited, kEmpty };

  // Adds `fn` to the queue at `due` (clamped to now); returns its id. Requires mu_.
  TimerId EnqueueLocked(int64_t due, Closure fn);
  // Runs one ready callback, or waits, or advances the clock to the next timer.
  Step RunOne();
  void WorkerLoop();
  void Wake();

  SimulatedEnv* env_;
  mutable std::mutex mu_;
  std::condition_variable changed_;      // a completion, a post or a clock move
  std::map<Key, std::pair<TimerId, Closure>> queue_;
  std::unordered_map<TimerId, Key> ids_;  // queued callbacks by id, for Cancel
  uint64_t next_seq_ = 0;
  TimerId next_id_ = 1;
  int in_flight_ = 0;

  std::mutex work_mu_;
  std::condition_variable work_ready_;
  std::deque<Job> work_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace converge::testing
