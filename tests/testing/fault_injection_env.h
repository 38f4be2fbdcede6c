// FaultInjectionEnv: an EnvWrapper that makes chosen operations fail, as leveldb's
// FaultInjectionTestEnv, to test how callers handle a full disk, a held lock or a missing tool.
// A fault fails every call of one operation, or those after the first N, or those on paths with
// a given prefix, with a given Status; every call is counted. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "engine/base/env.h"

namespace converge::testing {

// The operations a FaultInjectionEnv can fail.
enum class FaultOp { kWriteFile, kCreateDirs, kLockFile, kStartProcess };

struct Fault {
  Status status;               // what a failing call returns (must not be ok)
  int64_t after_calls = 0;     // how many matching calls succeed first, counted from Inject
  std::string path_prefix;     // only paths starting with this fail (StartProcess: argv[0]); empty: all
};

class FaultInjectionEnv : public EnvWrapper {
 public:
  explicit FaultInjectionEnv(Env* target = Env::Default()) : EnvWrapper(target) {}

  // Makes `op` fail as `fault` says, replacing the op's previous fault.
  void Inject(FaultOp op, Fault fault);
  // Shorthand: every call of `op` fails with `status`.
  void FailAlways(FaultOp op, Status status) { Inject(op, Fault{std::move(status), 0, ""}); }
  // Removes the fault of `op` (calls succeed again); ClearAll removes every fault.
  void Clear(FaultOp op);
  void ClearAll();

  // Calls of `op` so far (failed or not), and how many of them the fault failed.
  int64_t calls(FaultOp op) const;
  int64_t failures(FaultOp op) const;

  Status WriteFile(const std::string& path, const std::string& data) override;
  Status CreateDirs(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, bool wait) override;
  Result<std::unique_ptr<Process>> StartProcess(const ProcessOptions& options) override;

 private:
  static constexpr size_t kOps = 4;
  struct OpState {
    std::optional<Fault> fault;
    int64_t matched = 0;  // matching calls since Inject
    int64_t calls = 0;
    int64_t failures = 0;
  };
  // Counts a call of `op` on `path`; returns the Status to fail it with, or ok to let it through.
  Status Check(FaultOp op, const std::string& path);

  mutable std::mutex mu_;
  std::array<OpState, kOps> ops_;
};

}  // namespace converge::testing
