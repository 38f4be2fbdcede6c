// RetryWithBackoff and BackoffDelay on the simulated clock.
#include "engine/base/retry.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/testing/simulated_env.h"

namespace converge {
namespace {

TEST(RetryWithBackoffTest, DoublesAndCapsOnTheSimulatedClock) {
  testing::SimulatedEnv env;
  RetryPolicy policy{6, 100, 500};
  std::vector<int64_t> delays;
  int calls = 0;
  Status st = RetryWithBackoff(
      policy, &env, [&] { return ++calls < 6 ? Status::Unavailable("down") : Status::Ok(); },
      [&](const Status&, int, int64_t d) { delays.push_back(d); });
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(delays, (std::vector<int64_t>{100, 200, 400, 500, 500}));
  EXPECT_EQ(env.slept(), 1700);
}

TEST(RetryWithBackoffTest, NonRetryableStopsAtOnce) {
  testing::SimulatedEnv env;
  int calls = 0;
  Status st = RetryWithBackoff(RetryPolicy{}, &env, [&] {
    ++calls;
    return Status::Invalid("bad");
  });
  EXPECT_EQ(st.code(), Code::kInvalid);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(env.slept(), 0);
}

TEST(RetryWithBackoffTest, GivesUpAfterMaxAttempts) {
  testing::SimulatedEnv env;
  int calls = 0;
  Status st = RetryWithBackoff(RetryPolicy{3, 200, 5000}, &env, [&] {
    ++calls;
    return Status::Unavailable("down");
  });
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(calls, 3);
}

TEST(BackoffDelayTest, FirstRetryWaitsTheInitialDelay) {
  RetryPolicy p{10, 250, 1000};
  EXPECT_EQ(BackoffDelay(p, 1), 250);
  EXPECT_EQ(BackoffDelay(p, 2), 500);
  EXPECT_EQ(BackoffDelay(p, 3), 1000);
  EXPECT_EQ(BackoffDelay(p, 30), 1000);
}

}  // namespace
}  // namespace converge
