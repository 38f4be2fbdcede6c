// StateLock over the Env seam: its messages when the Env refuses the directory or the lock, and
// the holder's pid read back from Env::LockFile's Conflict.
#include "engine/store/state_lock.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/fault_injection_env.h"
#include "tests/testing/git_fixture.h"

namespace converge {
namespace {

using ::testing::HasSubstr;
using testing::Fault;
using testing::FaultInjectionEnv;
using testing::FaultOp;
using testing::TempDir;

TEST(StateLockEnvTest, HeldLockNamesTheHolderPidFromTheEnv) {
  TempDir dir;
  FaultInjectionEnv env;
  env.FailAlways(FaultOp::kLockFile, Status::Conflict("lock " + dir.Join("converge.lock") + " is already held (4242)"));
  auto lock = StateLock::Acquire(dir.path(), /*wait=*/false, &env);
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), Code::kConflict);
  EXPECT_EQ(lock.status().message(), "another converge is running on state dir " + dir.path() +
                                         " (pid 4242): wait for it to finish, or use another --state-dir");
  EXPECT_EQ(env.calls(FaultOp::kLockFile), 1);
}

TEST(StateLockEnvTest, LockErrorsOtherThanConflictPassThrough) {
  TempDir dir;
  FaultInjectionEnv env;
  env.FailAlways(FaultOp::kLockFile, Status::Unavailable("cannot lock: read-only file system", false));
  auto lock = StateLock::Acquire(dir.path(), /*wait=*/true, &env);
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), Code::kUnavailable);
  EXPECT_EQ(lock.status().message(), "cannot lock: read-only file system");
}

TEST(StateLockEnvTest, UncreatableStateDirSaysWhatToDo) {
  TempDir dir;
  FaultInjectionEnv env;
  env.Inject(FaultOp::kCreateDirs, Fault{Status::Unavailable("permission denied", false), 0, dir.path()});
  auto lock = StateLock::Acquire(dir.Join("state"), /*wait=*/false, &env);
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), Code::kUnavailable);
  EXPECT_THAT(lock.status().message(), HasSubstr("cannot create state dir " + dir.Join("state")));
  EXPECT_THAT(lock.status().message(), HasSubstr("pass another --state-dir"));
  EXPECT_EQ(env.calls(FaultOp::kLockFile), 0);
}

TEST(StateLockEnvTest, RealLockRecordsOurPidForOthers) {
  TempDir dir;
  auto first = StateLock::Acquire(dir.path(), /*wait=*/false);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = StateLock::Acquire(dir.path(), /*wait=*/false);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(),
              HasSubstr("(pid " + std::to_string(Env::Default()->ProcessId()) + "): wait for it to finish"));
}

}  // namespace
}  // namespace converge
