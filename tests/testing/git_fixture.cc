#include "tests/testing/git_fixture.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace converge::testing {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `cmd` and reports ADD_FAILURE with its output when it exits non-zero.
std::string MustRun(const std::string& cmd) {
  int code = -1;
  std::string out = RunCommand(cmd, &code);
  if (code != 0) ADD_FAILURE() << "command failed (exit " << code << "): " << cmd << "\n" << out;
  return out;
}

bool PortAccepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

}  // namespace

std::string RunCommand(const std::string& cmd, int* exit_code) {
  if (exit_code != nullptr) *exit_code = -1;
  std::string full = "{ " + cmd + " ; } 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return "popen failed: " + std::string(strerror(errno));
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  int status = pclose(pipe);
  if (exit_code != nullptr && status != -1 && WIFEXITED(status)) *exit_code = WEXITSTATUS(status);
  return out;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

// --- TempDir ---

TempDir::TempDir() {
  std::string tmpl = "/tmp/converge-test-XXXXXX";
  char* made = mkdtemp(tmpl.data());
  if (made == nullptr) {
    std::fprintf(stderr, "mkdtemp(%s) failed: %s\n", tmpl.c_str(), strerror(errno));
    std::abort();
  }
  path_ = made;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

// --- GitRepo ---

GitRepo GitRepo::Init(const std::string& dir, const std::string& branch) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) ADD_FAILURE() << "cannot create " << dir << ": " << ec.message();
  MustRun("git init -q -b " + ShellQuote(branch) + " " + ShellQuote(dir));
  GitRepo repo(dir);
  repo.Git("config user.name 'Converge Test'");
  repo.Git("config user.email test@converge.invalid");
  repo.Git("config commit.gpgsign false");
  repo.Git("config tag.gpgsign false");
  return repo;
}

std::string GitRepo::Git(const std::string& args) const {
  return MustRun("git -C " + ShellQuote(path_) + " " + args);
}

void GitRepo::WriteFile(const std::string& rel, const std::string& content) {
  std::filesystem::path p = std::filesystem::path(path_) / rel;
  std::error_code ec;
  std::filesystem::create_directories(p.parent_path(), ec);
  if (ec) ADD_FAILURE() << "cannot create " << p.parent_path() << ": " << ec.message();
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out.flush()) ADD_FAILURE() << "cannot write " << p;
}

std::string GitRepo::ReadFile(const std::string& rel) const {
  std::string p = path_ + "/" + rel;
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) {
    ADD_FAILURE() << "no file " << p;
    return "";
  }
  return ReadWholeFile(p);
}

void GitRepo::RemoveFile(const std::string& rel) {
  std::error_code ec;
  if (!std::filesystem::remove(std::filesystem::path(path_) / rel, ec)) {
    ADD_FAILURE() << "cannot remove " << path_ << "/" << rel << (ec ? ": " + ec.message() : ": no such file");
  }
}

std::string GitRepo::Commit(const std::string& message) {
  Git("add -A");
  Git("commit -q --allow-empty -m " + ShellQuote(message));
  return Head();
}

void GitRepo::Tag(const std::string& name, const std::string& message) {
  if (message.empty()) {
    Git("tag " + ShellQuote(name));
  } else {
    Git("tag -a " + ShellQuote(name) + " -m " + ShellQuote(message));
  }
}

void GitRepo::Branch(const std::string& name) { Git("branch " + ShellQuote(name)); }

void GitRepo::Checkout(const std::string& name) { Git("checkout -q " + ShellQuote(name)); }

std::string GitRepo::Head() const { return Trim(Git("rev-parse HEAD")); }

// --- GitDaemon ---

int UnusedLocalPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

GitDaemon::~GitDaemon() { Stop(); }

bool GitDaemon::Start(const std::string& base_dir) {
  Stop();
  char log_tmpl[] = "/tmp/converge-git-daemon-XXXXXX";
  int log_fd = mkstemp(log_tmpl);
  if (log_fd < 0) {
    ADD_FAILURE() << "mkstemp for the git daemon log failed: " << strerror(errno);
    return false;
  }
  log_path_ = log_tmpl;
  std::string last_log;
  for (int attempt = 0; attempt < 5; ++attempt) {
    int port = UnusedLocalPort();
    if (port == 0) continue;
    std::vector<std::string> args = {"git",
                                     "daemon",
                                     "--reuseaddr",
                                     "--export-all",
                                     "--base-path=" + base_dir,
                                     "--listen=127.0.0.1",
                                     "--port=" + std::to_string(port),
                                     "--informative-errors",
                                     "--verbose",
                                     base_dir};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (ftruncate(log_fd, 0) != 0) { /* best effort */ }
    pid_t pid = fork();
    if (pid < 0) {
      ADD_FAILURE() << "fork failed: " << strerror(errno);
      break;
    }
    if (pid == 0) {
      // Child: own process group so Stop() also ends the per-connection handlers.
      setpgid(0, 0);
      int devnull = open("/dev/null", O_RDONLY);
      if (devnull >= 0) dup2(devnull, 0);
      dup2(log_fd, 1);
      dup2(log_fd, 2);
      execvp("git", argv.data());
      _exit(127);
    }
    setpgid(pid, pid);  // also from the parent, so Stop() works even if the child has not run yet
    // Wait for the daemon to say it listens ("Ready to rumble", logged with --verbose once its
    // sockets are bound) or to exit: woken by inotify on its log and by a pidfd, never by a timer
    // (the 10 s bound only catches a daemon that hangs).
    bool up = false;
    bool exited = false;
    int watch = inotify_init1(IN_CLOEXEC);
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (watch >= 0) inotify_add_watch(watch, log_path_.c_str(), IN_MODIFY);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!up && !exited && watch >= 0 && pidfd >= 0) {
      up = ReadWholeFile(log_path_).find("Ready to rumble") != std::string::npos && PortAccepts(port);
      if (up) break;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd fds[2] = {{watch, POLLIN, 0}, {pidfd, POLLIN, 0}};
      if (poll(fds, 2, static_cast<int>(left.count())) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        char events[4096];
        (void)!read(watch, events, sizeof events);
      }
      exited = (fds[1].revents & POLLIN) != 0;
    }
    if (watch >= 0) close(watch);
    if (pidfd >= 0) close(pidfd);
    if (exited) waitpid(pid, nullptr, 0);
    if (up) {
      close(log_fd);
      pid_ = pid;
      port_ = port;
      return true;
    }
    if (!exited) {
      kill(-pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    last_log = ReadWholeFile(log_path_);
  }
  close(log_fd);
  ADD_FAILURE() << "git daemon did not start for " << base_dir << "; its log:\n" << last_log;
  unlink(log_path_.c_str());
  log_path_.clear();
  return false;
}

void GitDaemon::Stop() {
  if (pid_ > 0) {
    kill(-pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  if (!log_path_.empty()) {
    unlink(log_path_.c_str());
    log_path_.clear();
  }
}

std::string GitDaemon::url(const std::string& repo_dir_name) const {
  return "git://127.0.0.1:" + std::to_string(port_) + "/" + repo_dir_name;
}

}  // namespace converge::testing
