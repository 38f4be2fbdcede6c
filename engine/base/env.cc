// The real Env: system and steady clocks, POSIX files, flock(2) locks, child processes through
// posix_spawn with pipes read by poll(2), and getrandom(2). See env.h for the contract.
#include "engine/base/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "engine/base/scheduler.h"
#include "engine/base/scheduler_asio.h"

extern char** environ;

namespace converge {

namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

// Monotonic milliseconds of the real clock (the process code's timeouts use it in every Env:
// children run in real time).
int64_t SteadyMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Closes a descriptor once; -1 means closed.
void CloseFd(int* fd) {
  if (*fd >= 0) {
    close(*fd);
    *fd = -1;
  }
}

// Reads all of `fd` from offset 0 (pread, so a shared lock file's offset is never moved).
Result<std::string> ReadAll(int fd, const std::string& path) {
  std::string data;
  char buf[1 << 16];
  off_t off = 0;
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof buf, off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Unavailable("cannot read " + path + ": " + ErrnoText(errno), false);
    }
    if (n == 0) return data;
    data.append(buf, static_cast<size_t>(n));
    off += n;
  }
}

// Writes all of `data` to `fd`, retrying short writes and EINTR.
bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// ---- locks

class FlockFileLock : public FileLock {
 public:
  FlockFileLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  // Truncates first so nobody reads a stale holder; closing the descriptor releases the flock.
  ~FlockFileLock() override {
    (void)!ftruncate(fd_, 0);
    close(fd_);
  }
  Status SetHolder(const std::string& text) override {
    if (ftruncate(fd_, 0) != 0 || pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
      return Status::Unavailable("cannot write the holder of lock " + path_ + ": " + ErrnoText(errno), false);
    }
    return Status::Ok();
  }
  const std::string& path() const override { return path_; }

 private:
  int fd_;
  std::string path_;
};

// ---- processes

// Blocks SIGPIPE on this thread while it writes to a child's stdin, so a child that closes its
// stdin early yields EPIPE instead of killing us; a SIGPIPE raised by our write is consumed.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    if (!was_pending_) {
      struct timespec zero {};
      while (sigtimedwait(&pipe_, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

// One read from `fd` into `out` (up to `cap`; the rest is dropped and sets *truncated). Returns
// the bytes read, 0 when nothing is there now (EAGAIN), -1 at end of file or on an error. One
// read per call, so a child that writes without pause cannot keep us from its timeout.
ssize_t ReadSome(int fd, std::string* out, size_t cap, bool* truncated) {
  char buf[1 << 16];
  ssize_t n;
  do {
    n = read(fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
  if (n == 0) return -1;
  size_t room = out->size() < cap ? cap - out->size() : 0;
  size_t take = std::min(room, static_cast<size_t>(n));
  out->append(buf, take);
  if (take < static_cast<size_t>(n)) *truncated = true;
  return n;
}

class PosixProcess : public Process {
 public:
  PosixProcess(pid_t pid, int in, int out, int err, const ProcessOptions& options)
      : pid_(pid), in_(in), out_(out), err_(err), stdin_data_(options.stdin_data), timeout_ms_(options.timeout_ms),
        kill_grace_ms_(options.kill_grace_ms), max_output_(options.max_output_bytes), started_(SteadyMillis()) {
    pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));  // -1 on old kernels: we poll
    if (stdin_data_.empty()) CloseFd(&in_);
  }

  ~PosixProcess() override {
    if (!reaped_) {
      kill(-pid_, SIGKILL);
      int status;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    CloseFd(&in_);
    CloseFd(&out_);
    CloseFd(&err_);
    CloseFd(&pidfd_);
  }

  int pid() const override { return pid_; }

  void Kill(int signo) override { kill(-pid_, signo); }

  Result<ProcessResult> Wait() override {
    if (reaped_) return result_;
    // Without a pidfd, exit is noticed by polling waitpid this often.
    constexpr int64_t kExitPollMillis = 10;
    int64_t deadline = timeout_ms_ > 0 ? started_ + timeout_ms_ : -1;
    int64_t kill_at = -1;
    size_t stdin_done = 0;
    while (!reaped_) {
      if (TryReap()) break;
      int64_t now = SteadyMillis();
      if (deadline >= 0 && now >= deadline && !result_.timed_out) {
        result_.timed_out = true;
        result_.timeout_ms = timeout_ms_;
        kill(-pid_, SIGTERM);
        kill_at = now + std::max<int64_t>(kill_grace_ms_, 0);
      }
      if (kill_at >= 0 && now >= kill_at) {
        kill(-pid_, SIGKILL);
        kill_at = -1;
      }

      struct pollfd fds[4];
      int n = 0;
      auto add = [&](int fd, short events) {
        if (fd >= 0) fds[n++] = {fd, events, 0};
      };
      add(in_, POLLOUT);
      add(out_, POLLIN);
      add(err_, POLLIN);
      add(pidfd_, POLLIN);
      int64_t wait_ms = -1;
      if (!result_.timed_out && deadline >= 0) wait_ms = deadline - now;
      if (kill_at >= 0) wait_ms = kill_at - now;
      if (pidfd_ < 0 && (wait_ms < 0 || wait_ms > kExitPollMillis)) wait_ms = kExitPollMillis;
      int rc = poll(fds, static_cast<nfds_t>(n), static_cast<int>(std::clamp<int64_t>(wait_ms, -1, 1 << 30)));
      if (rc < 0 && errno != EINTR) {
        return Status::Internal("poll on the pipes of child " + std::to_string(pid_) + ": " + ErrnoText(errno));
      }
      for (int i = 0; rc > 0 && i < n; ++i) {
        if (fds[i].revents == 0) continue;
        if (fds[i].fd == in_) {
          SigpipeBlock block;
          ssize_t w = write(in_, stdin_data_.data() + stdin_done, stdin_data_.size() - stdin_done);
          if (w > 0) stdin_done += static_cast<size_t>(w);
          if ((w < 0 && errno != EAGAIN && errno != EINTR) || stdin_done == stdin_data_.size()) CloseFd(&in_);
        } else if (fds[i].fd == out_) {
          if (ReadSome(out_, &result_.out, max_output_, &result_.truncated) < 0) CloseFd(&out_);
        } else if (fds[i].fd == err_) {
          if (ReadSome(err_, &result_.err, max_output_, &result_.truncated) < 0) CloseFd(&err_);
        }
      }
    }
    // The child has ended: what it wrote is in the pipes (a pipe holds at most 1 MiB by default).
    // A grandchild that still holds them is not waited for, nor read without end.
    constexpr size_t kDrainReads = 64;
    for (size_t i = 0; i < kDrainReads && out_ >= 0; ++i) {
      if (ReadSome(out_, &result_.out, max_output_, &result_.truncated) <= 0) break;
    }
    for (size_t i = 0; i < kDrainReads && err_ >= 0; ++i) {
      if (ReadSome(err_, &result_.err, max_output_, &result_.truncated) <= 0) break;
    }
    CloseFd(&in_);
    CloseFd(&out_);
    CloseFd(&err_);
    CloseFd(&pidfd_);
    // A timed-out group loses its stragglers with the leader (one that ignored SIGTERM).
    if (result_.timed_out) kill(-pid_, SIGKILL);
    return result_;
  }

 private:
  // Reaps the child if it has ended; true when it has.
  bool TryReap() {
    int status = 0;
    pid_t r;
    do {
      r = waitpid(pid_, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r != pid_) return false;
    reaped_ = true;
    if (WIFEXITED(status)) {
      result_.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      result_.signal = WTERMSIG(status);
    }
    return true;
  }

  pid_t pid_;
  int in_, out_, err_;
  int pidfd_ = -1;
  std::string stdin_data_;
  int64_t timeout_ms_, kill_grace_ms_;
  size_t max_output_;
  int64_t started_;
  bool reaped_ = false;
  ProcessResult result_;
};

// The child's environment: this process's (when inherited) overlaid with `set_env`.
std::vector<std::string> ChildEnvironment(const ProcessOptions& options) {
  std::map<std::string, std::string> vars;
  if (options.inherit_env) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      const char* eq = std::strchr(*e, '=');
      if (eq != nullptr) vars.emplace(std::string(*e, static_cast<size_t>(eq - *e)), std::string(eq + 1));
    }
  }
  for (const auto& [k, v] : options.set_env) vars[k] = v;
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

// Finds `name` as the child will see it: a name with a '/' as a path, otherwise in the child's
// PATH (execvp's default when unset). Relative results are relative to `cwd` (the child's
// directory, absolute; empty: ours). Returns the path to execute, empty when absent.
std::string FindExecutable(const std::string& name, const std::vector<std::string>& child_env,
                           const std::string& cwd) {
  auto in_cwd = [&](const std::string& p) { return cwd.empty() || p[0] == '/' ? p : cwd + "/" + p; };
  auto runnable = [](const std::string& p) {
    struct stat st {};
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) return runnable(in_cwd(name)) ? in_cwd(name) : "";
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& e : child_env) {
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  }
  size_t start = 0;
  for (;;) {
    size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    std::string candidate = in_cwd((dir.empty() ? "." : dir) + "/" + name);
    if (runnable(candidate)) return candidate;
    if (colon == std::string::npos) return "";
    start = colon + 1;
  }
}

// Pipes whose ends are closed on exec (posix_spawn's dup2 onto 0, 1 and 2 clears that flag).
struct Pipes {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  ~Pipes() {
    for (int* fd : {&in[0], &in[1], &out[0], &out[1], &err[0], &err[1]}) CloseFd(fd);
  }
  bool Open() {
    return pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0;
  }
};

// ---- the real Env

class RealEnv : public Env {
 public:
  int64_t NowMillis() override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
  int64_t MonotonicMillis() override { return SteadyMillis(); }
  void SleepMillis(int64_t ms) override {
    if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
  std::unique_ptr<Scheduler> NewScheduler(int workers) override { return NewAsioScheduler(workers); }
  uint64_t RandomU64() override {
    uint64_t v = 0;
    auto* p = reinterpret_cast<unsigned char*>(&v);
    size_t got = 0;
    while (got < sizeof v) {
      ssize_t n = getrandom(p + got, sizeof v - got, 0);
      if (n > 0) {
        got += static_cast<size_t>(n);
      } else if (errno != EINTR) {
        // getrandom cannot fail on Linux >= 3.17 once the pool is ready; never return zeros.
        std::abort();
      }
    }
    return v;
  }
};

}  // namespace

std::string ProcessResult::Describe() const {
  if (timed_out) {
    std::string after = timeout_ms % 1000 == 0 ? std::to_string(timeout_ms / 1000) + "s"
                                               : std::to_string(timeout_ms) + "ms";
    return "timed out after " + after + " (killed)";
  }
  if (signal != 0) return "killed by signal " + std::to_string(signal);
  return "exited with " + std::to_string(exit_code);
}

Result<std::string> Env::ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return Status::NotFound("cannot read " + path + ": no such file");
    return Status::Unavailable("cannot read " + path + ": " + ErrnoText(err), false);
  }
  Result<std::string> data = ReadAll(fd, path);
  close(fd);
  return data;
}

Status Env::WriteFile(const std::string& path, const std::string& data) {
  // A unique name in the same directory, so the rename is atomic and concurrent writers of one
  // path never share a temporary file.
  static std::atomic<uint64_t> counter{0};
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++);
    fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && (errno != EEXIST || attempt > 100)) {
      return Status::Unavailable("cannot write " + path + ": creating " + tmp + ": " + ErrnoText(errno) +
                                     " (check that " + Dirname(path) + " exists and is writable)",
                                 false);
    }
  }
  bool written = WriteAll(fd, data) && fsync(fd) == 0;
  int err = errno;
  close(fd);
  if (!written) {
    unlink(tmp.c_str());
    return Status::Unavailable("cannot write " + path + ": " + ErrnoText(err) + " (is the disk full?)", false);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    unlink(tmp.c_str());
    return Status::Unavailable("cannot rename " + tmp + " to " + path + ": " + ErrnoText(err), false);
  }
  return Status::Ok();
}

bool Env::FileExists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

Status Env::CreateDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::Unavailable("cannot create directory " + path + ": " + ec.message(), false);
  return Status::Ok();
}

Status Env::RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) {
    return Status::Unavailable("cannot remove " + path + ": " + ec.message() + " (check its permissions)", false);
  }
  return Status::Ok();
}

Result<std::vector<DirEntry>> Env::ListDir(const std::string& path) {
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("cannot list " + path + ": no such directory");
    return Status::Unavailable("cannot list " + path + ": " + ErrnoText(err), false);
  }
  std::vector<DirEntry> out;
  while (struct dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
      struct stat st {};
      is_dir = stat((path + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }
    out.push_back(DirEntry{std::move(name), is_dir});
  }
  closedir(dir);
  std::sort(out.begin(), out.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return out;
}

Result<std::unique_ptr<FileLock>> Env::LockFile(const std::string& path, bool wait) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::Unavailable("cannot open lock file " + path + ": " + ErrnoText(errno) +
                                   " (check that " + Dirname(path) + " exists and is writable)",
                               false);
  }
  int rc;
  do {
    rc = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    if (err == EWOULDBLOCK) {
      // The holder may be between taking the lock and writing its text.
      Result<std::string> holder = ReadAll(fd, path);
      close(fd);
      std::string text = holder.ok() ? *holder : "";
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
      return Status::Conflict("lock " + path + " is already held (" + (text.empty() ? "unknown" : text) + ")");
    }
    close(fd);
    return Status::Unavailable("cannot lock " + path + ": " + ErrnoText(err), false);
  }
  return std::unique_ptr<FileLock>(new FlockFileLock(fd, path));
}

Result<std::unique_ptr<Process>> Env::StartProcess(const ProcessOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return Status::Invalid("cannot start a process: no program given (argv is empty)");
  }
  const std::string& program = options.argv[0];
  std::string cwd;
  if (!options.cwd.empty()) {
    struct stat st {};
    std::error_code ec;
    if (stat(options.cwd.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Status::NotFound("cannot run " + program + ": working directory " + options.cwd + " does not exist");
    }
    cwd = std::filesystem::absolute(options.cwd, ec).string();
    if (ec) cwd = options.cwd;
  }
  std::vector<std::string> env_strings = ChildEnvironment(options);
  std::string exe = FindExecutable(program, env_strings, cwd);
  if (exe.empty()) {
    return Status::NotFound("cannot run " + program + ": executable not found" +
                            (program.find('/') != std::string::npos ? "" : " in PATH") +
                            ": install it or check the name");
  }

  Pipes pipes;
  if (!pipes.Open()) return Status::Unavailable("cannot run " + program + ": pipe: " + ErrnoText(errno));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipes.in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, pipes.out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipes.err[1], 2);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t no_signals, all_signals;
  sigemptyset(&no_signals);
  sigfillset(&all_signals);
  posix_spawnattr_setsigmask(&attr, &no_signals);     // a clean mask,
  posix_spawnattr_setsigdefault(&attr, &all_signals);  // default dispositions (SIGPIPE too)
  posix_spawnattr_setpgroup(&attr, 0);                 // and its own process group
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv;
  for (const std::string& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawn(&pid, exe.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    if (rc == ENOENT) return Status::NotFound("cannot run " + program + " (" + exe + "): " + ErrnoText(rc));
    return Status::Unavailable("cannot run " + program + " (" + exe + "): " + ErrnoText(rc), false);
  }
  // The child has its copies; keep the parent's ends, non-blocking.
  CloseFd(&pipes.in[0]);
  CloseFd(&pipes.out[1]);
  CloseFd(&pipes.err[1]);
  for (int fd : {pipes.in[1], pipes.out[0], pipes.err[0]}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  auto process = std::make_unique<PosixProcess>(pid, pipes.in[1], pipes.out[0], pipes.err[0], options);
  pipes.in[1] = pipes.out[0] = pipes.err[0] = -1;
  return std::unique_ptr<Process>(std::move(process));
}

Result<ProcessResult> Env::RunProcess(const ProcessOptions& options) {
  Result<std::unique_ptr<Process>> process = StartProcess(options);
  if (!process.ok()) return process.status();
  return (*process)->Wait();
}

int Env::ProcessId() { return static_cast<int>(getpid()); }

bool Env::ProcessAlive(int pid) {
  if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM)) return false;
  // kill() reaches a zombie too: it has exited and only waits to be reaped, so it is not alive.
  Result<std::string> stat = Env::ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) return true;  // no /proc: trust kill()
  size_t paren = stat->rfind(')');  // "pid (comm) S ...": the state follows the name
  if (paren == std::string::npos || paren + 2 >= stat->size()) return true;
  char state = (*stat)[paren + 2];
  return state != 'Z' && state != 'X';
}

std::string Env::GetVar(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v ? v : "";
}

Env* Env::Default() {
  static RealEnv env;
  return &env;
}

}  // namespace converge
