// Secrets through the real binary: a plan shows that a Secret's value changed without printing
// anything that confirms a guess (no unsalted SHA-256 of the value), and after a rotation neither
// the old nor the new value (plain or base64) is in any of converge's tables of converge.db: not
// the inventory, run log, events, parse cache or per-file results. The sim_* tables are the
// simulated cluster (its etcd) and hold the live Secret, as a real cluster does.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "engine/base/hash.h"
#include "tests/cli/cli_harness.h"

namespace converge::testing {
namespace {

constexpr const char* kOld = "hunter2-Old-Passw0rd";
constexpr const char* kNew = "correct-Horse-B4ttery";

std::string Base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

// Every cell of every table of `db` except the sim's, as "table: bytes" strings.
std::vector<std::string> ConvergeCells(const std::string& db) {
  std::vector<std::string> cells;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db;
    return cells;
  }
  std::vector<std::string> tables;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(h, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sim\\_%' ESCAPE '\\'",
                     -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  EXPECT_GE(tables.size(), 8u);
  for (const std::string& t : tables) {
    sqlite3_prepare_v2(h, ("SELECT * FROM \"" + t + "\"").c_str(), -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const void* b = sqlite3_column_blob(st, c);
        int n = sqlite3_column_bytes(st, c);
        cells.push_back(t + ": " + std::string(b ? static_cast<const char*>(b) : "", static_cast<size_t>(n)));
      }
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return cells;
}

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override { h_.WriteStandardFleet(); }

  void WriteSecret(const std::string& value) {
    h_.repo().WriteFile("apps/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: web\n"
                                            "  annotations:\n    converge.dev/clusters: alpha\ntype: Opaque\ndata:\n"
                                            "  password: " + Base64(value) + "\n  user: " + Base64("admin-" + value) +
                                                "\n");
    h_.repo().Commit("secret");
  }

  // Neither the value, its base64 nor any prefix of its unsalted SHA-256 is in `text`.
  void ExpectNoTrace(const std::string& text, const std::string& value, const std::string& where) {
    EXPECT_EQ(text.find(value), std::string::npos) << where << " holds " << value << ":\n" << text;
    EXPECT_EQ(text.find(Base64(value)), std::string::npos) << where << " holds base64 of " << value << ":\n" << text;
    for (const std::string& v : {value, Base64(value), "admin-" + value}) {
      std::string sha = Sha256Hex(v).substr(0, 12);
      EXPECT_EQ(text.find(sha), std::string::npos) << where << " holds the sha256 of " << v << ":\n" << text;
    }
  }

  FleetHarness h_;
};

TEST_F(SecretsTest, PlanShowsAChangeButNoHashThatConfirmsAGuess) {
  WriteSecret(kOld);
  ASSERT_EQ(h_.WithRepo("apply").exit_code, 0);
  WriteSecret(kNew);
  RunResult plan = h_.WithRepo("plan");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("Secret"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("-  password: (sensitive"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("+  password: (sensitive"), std::string::npos) << plan.out;
  ExpectNoTrace(plan.out + plan.err, kOld, "plan");
  ExpectNoTrace(plan.out + plan.err, kNew, "plan");
  RunResult json = h_.WithRepo("plan", "-o json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("\"update\""), std::string::npos) << json.out;
  ExpectNoTrace(json.out, kOld, "plan -o json");
  ExpectNoTrace(json.out, kNew, "plan -o json");
}

TEST_F(SecretsTest, NoValueOutlivesItsRotationInAnyTable) {
  WriteSecret(kOld);
  ASSERT_EQ(h_.WithRepo("apply").exit_code, 0);
  WriteSecret(kNew);
  RunResult apply = h_.WithRepo("apply");
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  ExpectNoTrace(apply.out + apply.err, kOld, "apply");
  ExpectNoTrace(apply.out + apply.err, kNew, "apply");
  EXPECT_EQ(h_.WithRepo("plan", "--detailed-exitcode").exit_code, 0);  // the rotation is applied
  std::string all;
  for (const std::string& cell : ConvergeCells(h_.state_dir() + "/converge.db")) all += cell + "\n";
  ExpectNoTrace(all, kOld, "converge.db");
  ExpectNoTrace(all, kNew, "converge.db");
  // The key of the hashes that stand for Secret values is the state dir's, readable by its owner only.
  struct stat st {};
  ASSERT_EQ(stat((h_.state_dir() + "/secret.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace converge::testing
