#include "engine/cli/progress.h"

#include <cstdio>
#include <string>

namespace converge {
namespace {

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
  ProgressPrinter(bool tty, bool quiet) : tty_(tty), quiet_(quiet) {}
  ~ProgressPrinter() override {
    if (tty_ && dirty_) std::fputs("\r\033[K", stderr);
  }

  void ActionStarted(const Action& a) override {
    if (tty_ && !quiet_) Live("[" + std::to_string(finished_) + " done] " + Describe(a) + " ...");
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
          Live("[" + std::to_string(finished_) + " done] " + Describe(r.action) + " " + PastTense(r.action.type));
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
      Live("[" + std::to_string(finished_) + " done] waiting for " + what);
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
  void Live(const std::string& s) {
    std::fprintf(stderr, "\r\033[K%s", s.c_str());
    std::fflush(stderr);
    dirty_ = true;
  }
  void Line(const std::string& s) {
    if (tty_ && dirty_) std::fputs("\r\033[K", stderr);
    dirty_ = false;
    std::fprintf(stderr, "%s\n", s.c_str());
    std::fflush(stderr);
  }

  bool tty_, quiet_;
  bool dirty_ = false;
  int finished_ = 0;
};

}  // namespace

std::unique_ptr<ApplyObserver> MakeProgressPrinter(bool tty, bool quiet) {
  return std::make_unique<ProgressPrinter>(tty, quiet);
}

}  // namespace converge
