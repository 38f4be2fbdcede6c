#include "engine/store/state_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace converge {

namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

// Reads the pid the holder wrote; empty when unknown (the holder may be between lock and write).
std::string ReadHolderPid(int fd) {
  char buf[32] = {};
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return "";
  std::string pid(buf, static_cast<size_t>(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid;
}

}  // namespace

Result<std::unique_ptr<StateLock>> StateLock::Acquire(const std::string& state_dir, bool wait) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    return Status::Unavailable("cannot create state dir " + state_dir + ": " + ec.message() +
                                   " (check the path and its permissions, or pass another --state-dir)",
                               false);
  }
  std::string path = (std::filesystem::path(state_dir) / "converge.lock").string();
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::Unavailable("cannot open lock file " + path + ": " + ErrnoText(errno) +
                                   " (check that the state dir is writable)",
                               false);
  }
  int rc;
  do {
    rc = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    if (err == EWOULDBLOCK) {
      std::string pid = ReadHolderPid(fd);
      close(fd);
      return Status::Conflict("another converge is running on state dir " + state_dir + " (pid " +
                              (pid.empty() ? "unknown" : pid) +
                              "): wait for it to finish, or use another --state-dir");
    }
    close(fd);
    return Status::Unavailable("cannot lock " + path + ": " + ErrnoText(err), false);
  }
  // Record our pid for the message another acquirer prints. Best effort: the lock is what counts.
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) == 0 && pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // Without it a refused acquirer prints "pid unknown"; the lock itself is held.
  }
  return std::unique_ptr<StateLock>(new StateLock(fd, std::move(path)));
}

StateLock::~StateLock() {
  // Truncate first so nobody reads a stale pid; closing the descriptor releases the flock.
  if (ftruncate(fd_, 0) != 0) {
    // Nobody to tell: the lock is released below all the same, and the next holder rewrites it.
  }
  close(fd_);
}

}  // namespace converge
