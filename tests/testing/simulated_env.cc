#include "tests/testing/simulated_env.h"

#include <chrono>

namespace converge::testing {

// ---- SimulatedEnv

SimulatedEnv::SimulatedEnv(uint64_t seed, int64_t start_ms)
    : EnvWrapper(Env::Default()), start_ms_(start_ms), random_state_(seed) {}

SimulatedEnv::~SimulatedEnv() = default;

void SimulatedEnv::SleepMillis(int64_t ms) {
  if (ms <= 0) return;
  slept_ += ms;
  Advance(ms);
}

std::unique_ptr<Scheduler> SimulatedEnv::NewScheduler(int workers) {
  return std::make_unique<SimulatedScheduler>(this, workers);
}

uint64_t SimulatedEnv::RandomU64() {
  // splitmix64 (Steele, Lea, Flood 2014): one atomic step per value, so threads share a sequence.
  constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ULL;
  uint64_t z = random_state_.fetch_add(kGamma) + kGamma;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void SimulatedEnv::Advance(int64_t ms) {
  if (ms <= 0) return;
  elapsed_ += ms;
  WakeSchedulers();
}

void SimulatedEnv::AdvanceTo(int64_t monotonic_ms) {
  int64_t target = monotonic_ms - kMonotonicStartMillis;
  int64_t cur = elapsed_.load();
  while (cur < target && !elapsed_.compare_exchange_weak(cur, target)) {
  }
  if (cur < target) WakeSchedulers();
}

void SimulatedEnv::Register(SimulatedScheduler* s) {
  std::lock_guard<std::mutex> lock(schedulers_mu_);
  schedulers_.insert(s);
}

void SimulatedEnv::Unregister(SimulatedScheduler* s) {
  std::lock_guard<std::mutex> lock(schedulers_mu_);
  schedulers_.erase(s);
}

void SimulatedEnv::WakeSchedulers() {
  std::lock_guard<std::mutex> lock(schedulers_mu_);
  for (SimulatedScheduler* s : schedulers_) s->Wake();
}

// ---- SimulatedScheduler

SimulatedScheduler::SimulatedScheduler(SimulatedEnv* env, int workers) : env_(env) {
  env_->Register(this);
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

SimulatedScheduler::~SimulatedScheduler() {
  env_->Unregister(this);
  {
    std::lock_guard<std::mutex> lock(work_mu_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& t : threads_) t.join();
}

TimerId SimulatedScheduler::EnqueueLocked(int64_t due, Closure fn) {
  int64_t now = env_->MonotonicMillis();
  Key key{due > now ? due : now, next_seq_++};
  TimerId id = next_id_++;
  queue_.emplace(key, std::make_pair(id, std::move(fn)));
  ids_.emplace(id, key);
  return id;
}

void SimulatedScheduler::Post(Closure fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    EnqueueLocked(env_->MonotonicMillis(), std::move(fn));
  }
  changed_.notify_all();
}

TimerId SimulatedScheduler::RunAt(int64_t monotonic_ms, Closure fn) {
  TimerId id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = EnqueueLocked(monotonic_ms, std::move(fn));
  }
  changed_.notify_all();
  return id;
}

bool SimulatedScheduler::Cancel(TimerId id) {
  Closure fn;  // destroyed after the lock is released: its destructor may call back in
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = ids_.find(id);
    if (it == ids_.end()) return false;
    auto q = queue_.find(it->second);
    fn = std::move(q->second.second);
    queue_.erase(q);
    ids_.erase(it);
  }
  return true;
}

void SimulatedScheduler::Offload(Closure work, Closure done) {
  if (threads_.empty()) {
    Post([work = std::move(work), done = std::move(done)] {
      work();
      done();
    });
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++in_flight_;
  }
  {
    std::lock_guard<std::mutex> lock(work_mu_);
    work_.push_back(Job{std::move(work), std::move(done)});
  }
  work_ready_.notify_one();
}

void SimulatedScheduler::WorkerLoop() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(work_mu_);
      work_ready_.wait(lock, [this] { return stopping_ || !work_.empty(); });
      if (stopping_) return;
      job = std::move(work_.front());
      work_.pop_front();
    }
    job.work();
    job.work = nullptr;  // destroyed on the worker, where it ran
    {
      // One step: the loop never sees the work finished without its done queued.
      std::lock_guard<std::mutex> lock(mu_);
      EnqueueLocked(env_->MonotonicMillis(), std::move(job.done));
      --in_flight_;
    }
    changed_.notify_all();
  }
}

void SimulatedScheduler::Wake() {
  { std::lock_guard<std::mutex> lock(mu_); }  // a waiter is either waiting or will see the change
  changed_.notify_all();
}

SimulatedScheduler::Step SimulatedScheduler::RunOne() {
  Closure fn;
  {
    std::unique_lock<std::mutex> lock(mu_);
    int64_t now = env_->MonotonicMillis();
    if (!queue_.empty() && queue_.begin()->first.due <= now) {
      auto it = queue_.begin();
      ids_.erase(it->second.first);
      fn = std::move(it->second.second);
      queue_.erase(it);
    } else if (in_flight_ > 0) {
      // The clock waits for the work: a completion, a post or a clock move wakes us.
      changed_.wait_for(lock, std::chrono::milliseconds(kMaxBlockMillis));
      return Step::kWaited;
    } else if (queue_.empty()) {
      return Step::kEmpty;
    } else {
      int64_t next = queue_.begin()->first.due;
      lock.unlock();
      env_->AdvanceTo(next);
      return Step::kWaited;
    }
  }
  fn();
  return Step::kRan;
}

bool SimulatedScheduler::RunUntil(const std::function<bool()>& done) {
  for (;;) {
    if (done()) return true;
    if (RunOne() == Step::kEmpty) return done();
  }
}

size_t SimulatedScheduler::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

int SimulatedScheduler::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_;
}

}  // namespace converge::testing
