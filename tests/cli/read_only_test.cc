// Read-only commands on a state dir this process may not write, through the real binary run as an
// unprivileged user (as root, permissions do not stop writes, so the OS must refuse them for
// real): status, validate and plan work, print what they print on a writable dir, leave
// converge.db byte-for-byte unchanged and nothing behind in TMPDIR; apply fails with one clear line.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/base/hash.h"
#include "tests/cli/cli_harness.h"

namespace converge::testing {
namespace {

std::string FileHash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return Sha256Hex(ss.str());
}

class ReadOnlyStateDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (getuid() != 0) GTEST_SKIP() << "needs root to run converge as another (unprivileged) user";
    int code = -1;
    RunCommand("command -v setpriv", &code);
    if (code != 0) GTEST_SKIP() << "setpriv is not installed";
    h_.WriteStandardFleet();
    RunResult r = h_.WithRepo("apply");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The unprivileged user may enter the test's directories and read the state, not write it.
    std::string root = std::filesystem::path(h_.state_dir()).parent_path().string();
    ASSERT_EQ(chmod(root.c_str(), 0755), 0);
    RunCommand("chmod -R a+rX,go-w " + ShellQuote(h_.state_dir()), nullptr);
    tmpdir_ = root + "/tmp";
    std::filesystem::create_directories(tmpdir_);
    ASSERT_EQ(chmod(tmpdir_.c_str(), 01777), 0);
  }

  // `converge --state-dir STATE ARGS --repo URL` as user nobody (uid 65534).
  RunResult AsNobody(const std::string& args, bool with_repo = true) {
    std::string root = std::filesystem::path(h_.state_dir()).parent_path().string();
    std::string out = root + "/ro-stdout", err = root + "/ro-stderr";
    std::string cmd = "env HOME=/nonexistent TMPDIR=" + ShellQuote(tmpdir_) +
                      " setpriv --reuid=65534 --regid=65534 --clear-groups " + CONVERGE_BINARY + " --state-dir " +
                      ShellQuote(h_.state_dir()) + " " + args + (with_repo ? " --repo " + h_.url() : "") + " >" +
                      out + " 2>" + err + " </dev/null";
    int code = -1;
    RunCommand(cmd, &code);
    RunResult r;
    r.exit_code = code;
    r.out = ReadAll(out);
    r.err = ReadAll(err);
    return r;
  }

  static std::string ReadAll(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  FleetHarness h_;
  std::string tmpdir_;
};

TEST_F(ReadOnlyStateDirTest, StatusValidateAndPlanWorkAndWriteNothing) {
  std::string db = h_.state_dir() + "/converge.db";
  std::string before = FileHash(db);
  // The OS really refuses this user's writes there.
  int code = -1;
  RunCommand("setpriv --reuid=65534 --regid=65534 --clear-groups touch " + ShellQuote(h_.state_dir() + "/x") +
                 " 2>/dev/null",
             &code);
  ASSERT_NE(code, 0) << "the state dir is writable by the unprivileged user: the test would prove nothing";

  RunResult status = AsNobody("status", /*with_repo=*/false);
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("alpha"), std::string::npos) << status.out;
  EXPECT_EQ(status.err, "");

  RunResult validate = AsNobody("validate");
  EXPECT_EQ(validate.exit_code, 0) << validate.err;
  EXPECT_EQ(validate.err, "");

  RunResult plan = AsNobody("plan --detailed-exitcode");
  EXPECT_EQ(plan.exit_code, 0) << plan.out << plan.err;  // applied: no changes
  EXPECT_EQ(plan.err, "");

  // A new commit: the plan still fetches it (into a temporary copy) and shows the change.
  std::string web = h_.repo().ReadFile("apps/web.yaml");
  web.replace(web.find("greeting: hello"), 15, "greeting: howdy");
  h_.repo().WriteFile("apps/web.yaml", web);
  h_.repo().Commit("howdy");
  plan = AsNobody("plan --detailed-exitcode");
  EXPECT_EQ(plan.exit_code, 2) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("howdy"), std::string::npos) << plan.out;
  EXPECT_EQ(plan.err, "");
  RunResult json = AsNobody("plan -o json");
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(h_.Json(json)["summary"]["update"], 2) << json.out;  // web-config on alpha and beta

  // With -v, what was skipped is said once.
  RunResult verbose = AsNobody("plan -v");
  EXPECT_EQ(verbose.exit_code, 0) << verbose.err;
  EXPECT_EQ(verbose.err.find("warning"), std::string::npos) << verbose.err;

  // Applying needs a writable state dir, and says so.
  RunResult apply = AsNobody("apply");
  EXPECT_EQ(apply.exit_code, 1) << apply.out << apply.err;
  EXPECT_NE(apply.err.find("read-only"), std::string::npos) << apply.err;

  EXPECT_EQ(FileHash(db), before) << "a read-only command changed converge.db";
  EXPECT_TRUE(std::filesystem::is_empty(tmpdir_)) << "temporary copies were left in " << tmpdir_;
}

}  // namespace
}  // namespace converge::testing
