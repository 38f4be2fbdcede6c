#include "engine/dag/executor.h"

#include <memory>

#include "engine/base/scheduler.h"

namespace converge::dag {

Executor::Executor(const Graph& graph, StepRunner* runner, Scheduler* scheduler, ExecutorOptions options)
    : graph_(graph),
      runner_(runner),
      scheduler_(scheduler),
      options_(std::move(options)),
      ready_(graph, options_.pool_capacity),
      results_(graph.size()) {}

std::vector<StepResult> Executor::Run(ExecutionObserver* observer) {
  observer_ = observer;
  scheduler_->Post([this] { Dispatch(); });
  scheduler_->RunUntil([this] {
    if (!stopped_ && options_.stop != nullptr && options_.stop->load()) HandleStop();
    return ready_.done();
  });
  // Nothing is left to run but some steps never became ready: only a cycle does that.
  for (StepId id = 0; id < static_cast<StepId>(graph_.size()); ++id) {
    if (results_[static_cast<size_t>(id)].outcome == Outcome::kPending) {
      results_[static_cast<size_t>(id)].outcome = Outcome::kNotRun;
      results_[static_cast<size_t>(id)].status =
          Status::Internal("not run: " + graph_.name(id) + " waits on a step that can never run (a dependency cycle)");
      if (observer_) observer_->StepFinished(id, results_[static_cast<size_t>(id)]);
    }
  }
  return results_;
}

bool Executor::StopRequested() const { return stopped_ || (options_.stop != nullptr && options_.stop->load()); }

void Executor::Dispatch() {
  // A stop request is honoured before anything new starts, even when no callback boundary came in
  // between (with zero workers a step's completion runs inside this loop).
  while (!StopRequested()) {
    std::optional<StepId> step = ready_.FindWork();
    if (!step) break;
    Start(*step);
  }
}

void Executor::Start(StepId step) {
  StepResult& r = results_[static_cast<size_t>(step)];
  r.attempts++;
  if (r.started_at == 0) r.started_at = scheduler_->Now();
  StepContext ctx{r.attempts, r.started_at, scheduler_->Now()};
  if (observer_) observer_->StepStarted(step, ctx);
  if (graph_.spec(step).on_loop_thread) {
    StepProgress progress = runner_->Run(step, ctx);
    // Handled from the loop, not here: Dispatch is still iterating the ready set.
    scheduler_->Post([this, step, progress] { OnProgress(step, progress); });
    return;
  }
  auto progress = std::make_shared<StepProgress>();
  scheduler_->Offload([this, step, ctx, progress] { *progress = runner_->Run(step, ctx); },
                      [this, step, progress] { OnProgress(step, *progress); });
}

void Executor::OnProgress(StepId step, const StepProgress& progress) {
  if (progress.kind == StepProgress::Kind::kAgainAt && !StopRequested()) {
    ready_.Suspend(step);
    waiting_why_[step] = progress.status;
    if (observer_) observer_->StepWaiting(step, progress.status, progress.at);
    timers_[step] = scheduler_->RunAt(progress.at, [this, step] {
      timers_.erase(step);
      waiting_why_.erase(step);
      ready_.Resume(step);
      Dispatch();
    });
    Dispatch();
    return;
  }
  if (progress.kind == StepProgress::Kind::kAgainAt) {  // stopping: the step will not run again
    Finish(step, Outcome::kNotRun, Status::Unavailable("interrupted while waiting: " + progress.status.message(), false));
    return;
  }
  Status final_status = runner_->Finish(step, progress.status);
  Finish(step, final_status.ok() ? Outcome::kSucceeded : Outcome::kFailed, final_status);
}

void Executor::Finish(StepId step, Outcome outcome, Status status) {
  StepResult& r = results_[static_cast<size_t>(step)];
  r.outcome = outcome;
  r.status = std::move(status);
  r.finished_at = scheduler_->Now();
  std::vector<StepId> skipped = ready_.StepFinished(step, outcome);
  if (observer_) observer_->StepFinished(step, r);
  Skip(skipped);
  Dispatch();
}

void Executor::Skip(const std::vector<StepId>& skipped) {
  for (StepId s : skipped) {
    StepResult& r = results_[static_cast<size_t>(s)];
    StepId cause = ready_.cause(s);
    const StepResult& failed = results_[static_cast<size_t>(cause)];
    r.outcome = Outcome::kSkipped;
    r.cause = cause;
    std::string why = failed.outcome == Outcome::kNotRun ? "was not run" : "failed";
    r.status = Status::Unavailable("skipped: waits on " + graph_.name(cause) + ", which " + why +
                                       (failed.status.message().empty() ? "" : ": " + failed.status.message()),
                                   false);
    r.finished_at = scheduler_->Now();
    if (observer_) observer_->StepFinished(s, r);
  }
}

void Executor::HandleStop() {
  stopped_ = true;
  // Steps not started end first, so that ending the waiting steps below skips nothing.
  for (StepId id : ready_.Abandon()) {
    StepResult& r = results_[static_cast<size_t>(id)];
    r.outcome = Outcome::kNotRun;
    r.status = Status::Unavailable("not started: the run was interrupted", false);
    if (observer_) observer_->StepFinished(id, r);
  }
  // Waiting steps will not be re-run: cancel their timers and end them.
  std::map<StepId, uint64_t> timers = std::move(timers_);
  timers_.clear();
  for (const auto& [step, timer] : timers) {
    scheduler_->Cancel(timer);
    Status why = waiting_why_.count(step) ? waiting_why_[step] : Status::Ok();
    Finish(step, Outcome::kNotRun,
           Status::Unavailable("interrupted while waiting" + (why.message().empty() ? "" : ": " + why.message()), false));
  }
  // Resumed steps not picked up yet are suspended-and-ready: end them too.
  for (StepId id = 0; id < static_cast<StepId>(graph_.size()); ++id) {
    if (ready_.outcome(id) == Outcome::kRunning && ready_.suspended(id)) {
      Finish(id, Outcome::kNotRun, Status::Unavailable("interrupted before it could run again", false));
    }
  }
}

}  // namespace converge::dag
