// Env: the one seam for everything that touches the world or time, as leveldb's Env and envoy's
// TimeSource: wall and monotonic clocks, a scheduler (timers and worker threads), files and file
// locks, child processes, randomness and environment variables. Code that waits, retries, polls
// or times out takes an Env* (or a Scheduler* made by one), so tests run it on simulated time
// (tests/testing/simulated_env.h) and inject faults with an EnvWrapper (leveldb's
// FaultInjectionTestEnv). Env::Default() is thread-safe and lives for the process.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/scheduler.h"  // complete: EnvWrapper returns unique_ptr<Scheduler> inline
#include "engine/base/status.h"

namespace converge {

// An exclusive advisory lock on a file (flock(2)); released when the object is destroyed, and by
// the kernel when the process dies, so a stale lock cannot outlive its holder.
class FileLock {
 public:
  virtual ~FileLock() = default;
  // Replaces the lock file's content (e.g. the holder's pid, for the messages of other acquirers).
  virtual Status SetHolder(const std::string& text) = 0;
  virtual const std::string& path() const = 0;
};

struct DirEntry {
  std::string name;  // without the directory
  bool is_dir = false;
};

struct ProcessOptions {
  std::vector<std::string> argv;                // argv[0] is looked up in PATH unless it has a '/'
  std::string cwd;                              // empty: the current directory
  bool inherit_env = true;                      // start from this process's environment
  std::map<std::string, std::string> set_env;   // then set these variables
  std::string stdin_data;                       // written to the child's stdin, which is then closed
  int64_t timeout_ms = 0;                       // 0: none. On timeout the child's process group gets
                                                // SIGTERM, then SIGKILL after kill_grace_ms
  int64_t kill_grace_ms = 2000;
  size_t max_output_bytes = 16u << 20;          // per stream; the rest is dropped (truncated = true)
};

struct ProcessResult {
  int exit_code = -1;   // when the child exited; -1 when a signal ended it
  int signal = 0;       // the signal that ended it; 0 when it exited
  bool timed_out = false;
  int64_t timeout_ms = 0;  // the timeout that expired, when timed_out (for Describe)
  bool truncated = false;
  std::string out, err;
  bool ok() const { return exit_code == 0 && signal == 0 && !timed_out; }
  // "exited with 3", "killed by signal 9", "timed out after 5s (killed)".
  std::string Describe() const;
};

// A started child process, the leader of its own process group.
class Process {
 public:
  // Kills the process group (SIGKILL) and reaps the child if it is still running.
  virtual ~Process() = default;
  virtual int pid() const = 0;
  // Sends `signo` to the child's process group.
  virtual void Kill(int signo) = 0;
  // Blocks until the child ends (or its timeout kills it) and its output is read.
  virtual Result<ProcessResult> Wait() = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // --- time
  // Wall-clock milliseconds since the Unix epoch: for what is recorded and shown. May jump.
  virtual int64_t NowMillis() = 0;
  // Monotonic milliseconds from an arbitrary origin: for deadlines, timeouts and timers.
  virtual int64_t MonotonicMillis() = 0;
  // Blocks the calling thread for `ms` (a simulated Env advances its clocks instead). Only for
  // code that must block (a worker's call into a slow API); loops wait with a Scheduler instead.
  virtual void SleepMillis(int64_t ms) = 0;
  // A new scheduler on this Env's monotonic clock with `workers` worker threads (0: offloaded
  // work runs on the loop thread).
  virtual std::unique_ptr<Scheduler> NewScheduler(int workers) = 0;

  // --- files
  // Returns the whole file, NotFound when it does not exist.
  virtual Result<std::string> ReadFile(const std::string& path);
  // Writes atomically: a temporary file in the same directory renamed over `path`.
  virtual Status WriteFile(const std::string& path, const std::string& data);
  virtual bool FileExists(const std::string& path);
  // Creates `path` and its parents; ok when it exists.
  virtual Status CreateDirs(const std::string& path);
  // Removes `path` and everything under it; ok when it does not exist.
  virtual Status RemoveAll(const std::string& path);
  // The entries of a directory (not "." and ".."), sorted by name. NotFound when missing.
  virtual Result<std::vector<DirEntry>> ListDir(const std::string& path);
  // Takes an exclusive lock on `path` (created if missing). With wait=false a held lock fails at
  // once with Conflict whose message ends with the holder's text (SetHolder) in parentheses;
  // with wait=true it blocks until the lock is free.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, bool wait);

  // --- processes
  virtual Result<std::unique_ptr<Process>> StartProcess(const ProcessOptions& options);
  // StartProcess then Wait.
  Result<ProcessResult> RunProcess(const ProcessOptions& options);
  // This process's id, and whether process `pid` on this machine is alive.
  virtual int ProcessId();
  virtual bool ProcessAlive(int pid);

  // --- randomness
  // 64 random bits. Real: from the OS's generator; simulated: a seeded, repeatable sequence.
  virtual uint64_t RandomU64() = 0;

  // --- environment variables
  // Reads an environment variable; empty when unset.
  virtual std::string GetVar(const std::string& name);

  // The process-wide real environment.
  static Env* Default();
};

// Forwards everything to another Env; override pieces to inject faults.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  int64_t NowMillis() override { return target_->NowMillis(); }
  int64_t MonotonicMillis() override { return target_->MonotonicMillis(); }
  void SleepMillis(int64_t ms) override { target_->SleepMillis(ms); }
  std::unique_ptr<Scheduler> NewScheduler(int workers) override { return target_->NewScheduler(workers); }
  Result<std::string> ReadFile(const std::string& p) override { return target_->ReadFile(p); }
  Status WriteFile(const std::string& p, const std::string& d) override { return target_->WriteFile(p, d); }
  bool FileExists(const std::string& p) override { return target_->FileExists(p); }
  Status CreateDirs(const std::string& p) override { return target_->CreateDirs(p); }
  Status RemoveAll(const std::string& p) override { return target_->RemoveAll(p); }
  Result<std::vector<DirEntry>> ListDir(const std::string& p) override { return target_->ListDir(p); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& p, bool wait) override {
    return target_->LockFile(p, wait);
  }
  Result<std::unique_ptr<Process>> StartProcess(const ProcessOptions& o) override { return target_->StartProcess(o); }
  int ProcessId() override { return target_->ProcessId(); }
  bool ProcessAlive(int pid) override { return target_->ProcessAlive(pid); }
  uint64_t RandomU64() override { return target_->RandomU64(); }
  std::string GetVar(const std::string& n) override { return target_->GetVar(n); }

 protected:
  Env* target_;
};

}  // namespace converge
