// Helpers for tests that fork processes and wait on observable state instead of sleeping:
// a pipe to hear from a child, and waiting until the kernel shows a child blocked on a flock.
#pragma once

#include <poll.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace converge::testing {

// A pipe whose ends close with the object (a forked child closes the end it does not use).
class Pipe {
 public:
  Pipe() {
    if (pipe(fds_) != 0) fds_[0] = fds_[1] = -1;
  }
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  int read_fd() const { return fds_[0]; }
  int write_fd() const { return fds_[1]; }
  void CloseRead() { Close(0); }
  void CloseWrite() { Close(1); }
  // Writes one byte; false when it could not.
  bool Send(char c) { return write(fds_[1], &c, 1) == 1; }
  // Blocks for one byte; '\0' when the writing ends closed without sending.
  char Receive() {
    char c = '\0';
    return read(fds_[0], &c, 1) == 1 ? c : '\0';
  }
  // True when a byte (or end of file) is ready to read right now.
  bool Ready() {
    pollfd pfd{fds_[0], POLLIN, 0};
    return poll(&pfd, 1, 0) > 0;
  }

 private:
  void Close(int i) {
    if (fds_[i] >= 0) close(fds_[i]);
    fds_[i] = -1;
  }
  int fds_[2];
};

// Waits until /proc/locks lists process `pid` as blocked ("->") on a flock of `path`: true. False
// when `report` becomes readable first (the child got through, or exited), or after a very long
// time. Between looks it waits on `report` for at most a millisecond.
inline bool WaitUntilBlockedOnFlock(pid_t pid, const std::string& path, Pipe& report) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return false;
  const std::string inode = ":" + std::to_string(st.st_ino) + " ";
  const std::string who = " " + std::to_string(pid) + " ";
  for (int i = 0; i < 120000; ++i) {
    std::ifstream locks("/proc/locks");
    std::string line;
    while (std::getline(locks, line)) {
      if (line.find("-> FLOCK") != std::string::npos && line.find(who) != std::string::npos &&
          line.find(inode) != std::string::npos) {
        return true;
      }
    }
    pollfd pfd{report.read_fd(), POLLIN, 0};
    if (poll(&pfd, 1, 1) > 0) return false;
  }
  return false;
}

// In a forked child: closes every descriptor it inherited except stdio and `keep`, so that it
// holds none of the parent's flocks (a copied descriptor shares its flock with the parent).
inline void CloseInheritedDescriptors(int keep) {
  for (int fd = 3; fd < 1024; ++fd) {
    if (fd != keep) close(fd);
  }
}

// waitpid for `pid`: its exit code, or -1 when it did not exit normally.
inline int WaitForExit(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace converge::testing
