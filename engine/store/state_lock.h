// StateLock: an exclusive, cross-process lock on a state directory, so that two converge
// processes (two applies, or an apply and the daemon) never reconcile the same world at once.
// It is Env::LockFile (flock(2)) on <state_dir>/converge.lock, whose content is the holder's pid
// for the messages of other acquirers. The kernel releases it when the holder exits or crashes,
// so a stale lock cannot exist. A StateLock object is owned by one thread; acquirers in one
// process exclude each other too.
#pragma once

#include <memory>
#include <string>

#include "engine/base/env.h"
#include "engine/base/status.h"

namespace converge {

class StateLock {
 public:
  // Takes the lock, creating the directory and the lock file if missing. With wait=false a held
  // lock fails at once with Conflict naming the holder's pid; with wait=true it blocks until free.
  // Fails with Unavailable when the lock file cannot be created or locked.
  static Result<std::unique_ptr<StateLock>> Acquire(const std::string& state_dir, bool wait,
                                                    Env* env = Env::Default());
  // Releases the lock.
  ~StateLock() = default;

  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

  const std::string& path() const { return lock_->path(); }

 private:
  explicit StateLock(std::unique_ptr<FileLock> lock) : lock_(std::move(lock)) {}
  std::unique_ptr<FileLock> lock_;
};

}  // namespace converge
