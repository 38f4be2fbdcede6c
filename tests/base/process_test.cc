// Env::StartProcess / RunProcess with real children: exit codes, signals, separate stdout and
// stderr, stdin, the environment, cwd, output caps, missing programs and timeouts that kill the
// whole process group.
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/base/env.h"
#include "tests/testing/git_fixture.h"

namespace converge {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

ProcessOptions Sh(const std::string& script) {
  ProcessOptions o;
  o.argv = {"sh", "-c", script};
  return o;
}

ProcessResult RunChild(const ProcessOptions& o) {
  Result<ProcessResult> r = Env::Default()->RunProcess(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : ProcessResult{};
}

// Waits, without sleeping, for process `pid` (not our child) to exit: its pidfd turns readable.
// True when it has exited (or was already gone) within `limit_ms`.
bool WaitForExit(int pid, int limit_ms) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;
  struct pollfd p = {fd, POLLIN, 0};
  int rc = poll(&p, 1, limit_ms);
  close(fd);
  return rc == 1;
}

// The processes of group `pgid` that are alive (not zombies), from /proc.
std::vector<int> LiveMembers(int pgid) {
  std::vector<int> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    // A process may exit between the listing and the read (the read then fails with ESRCH):
    // read with stdio, which reports that as an error instead of throwing, and skip it.
    std::string stat;
    if (FILE* f = std::fopen((entry.path() / "stat").c_str(), "r")) {
      char buf[1024];
      size_t n = std::fread(buf, 1, sizeof buf, f);
      std::fclose(f);
      stat.assign(buf, n);
    }
    size_t close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(close_paren + 1));
    char state = 0;
    int ppid = 0, pgrp = 0;
    fields >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != 'Z' && state != 'X') out.push_back(std::stoi(name));
  }
  return out;
}

TEST(ProcessTest, ExitCodeIsReported) {
  ProcessResult r = RunChild(Sh("exit 3"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.signal, 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.Describe(), "exited with 3");
  EXPECT_TRUE(RunChild(Sh("exit 0")).ok());
}

TEST(ProcessTest, KilledBySignalIsReported) {
  ProcessResult r = RunChild(Sh("kill -9 $$"));
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.Describe(), "killed by signal 9");
}

TEST(ProcessTest, StdoutAndStderrAreCapturedSeparately) {
  ProcessResult r = RunChild(Sh("echo out1; echo err1 >&2; echo out2; echo err2 >&2"));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out, "out1\nout2\n");
  EXPECT_EQ(r.err, "err1\nerr2\n");
  EXPECT_FALSE(r.truncated);
}

TEST(ProcessTest, StdinIsFedThenClosed) {
  ProcessOptions o;
  o.argv = {"cat"};
  o.stdin_data = "hello\nworld";
  EXPECT_EQ(RunChild(o).out, "hello\nworld");

  // More than a pipe holds in both directions: writing and reading must interleave.
  o.stdin_data.assign(3u << 20, 'x');
  ProcessResult big = RunChild(o);
  EXPECT_TRUE(big.ok());
  EXPECT_EQ(big.out.size(), o.stdin_data.size());

  o.argv = {"cat"};
  o.stdin_data.clear();  // no input: EOF at once
  EXPECT_EQ(RunChild(o).out, "");
}

TEST(ProcessTest, ChildThatIgnoresStdinDoesNotBreakUs) {
  ProcessOptions o = Sh("exec 0<&-; echo done");
  o.stdin_data.assign(1u << 20, 'x');  // the child closes stdin: our writes get EPIPE, not SIGPIPE
  ProcessResult r = RunChild(o);
  EXPECT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(r.out, "done\n");
}

TEST(ProcessTest, EnvironmentIsInheritedAndSet) {
  ProcessOptions o = Sh("echo \"$CONVERGE_T1|$PATH\"");
  o.set_env = {{"CONVERGE_T1", "one"}};
  ProcessResult r = RunChild(o);
  EXPECT_EQ(r.out, "one|" + Env::Default()->GetVar("PATH") + "\n");

  ProcessOptions bare;
  bare.argv = {"/usr/bin/env"};
  bare.inherit_env = false;
  bare.set_env = {{"B", "2"}, {"A", "1"}};
  EXPECT_EQ(RunChild(bare).out, "A=1\nB=2\n");
}

TEST(ProcessTest, ProgramIsLookedUpInTheChildsPath) {
  ProcessOptions o;
  o.argv = {"sh", "-c", "echo found"};
  o.set_env = {{"PATH", "/nonexistent-dir"}};
  Result<ProcessResult> r = Env::Default()->RunProcess(o);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());

  o.set_env = {{"PATH", "/nonexistent-dir:/bin:/usr/bin"}};
  EXPECT_EQ(RunChild(o).out, "found\n");
}

TEST(ProcessTest, RunsInTheGivenDirectory) {
  TempDir dir;
  ProcessOptions o = Sh("pwd -P");
  o.cwd = dir.path();
  EXPECT_EQ(RunChild(o).out, std::filesystem::canonical(dir.path()).string() + "\n");

  o.cwd = dir.Join("missing");
  Result<ProcessResult> r = Env::Default()->RunProcess(o);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_THAT(r.status().message(), HasSubstr(dir.Join("missing")));
}

TEST(ProcessTest, RelativeProgramPathIsInTheChildsDirectory) {
  TempDir dir;
  ASSERT_TRUE(Env::Default()->CreateDirs(dir.Join("bin")).ok());
  ASSERT_TRUE(Env::Default()->WriteFile(dir.Join("bin/hello"), "#!/bin/sh\necho hello from $(pwd -P)\n").ok());
  ASSERT_EQ(chmod(dir.Join("bin/hello").c_str(), 0755), 0);
  ProcessOptions o;
  o.argv = {"./bin/hello"};
  o.cwd = dir.path();
  EXPECT_EQ(RunChild(o).out, "hello from " + std::filesystem::canonical(dir.path()).string() + "\n");
}

TEST(ProcessTest, OutputIsCappedPerStream) {
  ProcessOptions o = Sh("head -c 100000 /dev/zero; head -c 10 /dev/zero >&2");
  o.max_output_bytes = 1000;
  ProcessResult r = RunChild(o);
  EXPECT_TRUE(r.ok()) << r.Describe();  // the child was not blocked by the cap
  EXPECT_EQ(r.out.size(), 1000u);
  EXPECT_EQ(r.err.size(), 10u);
  EXPECT_TRUE(r.truncated);
}

TEST(ProcessTest, MissingExecutableIsAClearError) {
  ProcessOptions o;
  o.argv = {"converge-no-such-tool"};
  Result<std::unique_ptr<Process>> p = Env::Default()->StartProcess(o);
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(p.status().IsNotFound());
  EXPECT_THAT(p.status().message(), HasSubstr("converge-no-such-tool"));
  EXPECT_THAT(p.status().message(), HasSubstr("not found"));

  o.argv = {"/nonexistent/tool"};
  p = Env::Default()->StartProcess(o);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("/nonexistent/tool"));

  EXPECT_EQ(Env::Default()->StartProcess(ProcessOptions{}).status().code(), Code::kInvalid);
}

TEST(ProcessTest, TimeoutKillsTheWholeProcessGroup) {
  // The child's background sleep is a grandchild in the child's group; it prints its pid.
  ProcessOptions o = Sh("sleep 100 & echo $!; sleep 100");
  o.timeout_ms = 1000;  // ample time for the shell to start and print, even on a loaded machine
  Result<std::unique_ptr<Process>> p = Env::Default()->StartProcess(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const int pgid = (*p)->pid();
  Result<ProcessResult> r = (*p)->Wait();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->signal, SIGTERM);
  EXPECT_EQ(r->Describe(), "timed out after 1s (killed)");

  const int grandchild = std::atoi(r->out.c_str());
  ASSERT_GT(grandchild, 0) << r->out;
  EXPECT_TRUE(WaitForExit(grandchild, 10'000));
  for (int pid : LiveMembers(pgid)) EXPECT_TRUE(WaitForExit(pid, 10'000)) << pid;
  EXPECT_THAT(LiveMembers(pgid), ::testing::IsEmpty());
}

TEST(ProcessTest, TimeoutStopsAChildThatWritesWithoutPause) {
  ProcessOptions o;
  o.argv = {"yes"};
  o.timeout_ms = 500;
  o.max_output_bytes = 1000;
  ProcessResult r = RunChild(o);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.out.size(), 1000u);
  EXPECT_TRUE(r.truncated);
}

TEST(ProcessTest, TimeoutEscalatesToSigkillAfterTheGrace) {
  ProcessOptions o = Sh("trap '' TERM; sleep 100");  // ignores SIGTERM (and so does sleep)
  o.timeout_ms = 500;  // after the shell has set its trap
  o.kill_grace_ms = 100;
  ProcessResult r = RunChild(o);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_EQ(r.Describe(), "timed out after 500ms (killed)");
}

TEST(ProcessTest, KillSignalsTheGroupAndWaitIsRepeatable) {
  Result<std::unique_ptr<Process>> p = Env::Default()->StartProcess(Sh("sleep 100"));
  ASSERT_TRUE(p.ok());
  (*p)->Kill(SIGTERM);
  Result<ProcessResult> first = (*p)->Wait();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->signal, SIGTERM);
  Result<ProcessResult> again = (*p)->Wait();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->signal, SIGTERM);
}

TEST(ProcessTest, DestructorKillsAndReaps) {
  int pid = 0;
  {
    Result<std::unique_ptr<Process>> p = Env::Default()->StartProcess(Sh("sleep 100"));
    ASSERT_TRUE(p.ok());
    pid = (*p)->pid();
    EXPECT_TRUE(Env::Default()->ProcessAlive(pid));
  }
  EXPECT_FALSE(Env::Default()->ProcessAlive(pid));  // killed and reaped: no zombie is left
}

TEST(ProcessResultTest, Describe) {
  ProcessResult r;
  r.exit_code = 0;
  EXPECT_EQ(r.Describe(), "exited with 0");
  r.timed_out = true;
  r.timeout_ms = 5000;
  EXPECT_EQ(r.Describe(), "timed out after 5s (killed)");
}

}  // namespace
}  // namespace converge
