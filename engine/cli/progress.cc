#include "engine/cli/progress.h"

#include <cstdio>
#include <string>

#include "engine/base/env.h"
#include "engine/base/scheduler.h"

namespace converge {
namespace {

constexpr int64_t kTickMillis = 1000;  // how often the TTY line's elapsed time is redrawn

std::string Describe(const Action& a) {
  std::string where = a.ref.cluster.empty() ? "fleet" : a.ref.cluster;
  return where + ": " + a.ref.key.ToString();
}

const char* PastTense(ChangeType t) {
  switch (t) {
    case ChangeType::kCreate: return "created";
    case ChangeType::kUpdate: return "updated";
    case ChangeType::kDelete: return "deleted";
    case ChangeType::kUnchanged: return "unchanged";
  }
  return "";
}

class ProgressPrinter : public ApplyObserver {
 public:
  ProgressPrinter(bool tty, bool quiet, Env* env)
      : tty_(tty), quiet_(quiet), env_(env), started_ms_(env->MonotonicMillis()) {}
  ~ProgressPrinter() override {
    if (!tty_) return;
    if (dirty_) std::fputs("\r\033[K", stderr);
    if (!quiet_ && total_ > 0) {
      std::fprintf(stderr, "%d/%d actions finished in %s\n", finished_, total_, FormatElapsed(Elapsed()).c_str());
    }
  }

  void PlanStarting(const Plan& plan) override { total_ = static_cast<int>(plan.actions.size()); }
  void RunStarted(Scheduler* scheduler) override {
    if (tty_ && !quiet_) Tick(scheduler);
  }

  void ActionStarted(const Action& a) override {
    if (tty_ && !quiet_) Live(Describe(a) + " ...");
  }
  Status AfterAction(const ActionResult& r, const Json* live) override {
    (void)live;
    finished_++;
    switch (r.outcome) {
      case ActionOutcome::kFailed:
        Line("FAILED " + Describe(r.action) + ": " + r.status.message());
        break;
      case ActionOutcome::kSkipped:
        if (!quiet_) Line("skipped " + Describe(r.action) + " (" + r.status.message() + ")");
        break;
      case ActionOutcome::kNotRun:
        break;  // summed up at the end
      case ActionOutcome::kSucceeded:
        if (quiet_) break;
        if (tty_) {
          Live(Describe(r.action) + " " + PastTense(r.action.type));
        } else {
          Line(Describe(r.action) + " " + PastTense(r.action.type));
        }
        break;
    }
    return Status::Ok();
  }
  void Waiting(const std::string& what) override {
    if (quiet_) return;
    if (tty_) {
      Live("waiting for " + what);
    } else {
      Line("waiting for " + what);
    }
  }
  void Retrying(const Action& a, const Status& st, int attempt, int64_t delay_ms) override {
    if (quiet_) return;
    Line("retrying " + Describe(a) + " in " + std::to_string(delay_ms) + "ms (attempt " + std::to_string(attempt) +
         " failed: " + st.message() + ")");
  }
  void StepFailed(const StepFailure& failure) override { Line("FAILED " + failure.step + ": " + failure.status.message()); }

 private:
  int64_t Elapsed() const { return env_->MonotonicMillis() - started_ms_; }

  // "7s", "2m05s", "1h02m".
  static std::string FormatElapsed(int64_t ms) {
    int64_t s = ms / 1000;
    char buf[32];
    if (s < 60) {
      std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
    } else if (s < 3600) {
      std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
    } else {
      std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                    static_cast<long long>(s / 60 % 60));
    }
    return buf;
  }

  // "[3/12 done, 4s]": actions finished of the plan's total, and the time since the command began.
  std::string Counter() const {
    std::string done = std::to_string(finished_) + (total_ > 0 ? "/" + std::to_string(total_) : "");
    return "[" + done + " done, " + FormatElapsed(Elapsed()) + "]";
  }

  // Redraws the live line every tick, so the elapsed time moves during long waits.
  void Tick(Scheduler* scheduler) {
    if (dirty_) Draw();
    scheduler->RunAfter(kTickMillis, [this, scheduler] { Tick(scheduler); });
  }

  void Live(const std::string& s) {
    live_ = s;
    dirty_ = true;
    Draw();
  }
  void Draw() {
    std::fprintf(stderr, "\r\033[K%s %s", Counter().c_str(), live_.c_str());
    std::fflush(stderr);
  }
  void Line(const std::string& s) {
    if (tty_ && dirty_) std::fputs("\r\033[K", stderr);
    dirty_ = false;
    std::fprintf(stderr, "%s\n", s.c_str());
    std::fflush(stderr);
  }

  bool tty_, quiet_;
  Env* env_;
  int64_t started_ms_;
  bool dirty_ = false;
  std::string live_;  // the TTY line's text after the counter
  int finished_ = 0;
  int total_ = 0;     // actions in the plan (0 until the run starts)
};

}  // namespace

std::unique_ptr<ApplyObserver> MakeProgressPrinter(bool tty, bool quiet, Env* env) {
  return std::make_unique<ProgressPrinter>(tty, quiet, env);
}

}  // namespace converge
