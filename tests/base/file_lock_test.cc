// Env::LockFile across processes: a held lock refuses a non-blocking acquirer with the holder's
// text, a released one is free, and a blocking acquirer proceeds only after the release. Children
// are forked and report through pipes; nothing here sleeps.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/base/env.h"
#include "tests/testing/git_fixture.h"

namespace converge {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using testing::TempDir;

// Reads what the other end writes until it closes.
std::string ReadToEnd(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void WriteString(int fd, const std::string& s) { (void)!write(fd, s.data(), s.size()); }

int Reap(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Forks a child that tries LockFile(path, wait=false) and reports "ok" or "<code>|<message>".
std::string TryLockInChild(const std::string& path) {
  int p[2];
  EXPECT_EQ(pipe(p), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    auto lock = Env::Default()->LockFile(path, /*wait=*/false);
    WriteString(p[1], lock.ok() ? "ok" : std::string(CodeName(lock.status().code())) + "|" + lock.status().message());
    _exit(0);
  }
  close(p[1]);
  std::string report = ReadToEnd(p[0]);
  close(p[0]);
  EXPECT_EQ(Reap(pid), 0);
  return report;
}

TEST(FileLockTest, HeldLockRefusesAnotherProcessWithTheHolderText) {
  TempDir dir;
  const std::string path = dir.Join("converge.lock");
  auto held = Env::Default()->LockFile(path, /*wait=*/false);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ((*held)->path(), path);
  ASSERT_TRUE((*held)->SetHolder("pid 4242 on host a").ok());

  std::string report = TryLockInChild(path);
  EXPECT_THAT(report, HasSubstr("conflict|"));
  EXPECT_THAT(report, HasSubstr(path));
  EXPECT_THAT(report, EndsWith("(pid 4242 on host a)"));

  held = Status::Internal("released");  // destroys the lock
  EXPECT_EQ(TryLockInChild(path), "ok");
}

TEST(FileLockTest, HeldLockRefusesASecondAcquirerInTheSameProcess) {
  TempDir dir;
  const std::string path = dir.Join("x.lock");
  auto first = Env::Default()->LockFile(path, false);
  ASSERT_TRUE(first.ok());
  auto second = Env::Default()->LockFile(path, false);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kConflict);
  EXPECT_THAT(second.status().message(), EndsWith("(unknown)"));  // no SetHolder yet
  first = Status::Internal("released");
  EXPECT_TRUE(Env::Default()->LockFile(path, false).ok());
}

TEST(FileLockTest, LockInAMissingDirectoryIsUnavailableNamingIt) {
  TempDir dir;
  auto lock = Env::Default()->LockFile(dir.Join("missing/x.lock"), false);
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), Code::kUnavailable);
  EXPECT_THAT(lock.status().message(), HasSubstr(dir.Join("missing/x.lock")));
}

// The child blocks in LockFile(wait=true) while we hold the lock. Before releasing, we write a
// token into a second pipe; the child, once it has the lock, reports whether the token was there.
// It can only be there if the child got the lock after our release. The child is forked before
// we lock: a forked child shares its parent's open files, and so a lock taken before the fork.
TEST(FileLockTest, BlockingAcquirerProceedsOnlyAfterRelease) {
  TempDir dir;
  const std::string path = dir.Join("converge.lock");
  int go[2], report[2], token[2];
  ASSERT_EQ(pipe(go), 0);
  ASSERT_EQ(pipe(report), 0);
  ASSERT_EQ(pipe(token), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(go[1]);
    close(report[0]);
    close(token[1]);
    char c = 0;
    if (read(go[0], &c, 1) != 1) _exit(3);  // the parent holds the lock now
    WriteString(report[1], "w");           // about to block
    auto lock = Env::Default()->LockFile(path, /*wait=*/true);
    if (!lock.ok()) _exit(2);
    fcntl(token[0], F_SETFL, O_NONBLOCK);  // absent token: EAGAIN, not a wait
    bool released_first = read(token[0], &c, 1) == 1 && c == 'r';  // written before the release
    WriteString(report[1], released_first ? "y" : "n");
    _exit(0);
  }
  close(go[0]);
  close(report[1]);
  close(token[0]);
  auto held = Env::Default()->LockFile(path, /*wait=*/true);
  ASSERT_TRUE(held.ok());
  WriteString(go[1], "g");
  char c = 0;
  ASSERT_EQ(read(report[0], &c, 1), 1);
  EXPECT_EQ(c, 'w');
  WriteString(token[1], "r");
  held = Status::Internal("released");
  EXPECT_EQ(ReadToEnd(report[0]), "y");
  EXPECT_EQ(Reap(pid), 0);
  for (int fd : {go[1], report[0], token[1]}) close(fd);
}

}  // namespace
}  // namespace converge
