#include "engine/store/state_lock.h"

#include <filesystem>

#include <spdlog/spdlog.h>

namespace converge {

namespace {

// The holder's text at the end of a LockFile Conflict ("... (TEXT)"); "unknown" when absent.
std::string HolderOf(const std::string& message) {
  size_t open = message.rfind('(');
  if (message.empty() || message.back() != ')' || open == std::string::npos) return "unknown";
  std::string text = message.substr(open + 1, message.size() - open - 2);
  return text.empty() ? "unknown" : text;
}

}  // namespace

Result<std::unique_ptr<StateLock>> StateLock::Acquire(const std::string& state_dir, bool wait, Env* env) {
  Status dirs = env->CreateDirs(state_dir);
  if (!dirs.ok()) {
    return Status::Unavailable("cannot create state dir " + state_dir + ": " + dirs.message() +
                                   " (check the path and its permissions, or pass another --state-dir)",
                               false);
  }
  std::string path = (std::filesystem::path(state_dir) / "converge.lock").string();
  Result<std::unique_ptr<FileLock>> lock = env->LockFile(path, wait);
  if (!lock.ok()) {
    if (lock.status().code() != Code::kConflict) return lock.status();
    return Status::Conflict("another converge is running on state dir " + state_dir + " (pid " +
                            HolderOf(lock.status().message()) +
                            "): wait for it to finish, or use another --state-dir");
  }
  // Record our pid for the message another acquirer prints. Best effort: the lock is what counts,
  // and without the pid a refused acquirer says "pid unknown".
  if (Status noted = (*lock)->SetHolder(std::to_string(env->ProcessId()) + "\n"); !noted.ok()) {
    spdlog::debug("cannot record the holder of {}: {}", path, noted.message());
  }
  return std::unique_ptr<StateLock>(new StateLock(std::move(lock).value()));
}

}  // namespace converge
