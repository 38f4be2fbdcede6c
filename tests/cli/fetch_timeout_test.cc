// Deadlines on network waits through the real binary: a Git server on loopback that accepts and
// never answers, answers part of a reply and stalls, or never accepts, ends plan / apply /
// validate after --fetch-timeout with exit 1 and one error line naming the URL and what timed out,
// with nothing applied. The timeout itself is the only wait.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tests/cli/cli_harness.h"
#include "tests/testing/stalling_server.h"

namespace converge::testing {
namespace {

class FetchTimeoutTest : public ::testing::Test {
 protected:
  // Exit 1 and exactly one line on stderr, which holds `needle`.
  void ExpectOneLineError(const RunResult& r, const std::string& needle) {
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("error: " + needle), std::string::npos) << r.err;
  }

  void ExpectNothingApplied() {
    nlohmann::json list = h_.Json(h_.Converge("sim list -o json"));
    EXPECT_TRUE(list["clusters"].empty()) << list.dump();
    EXPECT_TRUE(list["objects"].empty()) << list.dump();
  }

  FleetHarness h_;
};

TEST_F(FetchTimeoutTest, SilentGitServerEndsPlanAfterTheTimeout) {
  StallingServer server(StallingServer::Mode::kSilent);
  std::string url = server.url("git");
  RunResult r = h_.Converge("plan --repo " + url + " --fetch-timeout 1");
  ExpectOneLineError(r, "no data from " + url + " for 1 s while listing its refs");
}

TEST_F(FetchTimeoutTest, PartialReplyThenSilenceEndsApplyWithNothingApplied) {
  StallingServer server(StallingServer::Mode::kPartialReply, "0032a1b2c3d4");
  std::string url = server.url("git");
  RunResult r = h_.Converge("apply --repo " + url + " --fetch-timeout 0.5");
  ExpectOneLineError(r, "no data from " + url + " for 500 ms while listing its refs");
  ExpectNothingApplied();
}

TEST_F(FetchTimeoutTest, SilentHttpServerEndsValidate) {
  StallingServer server(StallingServer::Mode::kSilent);
  std::string url = server.url("http", "fleet.git");
  RunResult r = h_.Converge("validate --repo " + url + " --fetch-timeout 0.5");
  ExpectOneLineError(r, "no data from " + url + " for 500 ms while listing its refs");
}

TEST_F(FetchTimeoutTest, ServerThatNeverAcceptsEndsPlanWithAConnectTimeout) {
  StallingServer server(StallingServer::Mode::kNeverAccept);
  std::string url = server.url("git");
  RunResult r = h_.Converge("plan --repo " + url + " --fetch-timeout 0.5");
  ExpectOneLineError(r, "connecting to " + url + " timed out after 500 ms");
}

TEST_F(FetchTimeoutTest, NonPositiveFetchTimeoutIsAUsageError) {
  RunResult r = h_.WithRepo("plan", "--fetch-timeout 0");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("--fetch-timeout"), std::string::npos) << r.err;
}

TEST_F(FetchTimeoutTest, AServedRepositoryPlansWithinAShortTimeout) {
  h_.WriteStandardFleet();
  RunResult r = h_.WithRepo("plan", "--fetch-timeout 5");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace converge::testing
