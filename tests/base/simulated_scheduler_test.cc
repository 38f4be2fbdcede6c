// SimulatedEnv and SimulatedScheduler: clocks that move together, repeatable randomness, callbacks
// in (due time, post order), exact Cancel, clock jumps when nothing else can run, and offloaded
// work on 0, 1 and 4 real worker threads with the clock frozen while it is in flight.
#include "tests/testing/simulated_env.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace converge {
namespace {

using testing::SimulatedEnv;
using testing::SimulatedScheduler;

const auto kNever = [] { return false; };

TEST(SimulatedEnvTest, ClocksStartAtTheGivenTimesAndMoveTogether) {
  SimulatedEnv env;
  EXPECT_EQ(env.NowMillis(), 1'700'000'000'000);
  EXPECT_EQ(env.MonotonicMillis(), SimulatedEnv::kMonotonicStartMillis);
  env.Advance(1500);
  env.SleepMillis(250);
  env.Advance(-5);  // ignored
  EXPECT_EQ(env.NowMillis(), 1'700'000'001'750);
  EXPECT_EQ(env.MonotonicMillis(), SimulatedEnv::kMonotonicStartMillis + 1750);
  EXPECT_EQ(env.slept(), 250);
  env.AdvanceTo(SimulatedEnv::kMonotonicStartMillis);  // never backwards
  EXPECT_EQ(env.MonotonicMillis(), SimulatedEnv::kMonotonicStartMillis + 1750);

  SimulatedEnv later(/*seed=*/1, /*start_ms=*/5000);
  EXPECT_EQ(later.NowMillis(), 5000);
}

TEST(SimulatedEnvTest, RandomnessIsRepeatableFromTheSeed) {
  SimulatedEnv a(7), b(7), c(8);
  std::vector<uint64_t> va, vb, vc;
  for (int i = 0; i < 5; ++i) {
    va.push_back(a.RandomU64());
    vb.push_back(b.RandomU64());
    vc.push_back(c.RandomU64());
  }
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
  EXPECT_NE(va[0], va[1]);
}

TEST(SimulatedSchedulerTest, RunsInTimeOrderWithTiesInPostOrder) {
  SimulatedEnv env;
  auto s = env.NewScheduler(0);
  const int64_t t0 = s->Now();
  std::vector<std::string> order;
  std::vector<int64_t> at;
  auto note = [&](const std::string& name) {
    return [&, name] {
      order.push_back(name);
      at.push_back(s->Now() - t0);
    };
  };
  s->RunAt(t0 + 30, note("c"));
  s->RunAt(t0 + 10, note("a1"));
  s->RunAfter(10, note("a2"));
  s->Post(note("p1"));
  s->RunAt(t0 + 10, note("a3"));
  s->Post(note("p2"));
  EXPECT_FALSE(s->RunUntil(kNever));  // nothing left
  EXPECT_EQ(order, (std::vector<std::string>{"p1", "p2", "a1", "a2", "a3", "c"}));
  EXPECT_EQ(at, (std::vector<int64_t>{0, 0, 10, 10, 10, 30}));
}

TEST(SimulatedSchedulerTest, CancelBeforeFiringDropsTheClosureAndAfterFiringFails) {
  SimulatedEnv env;
  auto s = env.NewScheduler(0);
  auto token = std::make_shared<int>(0);
  bool ran = false;
  TimerId cancelled = s->RunAfter(100, [&ran, token] { ran = true; });
  EXPECT_EQ(token.use_count(), 2);
  EXPECT_TRUE(s->Cancel(cancelled));
  EXPECT_EQ(token.use_count(), 1);  // destroyed without running
  EXPECT_FALSE(s->Cancel(cancelled));

  int fired = 0;
  TimerId id = s->RunAfter(50, [&] { ++fired; });
  EXPECT_NE(id, 0u);
  EXPECT_FALSE(s->RunUntil(kNever));
  EXPECT_FALSE(ran);
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(s->Cancel(id));  // already ran
  EXPECT_FALSE(s->Cancel(0));
  EXPECT_FALSE(s->Cancel(9999));
}

TEST(SimulatedSchedulerTest, CancelFromACallbackStopsALaterTimer) {
  SimulatedEnv env;
  auto s = env.NewScheduler(0);
  bool late_ran = false;
  TimerId late = s->RunAfter(200, [&] { late_ran = true; });
  s->RunAfter(100, [&] { EXPECT_TRUE(s->Cancel(late)); });
  EXPECT_FALSE(s->RunUntil(kNever));
  EXPECT_FALSE(late_ran);
  EXPECT_EQ(s->Now(), SimulatedEnv::kMonotonicStartMillis + 100);  // no jump to the cancelled one
}

TEST(SimulatedSchedulerTest, RunAtInThePastRunsAtOnce) {
  SimulatedEnv env;
  env.Advance(10'000);
  auto s = env.NewScheduler(0);
  const int64_t now = s->Now();
  std::vector<int> order;
  s->Post([&] { order.push_back(1); });
  s->RunAt(now - 5'000, [&] { order.push_back(2); });  // counts as now: after the earlier post
  s->RunAfter(-3, [&] { order.push_back(3); });
  EXPECT_FALSE(s->RunUntil(kNever));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(s->Now(), now);
}

TEST(SimulatedSchedulerTest, JumpsToTheNextTimerWithoutWaiting) {
  SimulatedEnv env;
  auto s = env.NewScheduler(0);
  const int64_t wall0 = env.NowMillis();
  const auto real0 = std::chrono::steady_clock::now();
  bool fired = false;
  s->RunAfter(3'600'000, [&] { fired = true; });  // an hour of simulated time
  EXPECT_TRUE(s->RunUntil([&] { return fired; }));
  EXPECT_EQ(env.NowMillis() - wall0, 3'600'000);
  EXPECT_EQ(env.slept(), 0);  // a jump, not a sleep
  // Not a speed assertion: the hour passed on the simulated clock, not the real one.
  EXPECT_LT(std::chrono::steady_clock::now() - real0, std::chrono::minutes(10));
}

TEST(SimulatedSchedulerTest, ChainedTimersAdvanceTheClockStepByStep) {
  SimulatedEnv env;
  auto s = env.NewScheduler(0);
  const int64_t t0 = s->Now();
  int ticks = 0;
  std::function<void()> tick = [&] {
    if (++ticks < 10) s->RunAfter(100, tick);
  };
  s->RunAfter(100, tick);
  EXPECT_FALSE(s->RunUntil(kNever));
  EXPECT_EQ(ticks, 10);
  EXPECT_EQ(s->Now() - t0, 1000);
}

TEST(SimulatedSchedulerTest, RunUntilChecksDoneBeforeAndAfterEveryCallback) {
  SimulatedEnv env;
  auto s = env.NewScheduler(0);
  int ran = 0;
  for (int i = 0; i < 3; ++i) s->Post([&] { ++ran; });
  EXPECT_TRUE(s->RunUntil([] { return true; }));
  EXPECT_EQ(ran, 0);
  EXPECT_TRUE(s->RunUntil([&] { return ran == 2; }));
  EXPECT_EQ(ran, 2);
  auto* sim = static_cast<SimulatedScheduler*>(s.get());
  EXPECT_EQ(sim->pending(), 1u);
  EXPECT_FALSE(s->RunUntil(kNever));
  EXPECT_EQ(ran, 3);
  EXPECT_FALSE(s->RunUntil(kNever));  // empty: returns at once
}

TEST(SimulatedSchedulerTest, AThousandTimersRunInOrder) {
  SimulatedEnv env(/*seed=*/2024);
  auto s = env.NewScheduler(0);
  const int64_t t0 = s->Now();
  struct Fired {
    int64_t due;
    int index;
    int64_t now;
  };
  std::vector<Fired> fired;
  for (int i = 0; i < 1000; ++i) {
    int64_t due = t0 + static_cast<int64_t>(env.RandomU64() % 500);  // many ties
    s->RunAt(due, [&, due, i] { fired.push_back({due, i, s->Now()}); });
  }
  EXPECT_FALSE(s->RunUntil(kNever));
  ASSERT_EQ(fired.size(), 1000u);
  for (size_t i = 0; i < fired.size(); ++i) {
    EXPECT_EQ(fired[i].now, fired[i].due);
    if (i > 0) {
      EXPECT_TRUE(fired[i - 1].due < fired[i].due ||
                  (fired[i - 1].due == fired[i].due && fired[i - 1].index < fired[i].index))
          << i;
    }
  }
}

TEST(SimulatedSchedulerTest, TwoSchedulersShareTheClock) {
  SimulatedEnv env;
  auto a = env.NewScheduler(0);
  auto b = env.NewScheduler(0);
  bool b_fired = false;
  b->RunAfter(500, [&] { b_fired = true; });
  a->RunAfter(1000, [] {});
  EXPECT_FALSE(a->RunUntil(kNever));  // a's jump passes b's timer
  EXPECT_FALSE(b_fired);              // which runs on b's loop
  EXPECT_EQ(b->Now(), a->Now());
  EXPECT_FALSE(b->RunUntil(kNever));
  EXPECT_TRUE(b_fired);
}

class SimulatedOffloadTest : public ::testing::TestWithParam<int> {};

TEST_P(SimulatedOffloadTest, WorkRunsOnWorkersDoneOnTheLoopAndTheClockWaits) {
  const int workers = GetParam();
  SimulatedEnv env;
  auto s = env.NewScheduler(workers);
  const int64_t t0 = s->Now();
  const std::thread::id loop = std::this_thread::get_id();
  constexpr int kJobs = 64;
  std::atomic<int> works{0}, works_on_loop{0}, clock_moved{0};
  int dones = 0, dones_off_loop = 0;
  bool timer_fired = false;
  int dones_before_timer = -1;
  s->RunAfter(10, [&] {
    timer_fired = true;
    dones_before_timer = dones;
  });
  for (int i = 0; i < kJobs; ++i) {
    s->Offload(
        [&] {
          const int64_t start = s->Now();
          for (int k = 0; k < 200; ++k) std::this_thread::yield();  // stay in flight a while
          if (s->Now() != start || start != t0) ++clock_moved;
          if (std::this_thread::get_id() == loop) ++works_on_loop;
          ++works;
        },
        [&] {
          if (std::this_thread::get_id() != loop) ++dones_off_loop;
          ++dones;
        });
  }
  EXPECT_FALSE(s->RunUntil(kNever));
  EXPECT_EQ(works.load(), kJobs);
  EXPECT_EQ(dones, kJobs);
  EXPECT_EQ(dones_off_loop, 0);
  EXPECT_EQ(works_on_loop.load(), workers == 0 ? kJobs : 0);
  EXPECT_EQ(clock_moved.load(), 0);       // frozen while work was in flight
  EXPECT_TRUE(timer_fired);
  EXPECT_EQ(dones_before_timer, kJobs);  // the clock moved to the timer only after all work
  EXPECT_EQ(s->Now() - t0, 10);
}

TEST_P(SimulatedOffloadTest, WorkThatSleepsMovesTheClockAndWakesTheLoop) {
  SimulatedEnv env;
  auto s = env.NewScheduler(GetParam());
  const int64_t t0 = s->Now();
  std::vector<int64_t> timer_at;
  bool done = false;
  s->RunAfter(50, [&] { timer_at.push_back(s->Now() - t0); });
  s->Offload([&] { env.SleepMillis(100); }, [&] { done = true; });
  EXPECT_FALSE(s->RunUntil(kNever));
  EXPECT_TRUE(done);
  ASSERT_EQ(timer_at.size(), 1u);
  EXPECT_EQ(timer_at[0], 100);  // the clock stayed put until the worker slept past the timer
  EXPECT_EQ(env.slept(), 100);
}

TEST_P(SimulatedOffloadTest, DoneSetFromAWorkerEndsRunUntil) {
  SimulatedEnv env;
  auto s = env.NewScheduler(GetParam());
  std::atomic<bool> flag{false};
  bool far_ran = false;
  TimerId far = s->RunAfter(3'600'000, [&] { far_ran = true; });
  s->Offload([&] { flag = true; }, [] {});
  EXPECT_TRUE(s->RunUntil([&] { return flag.load(); }));
  EXPECT_FALSE(far_ran);
  EXPECT_TRUE(s->Cancel(far));
}

TEST_P(SimulatedOffloadTest, PostsFromOtherThreadsRun) {
  SimulatedEnv env;
  auto s = env.NewScheduler(GetParam());
  constexpr int kThreads = 4, kEach = 50;
  std::atomic<int> finished{0};
  int ran = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) s->Post([&] { ++ran; });
      ++finished;
    });
  }
  // Work in flight until every thread has posted keeps the loop from running dry meanwhile (with
  // 0 workers it waits on the loop thread, which the posting threads do not need).
  s->Offload(
      [&] {
        while (finished.load() < kThreads) std::this_thread::yield();
      },
      [] {});
  EXPECT_FALSE(s->RunUntil(kNever));
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ran, kThreads * kEach);
}

INSTANTIATE_TEST_SUITE_P(Threads, SimulatedOffloadTest, ::testing::Values(0, 1, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "threads";
                         });

}  // namespace
}  // namespace converge
