// AsioScheduler: the io_context runs only inside RunUntil, on the caller's thread. Timers are
// steady_timers created, waited on and cancelled on that loop thread; whether a timer still runs
// is decided by pending_ under mu_, so Cancel from any thread is exact even when the timer has
// already expired inside Asio. Offloaded work runs on std::threads that run a second io_context
// and post `done` back; a work guard keeps RunUntil waiting while any offloaded work is in flight.
#include "engine/base/scheduler_asio.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace converge {

namespace {

namespace asio = boost::asio;
using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;

class AsioScheduler : public Scheduler {
 public:
  explicit AsioScheduler(int workers) : worker_guard_(asio::make_work_guard(worker_io_)) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { worker_io_.run(); });
  }

  // Drops work not yet started and callbacks not yet run; waits for work already on a worker.
  ~AsioScheduler() override {
    worker_guard_.reset();
    worker_io_.stop();
    for (std::thread& t : threads_) t.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      busy_.reset();
    }
    armed_.clear();  // before io_, which the timers belong to
  }

  int64_t Now() override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  }

  void Post(Closure fn) override { asio::post(io_, std::move(fn)); }

  TimerId RunAt(int64_t monotonic_ms, Closure fn) override {
    TimerId id = next_id_.fetch_add(1);
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_.emplace(id, std::move(fn));
    }
    asio::post(io_, [this, id, monotonic_ms] { Arm(id, monotonic_ms); });
    return id;
  }

  bool Cancel(TimerId id) override {
    Closure fn;  // destroyed after the lock is released: its destructor may call back in
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = pending_.find(id);
      if (it == pending_.end()) return false;
      fn = std::move(it->second);
      pending_.erase(it);
    }
    // Stops the Asio timer so it no longer keeps RunUntil waiting (a timer not armed yet is
    // skipped by Arm: this post runs after Arm's).
    asio::post(io_, [this, id] {
      auto it = armed_.find(id);
      if (it != armed_.end()) it->second->cancel();
    });
    return true;
  }

  void Offload(Closure work, Closure done) override {
    if (threads_.empty()) {
      asio::post(io_, [work = std::move(work), done = std::move(done)] {
        work();
        done();
      });
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (in_flight_++ == 0) busy_.emplace(io_.get_executor());
    }
    asio::post(worker_io_, [this, work = std::move(work), done = std::move(done)]() mutable {
      work();
      work = nullptr;  // destroyed on the worker, where it ran
      asio::post(io_, [this, done = std::move(done)] {
        done();
        std::lock_guard<std::mutex> lock(mu_);
        if (--in_flight_ == 0) busy_.reset();
      });
    });
  }

  bool RunUntil(const std::function<bool()>& done) override {
    while (!done()) {
      if (io_.stopped()) io_.restart();
      io_.run_one_for(std::chrono::milliseconds(kMaxBlockMillis));
      // Stopped means the io_context ran out of work: no handler, timer or offloaded work left.
      if (io_.stopped()) return done();
    }
    return true;
  }

 private:
  // On the loop thread: starts the Asio timer of a RunAt that has not been cancelled.
  void Arm(TimerId id, int64_t monotonic_ms) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (pending_.count(id) == 0) return;
    }
    auto timer = std::make_unique<asio::steady_timer>(
        io_, std::chrono::steady_clock::time_point(std::chrono::milliseconds(monotonic_ms)));
    timer->async_wait([this, id](const boost::system::error_code&) { Fire(id); });
    armed_.emplace(id, std::move(timer));
  }

  // On the loop thread: the timer expired or was cancelled; runs the closure unless cancelled.
  void Fire(TimerId id) {
    armed_.erase(id);
    Closure fn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = pending_.find(id);
      if (it == pending_.end()) return;
      fn = std::move(it->second);
      pending_.erase(it);
    }
    fn();
  }

  asio::io_context io_;         // the loop, run by RunUntil
  asio::io_context worker_io_;  // offloaded work, run by threads_
  WorkGuard worker_guard_;
  std::vector<std::thread> threads_;
  std::atomic<TimerId> next_id_{1};

  std::mutex mu_;
  std::map<TimerId, Closure> pending_;  // timers that have neither run nor been cancelled
  int in_flight_ = 0;                   // offloaded work whose done has not run
  std::optional<WorkGuard> busy_;       // held while in_flight_ > 0

  std::map<TimerId, std::unique_ptr<asio::steady_timer>> armed_;  // loop thread only
};

}  // namespace

std::unique_ptr<Scheduler> NewAsioScheduler(int workers) { return std::make_unique<AsioScheduler>(workers); }

}  // namespace converge
