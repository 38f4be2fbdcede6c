// The real binary on a pseudo-terminal, as a person runs it: colour on a TTY unless NO_COLOR is
// set to a non-empty value (https://no-color.org), and apply's live progress line with
// done/total and the elapsed time.
#include <gtest/gtest.h>

#include <regex>

#include "tests/cli/cli_harness.h"

namespace converge::testing {
namespace {

// Any ANSI SGR (colour or bold) sequence.
bool HasColour(const std::string& s) { return std::regex_search(s, std::regex("\033\\[[0-9;]*m")); }

class TerminalTest : public ::testing::Test {
 protected:
  void SetUp() override { h_.WriteStandardFleet(); }
  FleetHarness h_;
};

TEST_F(TerminalTest, NoColorTurnsColourOffOnATerminal) {
  const std::string plan = "plan --repo " + h_.url();
  const std::vector<std::string> colour_terminal = {"TERM=xterm-256color", "-NO_COLOR"};
  RunResult coloured = h_.ConvergeOnTty(plan, colour_terminal);
  ASSERT_EQ(coloured.exit_code, 0) << coloured.out;
  EXPECT_TRUE(HasColour(coloured.out)) << "a plan on a terminal is coloured:\n" << coloured.out;

  RunResult plain = h_.ConvergeOnTty(plan, {"TERM=xterm-256color", "NO_COLOR=1"});
  ASSERT_EQ(plain.exit_code, 0) << plain.out;
  EXPECT_FALSE(HasColour(plain.out)) << plain.out;
  EXPECT_NE(plain.out.find("+ create fleet: Cluster alpha"), std::string::npos) << plain.out;

  // NO_COLOR set but empty does not count (no-color.org).
  EXPECT_TRUE(HasColour(h_.ConvergeOnTty(plan, {"TERM=xterm-256color", "NO_COLOR="}).out));

  // Apply (its result and its logs, -v), status and history neither.
  RunResult apply = h_.ConvergeOnTty("-v apply --wait --timeout 60 --repo " + h_.url(), {"TERM=xterm-256color", "NO_COLOR=yes"});
  ASSERT_EQ(apply.exit_code, 0) << apply.out;
  EXPECT_NE(apply.out.find("Apply complete"), std::string::npos) << apply.out;
  EXPECT_FALSE(HasColour(apply.out)) << apply.out;
  ASSERT_EQ(h_.Converge("sim patch alpha deployment web/web '{\"spec\":{\"replicas\":5}}'").exit_code, 0);
  for (const char* cmd : {"status", "history", "sim list"}) {
    RunResult r = h_.ConvergeOnTty(cmd, {"TERM=xterm-256color", "NO_COLOR=1"});
    EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.out;
    EXPECT_FALSE(HasColour(r.out)) << cmd << "\n" << r.out;
  }
  EXPECT_TRUE(HasColour(h_.ConvergeOnTty("status", colour_terminal).out));  // it has something to colour
}

TEST_F(TerminalTest, ProgressShowsDoneOfTotalAndElapsedTime) {
  // stderr (the progress) on the terminal, stdout (the result) in a file.
  std::string result = h_.TempPath("result.txt");
  RunResult r = h_.ConvergeOnTty("apply --wait --timeout 60 --repo " + h_.url() + " >" + result, {"TERM=xterm-256color"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // The live line: "[3/12 done, 1s] alpha: ConfigMap/web/web-config created".
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\\[[0-9]+/12 done, [0-9]+s\\] [a-z]+: [A-Za-z]+/"))) << r.out;
  EXPECT_NE(r.out.find("[12/12 done, "), std::string::npos) << r.out;
  // It is rewritten in place, and the last line says how many finished in how long.
  EXPECT_NE(r.out.find("\r\033[K"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("12/12 actions finished in [0-9]+s\r\n"))) << r.out;

  // Off a terminal: one plain line per action, no cursor control.
  h_.repo().WriteFile("apps/more.yaml",
                      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: more\n  namespace: web\n  annotations:\n"
                      "    converge.dev/clusters: alpha\n");
  h_.repo().Commit("more");
  RunResult plain = h_.WithRepo("apply");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.err.find("alpha: ConfigMap/web/more created\n"), std::string::npos) << plain.err;
  EXPECT_EQ(plain.err.find("\033["), std::string::npos) << plain.err;
}

}  // namespace
}  // namespace converge::testing
