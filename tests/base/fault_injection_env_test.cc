// FaultInjectionEnv: faults on every call, after N calls and by path prefix, counted per
// operation, and cleared again.
#include "tests/testing/fault_injection_env.h"

#include <gtest/gtest.h>

#include "tests/testing/git_fixture.h"

namespace converge {
namespace {

using testing::Fault;
using testing::FaultInjectionEnv;
using testing::FaultOp;
using testing::TempDir;

TEST(FaultInjectionEnvTest, FailsEveryCallAndLeavesTheWorldAlone) {
  TempDir dir;
  FaultInjectionEnv env;
  env.FailAlways(FaultOp::kWriteFile, Status::Unavailable("disk full", false));
  Status s = env.WriteFile(dir.Join("f"), "x");
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.message(), "disk full");
  EXPECT_FALSE(env.FileExists(dir.Join("f")));
  EXPECT_EQ(env.calls(FaultOp::kWriteFile), 1);
  EXPECT_EQ(env.failures(FaultOp::kWriteFile), 1);

  env.Clear(FaultOp::kWriteFile);
  EXPECT_TRUE(env.WriteFile(dir.Join("f"), "x").ok());
  EXPECT_EQ(env.calls(FaultOp::kWriteFile), 2);
  EXPECT_EQ(env.failures(FaultOp::kWriteFile), 1);
  EXPECT_TRUE(env.CreateDirs(dir.Join("d")).ok());  // other operations were never affected
  EXPECT_EQ(env.calls(FaultOp::kCreateDirs), 1);
}

TEST(FaultInjectionEnvTest, FailsAfterNCalls) {
  TempDir dir;
  FaultInjectionEnv env;
  env.Inject(FaultOp::kCreateDirs, Fault{Status::Unavailable("quota"), 2, ""});
  EXPECT_TRUE(env.CreateDirs(dir.Join("a")).ok());
  EXPECT_TRUE(env.CreateDirs(dir.Join("b")).ok());
  EXPECT_FALSE(env.CreateDirs(dir.Join("c")).ok());
  EXPECT_FALSE(env.CreateDirs(dir.Join("d")).ok());
  EXPECT_FALSE(env.FileExists(dir.Join("c")));
  EXPECT_EQ(env.calls(FaultOp::kCreateDirs), 4);
  EXPECT_EQ(env.failures(FaultOp::kCreateDirs), 2);
}

TEST(FaultInjectionEnvTest, FailsOnlyPathsWithThePrefix) {
  TempDir dir;
  FaultInjectionEnv env;
  env.Inject(FaultOp::kLockFile, Fault{Status::Conflict("held (pid 1)"), 0, dir.Join("state/")});
  ASSERT_TRUE(env.CreateDirs(dir.Join("state")).ok());
  auto refused = env.LockFile(dir.Join("state/converge.lock"), false);
  EXPECT_EQ(refused.status().code(), Code::kConflict);
  auto other = env.LockFile(dir.Join("other.lock"), false);
  EXPECT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(env.calls(FaultOp::kLockFile), 2);
  EXPECT_EQ(env.failures(FaultOp::kLockFile), 1);
}

TEST(FaultInjectionEnvTest, FailsStartProcessByProgram) {
  FaultInjectionEnv env;
  env.Inject(FaultOp::kStartProcess, Fault{Status::NotFound("kubectl not installed"), 0, "kubectl"});
  ProcessOptions kubectl;
  kubectl.argv = {"kubectl", "version"};
  EXPECT_TRUE(env.RunProcess(kubectl).status().IsNotFound());
  ProcessOptions sh;
  sh.argv = {"sh", "-c", "exit 0"};
  Result<ProcessResult> ran = env.RunProcess(sh);  // RunProcess goes through StartProcess
  ASSERT_TRUE(ran.ok());
  EXPECT_TRUE(ran->ok());
  EXPECT_EQ(env.calls(FaultOp::kStartProcess), 2);
  env.ClearAll();
  EXPECT_EQ(env.failures(FaultOp::kStartProcess), 1);
}

}  // namespace
}  // namespace converge
