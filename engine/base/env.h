// Env: the one seam for the clock, sleeping and the filesystem, as leveldb's Env.
// Retry, backoff, timeout and simulated-time logic take an Env* so tests can use a fake clock
// (tests/testing/fake_env.h). Env::Default() is thread-safe and lives for the process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/status.h"

namespace converge {

class Env {
 public:
  virtual ~Env() = default;

  // Wall-clock time in milliseconds since the Unix epoch.
  virtual int64_t NowMillis() = 0;
  // Blocks the calling thread (a fake env advances its clock instead).
  virtual void SleepMillis(int64_t ms) = 0;

  // Returns the whole file, NotFound when it does not exist.
  virtual Result<std::string> ReadFile(const std::string& path);
  // Writes atomically: a temporary file renamed over `path`.
  virtual Status WriteFile(const std::string& path, const std::string& data);
  virtual bool FileExists(const std::string& path);
  // Creates `path` and its parents; ok when it exists.
  virtual Status CreateDirs(const std::string& path);
  // Reads an environment variable; empty when unset.
  virtual std::string GetVar(const std::string& name);

  // The process-wide real environment.
  static Env* Default();
};

// Forwards everything to another Env; override pieces to inject faults.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  int64_t NowMillis() override { return target_->NowMillis(); }
  void SleepMillis(int64_t ms) override { target_->SleepMillis(ms); }
  Result<std::string> ReadFile(const std::string& p) override { return target_->ReadFile(p); }
  Status WriteFile(const std::string& p, const std::string& d) override { return target_->WriteFile(p, d); }
  bool FileExists(const std::string& p) override { return target_->FileExists(p); }
  Status CreateDirs(const std::string& p) override { return target_->CreateDirs(p); }
  std::string GetVar(const std::string& n) override { return target_->GetVar(n); }

 protected:
  Env* target_;
};

}  // namespace converge
