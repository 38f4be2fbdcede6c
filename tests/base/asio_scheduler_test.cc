// The real Scheduler (Boost.Asio) from Env::Default(): post order, offloaded work at 0, 1 and 4
// workers with `done` on the loop thread, Cancel, a real timer, and RunUntil noticing a flag set
// by another thread. Only TimerFiresOnTheRealClock waits on the real clock (a few milliseconds),
// because the real clock is what it tests.
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "engine/base/env.h"
#include "engine/base/scheduler.h"

namespace converge {
namespace {

constexpr int64_t kHourMillis = 3'600'000;
const auto kNever = [] { return false; };

TEST(AsioSchedulerTest, PostsRunInOrderAndRunUntilReturnsWhenNothingIsLeft) {
  auto s = Env::Default()->NewScheduler(0);
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) s->Post([&order, i] { order.push_back(i); });
  EXPECT_FALSE(s->RunUntil(kNever));
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
  EXPECT_FALSE(s->RunUntil(kNever));  // empty: returns at once, and again after new posts
  s->Post([&] { order.push_back(100); });
  EXPECT_FALSE(s->RunUntil(kNever));
  EXPECT_EQ(order.back(), 100);
}

TEST(AsioSchedulerTest, RunUntilStopsWhenDone) {
  auto s = Env::Default()->NewScheduler(0);
  int ran = 0;
  for (int i = 0; i < 3; ++i) s->Post([&] { ++ran; });
  EXPECT_TRUE(s->RunUntil([] { return true; }));
  EXPECT_EQ(ran, 0);
  EXPECT_TRUE(s->RunUntil([&] { return ran == 2; }));
  EXPECT_EQ(ran, 2);
  EXPECT_FALSE(s->RunUntil(kNever));
  EXPECT_EQ(ran, 3);
}

TEST(AsioSchedulerTest, CancelledTimerNeitherRunsNorKeepsTheLoop) {
  auto s = Env::Default()->NewScheduler(0);
  auto token = std::make_shared<int>(0);
  bool ran = false;
  TimerId id = s->RunAfter(kHourMillis, [&ran, token] { ran = true; });
  EXPECT_NE(id, 0u);
  EXPECT_TRUE(s->Cancel(id));
  EXPECT_EQ(token.use_count(), 1);  // the closure is gone
  EXPECT_FALSE(s->Cancel(id));
  EXPECT_FALSE(s->RunUntil(kNever));  // returns: the cancelled timer does not hold the loop for an hour
  EXPECT_FALSE(ran);

  // Cancel of an armed timer, from a callback on the loop.
  TimerId armed = s->RunAfter(kHourMillis, [&] { ran = true; });
  s->Post([&] { s->Post([&] { EXPECT_TRUE(s->Cancel(armed)); }); });
  EXPECT_FALSE(s->RunUntil(kNever));
  EXPECT_FALSE(ran);
  EXPECT_FALSE(s->Cancel(0));
}

TEST(AsioSchedulerTest, TimerFiresOnTheRealClock) {
  // The one test that waits on the real clock, for a few milliseconds: it tests the real clock.
  auto s = Env::Default()->NewScheduler(0);
  const int64_t due = s->Now() + 5;
  int64_t fired_at = 0;
  std::vector<int> order;
  TimerId id = s->RunAt(due, [&] {
    fired_at = s->Now();
    order.push_back(2);
  });
  s->RunAt(due - 1'000, [&] { order.push_back(1); });  // in the past: at once
  EXPECT_FALSE(s->RunUntil(kNever));
  EXPECT_GE(fired_at, due);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_FALSE(s->Cancel(id));  // already ran
  EXPECT_GE(s->Now(), Env::Default()->MonotonicMillis() - 1'000);  // the Env's monotonic clock
}

TEST(AsioSchedulerTest, RunUntilSeesAFlagSetByAnotherThread) {
  auto s = Env::Default()->NewScheduler(0);
  bool far_ran = false;
  TimerId far = s->RunAfter(kHourMillis, [&] { far_ran = true; });  // keeps the loop waiting
  std::atomic<bool> stop{false};
  std::thread setter;
  // Started from the loop, so the flag is usually set while RunUntil blocks with nothing to run.
  s->Post([&] { setter = std::thread([&] { stop = true; }); });
  // Returns within about kMaxBlockMillis of the flag, not when the timer fires an hour later.
  EXPECT_TRUE(s->RunUntil([&] { return stop.load(); }));
  setter.join();
  EXPECT_FALSE(far_ran);
  EXPECT_TRUE(s->Cancel(far));
  EXPECT_FALSE(s->RunUntil(kNever));
}

class AsioOffloadTest : public ::testing::TestWithParam<int> {};

TEST_P(AsioOffloadTest, WorkOnWorkersAndDoneOnTheLoopThread) {
  const int workers = GetParam();
  auto s = Env::Default()->NewScheduler(workers);
  const std::thread::id loop = std::this_thread::get_id();
  constexpr int kJobs = 64;
  std::atomic<int> works{0}, works_on_loop{0};
  int dones = 0, dones_off_loop = 0;
  for (int i = 0; i < kJobs; ++i) {
    s->Offload(
        [&] {
          for (int k = 0; k < 100; ++k) std::this_thread::yield();
          if (std::this_thread::get_id() == loop) ++works_on_loop;
          ++works;
        },
        [&] {
          if (std::this_thread::get_id() != loop) ++dones_off_loop;
          ++dones;
        });
  }
  // RunUntil keeps waiting while work is in flight, then returns when nothing is left.
  EXPECT_FALSE(s->RunUntil(kNever));
  EXPECT_EQ(works.load(), kJobs);
  EXPECT_EQ(dones, kJobs);
  EXPECT_EQ(dones_off_loop, 0);
  EXPECT_EQ(works_on_loop.load(), workers == 0 ? kJobs : 0);
}

TEST_P(AsioOffloadTest, OffloadFromCallbacksAndOtherThreads) {
  auto s = Env::Default()->NewScheduler(GetParam());
  constexpr int kThreads = 4, kEach = 25;
  std::atomic<int> works{0};
  int dones = 0;
  std::atomic<int> posted{0};
  TimerId keep = s->RunAfter(kHourMillis, [] {});  // the loop waits for the threads to start
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        // From the loop: each done offloads one more piece of work.
        s->Offload([&] { ++works; }, [&] { s->Offload([&] { ++works; }, [&] { ++dones; }); });
      }
      ++posted;
    });
  }
  EXPECT_TRUE(s->RunUntil([&] { return posted == kThreads && dones == kThreads * kEach; }));
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(s->Cancel(keep));
  EXPECT_FALSE(s->RunUntil(kNever));
  EXPECT_EQ(works.load(), 2 * kThreads * kEach);
}

INSTANTIATE_TEST_SUITE_P(Threads, AsioOffloadTest, ::testing::Values(0, 1, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "threads";
                         });

}  // namespace
}  // namespace converge
