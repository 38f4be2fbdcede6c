// The real Env's files, clocks, variables, process ids and randomness, on a temporary directory.
#include "engine/base/env.h"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/git_fixture.h"

namespace converge {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

std::vector<std::string> Names(const std::vector<DirEntry>& entries) {
  std::vector<std::string> out;
  for (const DirEntry& e : entries) out.push_back(e.name + (e.is_dir ? "/" : ""));
  return out;
}

TEST(EnvFilesTest, WriteThenReadRoundTripsAndOverwrites) {
  TempDir dir;
  Env* env = Env::Default();
  const std::string path = dir.Join("state.json");
  ASSERT_TRUE(env->WriteFile(path, "first").ok());
  ASSERT_TRUE(env->WriteFile(path, std::string("second\0binary", 13)).ok());
  Result<std::string> got = env->ReadFile(path);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, std::string("second\0binary", 13));
  EXPECT_TRUE(env->FileExists(path));
}

TEST(EnvFilesTest, AtomicWriteLeavesNoTemporaryFile) {
  TempDir dir;
  Env* env = Env::Default();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(env->WriteFile(dir.Join("a"), std::string(1000 * i, 'x')).ok());
  Result<std::vector<DirEntry>> entries = env->ListDir(dir.path());
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(Names(*entries), std::vector<std::string>{"a"});
}

TEST(EnvFilesTest, WriteIntoAMissingDirectoryNamesThePath) {
  TempDir dir;
  Status s = Env::Default()->WriteFile(dir.Join("missing/file"), "x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr(dir.Join("missing/file")));
  EXPECT_THAT(s.message(), HasSubstr("exists and is writable"));
}

TEST(EnvFilesTest, ReadOfAMissingFileIsNotFound) {
  TempDir dir;
  Result<std::string> got = Env::Default()->ReadFile(dir.Join("nope"));
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsNotFound());
  EXPECT_THAT(got.status().message(), HasSubstr(dir.Join("nope")));
  EXPECT_FALSE(Env::Default()->FileExists(dir.Join("nope")));
}

TEST(EnvFilesTest, ListDirIsSortedAndMarksDirectories) {
  TempDir dir;
  Env* env = Env::Default();
  ASSERT_TRUE(env->CreateDirs(dir.Join("m/deep/er")).ok());
  ASSERT_TRUE(env->CreateDirs(dir.Join("m/deep/er")).ok());  // exists: ok
  for (const char* name : {"zeta", "alpha", "Beta", "b"}) ASSERT_TRUE(env->WriteFile(dir.Join(name), name).ok());
  Result<std::vector<DirEntry>> entries = env->ListDir(dir.path());
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ(Names(*entries), (std::vector<std::string>{"Beta", "alpha", "b", "m/", "zeta"}));

  Result<std::vector<DirEntry>> missing = env->ListDir(dir.Join("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_THAT(missing.status().message(), HasSubstr(dir.Join("nope")));
}

TEST(EnvFilesTest, RemoveAllRemovesATreeAndAcceptsAMissingPath) {
  TempDir dir;
  Env* env = Env::Default();
  ASSERT_TRUE(env->CreateDirs(dir.Join("tree/a/b")).ok());
  ASSERT_TRUE(env->WriteFile(dir.Join("tree/a/b/f"), "x").ok());
  ASSERT_TRUE(env->WriteFile(dir.Join("tree/g"), "y").ok());
  ASSERT_TRUE(env->WriteFile(dir.Join("keep"), "z").ok());
  EXPECT_TRUE(env->RemoveAll(dir.Join("tree")).ok());
  EXPECT_FALSE(env->FileExists(dir.Join("tree")));
  EXPECT_TRUE(env->FileExists(dir.Join("keep")));
  EXPECT_TRUE(env->RemoveAll(dir.Join("tree")).ok());  // already gone
  EXPECT_TRUE(env->RemoveAll(dir.Join("keep")).ok());  // a plain file
  EXPECT_FALSE(env->FileExists(dir.Join("keep")));
}

TEST(EnvTest, ClocksAndVariables) {
  Env* env = Env::Default();
  int64_t a = env->MonotonicMillis();
  int64_t b = env->MonotonicMillis();
  EXPECT_LE(a, b);
  EXPECT_GT(env->NowMillis(), int64_t{1'600'000'000'000});  // after 2020: the real wall clock
  EXPECT_FALSE(env->GetVar("PATH").empty());
  EXPECT_EQ(env->GetVar("CONVERGE_SURELY_UNSET_VARIABLE_FOR_TESTS"), "");
}

TEST(EnvTest, ProcessIdAndAliveness) {
  Env* env = Env::Default();
  EXPECT_EQ(env->ProcessId(), static_cast<int>(getpid()));
  EXPECT_TRUE(env->ProcessAlive(env->ProcessId()));
  ProcessOptions options;
  options.argv = {"true"};
  Result<std::unique_ptr<Process>> p = env->StartProcess(options);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  int pid = (*p)->pid();
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);  // exited, not reaped
  EXPECT_FALSE(env->ProcessAlive(pid));  // a zombie is not alive
  ASSERT_TRUE((*p)->Wait().ok());
  EXPECT_FALSE(env->ProcessAlive(pid));  // reaped
  EXPECT_FALSE(env->ProcessAlive(0));
}

TEST(EnvTest, RandomU64DiffersAcrossCalls) {
  std::set<uint64_t> seen;
  for (int i = 0; i < 100; ++i) seen.insert(Env::Default()->RandomU64());
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace converge
