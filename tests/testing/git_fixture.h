// Test fixtures for real Git repositories: a temporary directory, a work repository driven through
// the `git` CLI, and a `git daemon` serving a directory of repositories on loopback. Uses only the
// standard library, gtest and POSIX. Commands that fail report ADD_FAILURE with their output.
// Not thread-safe: use each object from one thread.
#pragma once

#include <string>
#include <utility>

#include <sys/types.h>

namespace converge::testing {

// Runs `cmd` through /bin/sh and returns stdout and stderr interleaved. Stores the exit code in
// *exit_code when given (-1 when the command could not run or died from a signal).
std::string RunCommand(const std::string& cmd, int* exit_code);

// Quotes `s` for /bin/sh (single quotes).
std::string ShellQuote(const std::string& s);

// A fresh directory under /tmp, removed with its contents by the destructor. Movable.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A non-bare work repository at a directory. Every method runs `git -C path ...`.
class GitRepo {
 public:
  // Creates `dir` (and parents) if needed, runs git init with `branch` as the initial branch and
  // sets user.name / user.email / no signing locally.
  static GitRepo Init(const std::string& dir, const std::string& branch = "main");
  // Wraps an existing work repository.
  explicit GitRepo(std::string dir) : path_(std::move(dir)) {}

  // Writes `content` to `rel` (relative to the work tree), creating parent directories.
  void WriteFile(const std::string& rel, const std::string& content);
  // The file's content in the work tree ("" and ADD_FAILURE when missing).
  std::string ReadFile(const std::string& rel) const;
  // Deletes `rel` from the work tree.
  void RemoveFile(const std::string& rel);
  // git add -A; git commit (empty commits allowed). Returns the new HEAD SHA.
  std::string Commit(const std::string& message);
  // Lightweight tag at HEAD; annotated when `message` is non-empty.
  void Tag(const std::string& name, const std::string& message = "");
  // Creates branch `name` at HEAD without switching to it.
  void Branch(const std::string& name);
  // Switches the work tree to branch, tag or SHA `name`.
  void Checkout(const std::string& name);
  // The 40-hex SHA of HEAD.
  std::string Head() const;
  // Runs `git -C path ARGS` (ARGS already shell-quoted as needed); ADD_FAILURE when it fails.
  std::string Git(const std::string& args) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `git daemon` exporting every repository under a base directory on 127.0.0.1 at a free port.
// A work repository at BASE/NAME is served as git://127.0.0.1:PORT/NAME.
class GitDaemon {
 public:
  GitDaemon() = default;
  ~GitDaemon();
  GitDaemon(const GitDaemon&) = delete;
  GitDaemon& operator=(const GitDaemon&) = delete;

  // Starts the daemon and waits (bounded) until its port accepts connections. Returns false and
  // reports ADD_FAILURE (with the daemon's log) when it cannot start.
  bool Start(const std::string& base_dir);
  // Stops the daemon and its connection handlers (SIGTERM to its process group, then waits).
  void Stop();

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  // "git://127.0.0.1:PORT/NAME".
  std::string url(const std::string& repo_dir_name) const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

// A TCP port on 127.0.0.1 that nothing listens on (bound then released), for "unreachable" tests.
int UnusedLocalPort();

}  // namespace converge::testing
