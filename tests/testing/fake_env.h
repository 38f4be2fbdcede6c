// FakeEnv: an Env whose clock only moves when told to (or when code sleeps), for testing retry,
// backoff, timeout and simulated-time logic without real sleeping. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

#include "engine/base/env.h"

namespace converge::testing {

class FakeEnv : public EnvWrapper {
 public:
  explicit FakeEnv(int64_t start_ms = 1'700'000'000'000) : EnvWrapper(Env::Default()), now_(start_ms) {}
  int64_t NowMillis() override { return now_.load(); }
  void SleepMillis(int64_t ms) override {
    slept_ += ms;
    now_ += ms;
  }
  void Advance(int64_t ms) { now_ += ms; }
  int64_t slept() const { return slept_.load(); }

 private:
  std::atomic<int64_t> now_;
  std::atomic<int64_t> slept_{0};
};

}  // namespace converge::testing
