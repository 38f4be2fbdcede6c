#include "tests/testing/fault_injection_env.h"

namespace converge::testing {

void FaultInjectionEnv::Inject(FaultOp op, Fault fault) {
  std::lock_guard<std::mutex> lock(mu_);
  OpState& s = ops_[static_cast<size_t>(op)];
  s.fault = std::move(fault);
  s.matched = 0;
}

void FaultInjectionEnv::Clear(FaultOp op) {
  std::lock_guard<std::mutex> lock(mu_);
  ops_[static_cast<size_t>(op)].fault.reset();
}

void FaultInjectionEnv::ClearAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (OpState& s : ops_) s.fault.reset();
}

int64_t FaultInjectionEnv::calls(FaultOp op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_[static_cast<size_t>(op)].calls;
}

int64_t FaultInjectionEnv::failures(FaultOp op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_[static_cast<size_t>(op)].failures;
}

Status FaultInjectionEnv::Check(FaultOp op, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  OpState& s = ops_[static_cast<size_t>(op)];
  ++s.calls;
  if (!s.fault || path.compare(0, s.fault->path_prefix.size(), s.fault->path_prefix) != 0) return Status::Ok();
  if (s.matched++ < s.fault->after_calls) return Status::Ok();
  ++s.failures;
  return s.fault->status;
}

Status FaultInjectionEnv::WriteFile(const std::string& path, const std::string& data) {
  CONVERGE_RETURN_IF_ERROR(Check(FaultOp::kWriteFile, path));
  return target_->WriteFile(path, data);
}

Status FaultInjectionEnv::CreateDirs(const std::string& path) {
  CONVERGE_RETURN_IF_ERROR(Check(FaultOp::kCreateDirs, path));
  return target_->CreateDirs(path);
}

Result<std::unique_ptr<FileLock>> FaultInjectionEnv::LockFile(const std::string& path, bool wait) {
  CONVERGE_RETURN_IF_ERROR(Check(FaultOp::kLockFile, path));
  return target_->LockFile(path, wait);
}

Result<std::unique_ptr<Process>> FaultInjectionEnv::StartProcess(const ProcessOptions& options) {
  CONVERGE_RETURN_IF_ERROR(Check(FaultOp::kStartProcess, options.argv.empty() ? "" : options.argv[0]));
  return target_->StartProcess(options);
}

}  // namespace converge::testing
