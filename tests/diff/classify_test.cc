// Classify and QuickClassify: one line per case (desired, live, recorded row, prune -> decision).
#include "engine/diff/classify.h"

#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/base/env.h"
#include "engine/base/secret_key.h"

namespace converge {
namespace {

const SecretKey& Key() {
  static const SecretKey key = SecretKey::Ephemeral(Env::Default());
  return key;
}

const char* const kDesired = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"default"},"data":{"k":"v"}})";
const char* const kDesiredNew = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"default"},"data":{"k":"w"}})";
const char* const kDesiredOld = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"default"},"data":{"k":"v","gone":"1"}})";
const char* const kLive = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"default","resourceVersion":"5","uid":"u"},"data":{"k":"v"}})";
const char* const kLiveDrift = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"default","resourceVersion":"6","uid":"u"},"data":{"k":"x"}})";
const char* const kLiveWithGone = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"default","resourceVersion":"5","uid":"u"},"data":{"k":"v","gone":"1"}})";
const char* const kSecret = R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"default"},"data":{"p":"cmVhbC12YWx1ZQ=="}})";
const char* const kSecretNew = R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"default"},"data":{"p":"bmV3LXZhbHVl"}})";
const char* const kLiveSecret = R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"default","resourceVersion":"5"},"data":{"p":"cmVhbC12YWx1ZQ=="}})";

struct Case {
  const char* name;
  const char* desired;   // nullptr: Git does not have it
  const char* live;      // nullptr: the cluster does not have it; kRedactedLive: the live Secret holds
                         // the redacted form of kSecret's value (as if converge had delivered that)
  const char* recorded;  // the desired object the row records (nullptr: no row); kept redacted
  const char* version;   // the row's live version
  bool pending, row_drift, prune;
  Decision want;
  bool drift;
  Cause cause;  // checked for create and update
};

const char* const kRedactedLive = "redacted-live-secret";

const Case kCases[] = {
    // name                              desired      live           recorded     ver  pend   drift  prune  decision            drift  cause
    {"create",                           kDesired,    nullptr,       nullptr,     "",  false, false, true,  Decision::kCreate,    false, Cause::kGit},
    {"create_again_after_live_delete",   kDesired,    nullptr,       kDesired,    "5", false, false, true,  Decision::kCreate,    false, Cause::kDrift},
    {"unchanged",                        kDesired,    kLive,         kDesired,    "5", false, false, true,  Decision::kUnchanged, false, Cause::kGit},
    {"refresh_stale_version",            kDesired,    kLive,         kDesired,    "4", false, false, true,  Decision::kRefresh,   false, Cause::kGit},
    {"refresh_stale_drift_flag",         kDesired,    kLive,         kDesired,    "5", false, true,  true,  Decision::kRefresh,   false, Cause::kGit},
    {"adopt_without_row",                kDesired,    kLive,         nullptr,     "",  false, false, true,  Decision::kAdopt,     false, Cause::kGit},
    {"adopt_pending_row",                kDesired,    kLive,         kDesired,    "5", true,  false, true,  Decision::kAdopt,     false, Cause::kGit},
    {"adopt_drift_git_took_over",        kDesired,    kLive,         kDesiredOld, "5", false, false, true,  Decision::kAdopt,     false, Cause::kGit},
    {"update_from_git",                  kDesiredNew, kLive,         kDesired,    "5", false, false, true,  Decision::kUpdate,    false, Cause::kGit},
    {"update_live_drift",                kDesired,    kLiveDrift,    kDesired,    "5", false, false, true,  Decision::kUpdate,    true,  Cause::kDrift},
    {"update_after_pending_is_no_drift", kDesired,    kLiveDrift,    kDesired,    "5", true,  false, true,  Decision::kUpdate,    false, Cause::kGit},
    {"update_removes_field_git_dropped", kDesired,    kLiveWithGone, kDesiredOld, "5", false, false, true,  Decision::kUpdate,    false, Cause::kGit},
    {"field_others_set_is_kept",         kDesired,    kLiveWithGone, kDesired,    "5", false, false, true,  Decision::kUnchanged, false, Cause::kGit},
    {"delete_with_prune",                nullptr,     kLive,         kDesired,    "5", false, false, true,  Decision::kDelete,    false, Cause::kGit},
    {"keep_without_prune",               nullptr,     kLive,         kDesired,    "5", false, false, false, Decision::kUnchanged, false, Cause::kGit},
    {"forget_gone_everywhere",           nullptr,     nullptr,       kDesired,    "5", false, false, true,  Decision::kForget,    false, Cause::kGit},
    {"keep_row_without_prune",           nullptr,     nullptr,       kDesired,    "5", false, false, false, Decision::kUnchanged, false, Cause::kGit},
    {"not_ours_is_left_alone",           nullptr,     kLive,         nullptr,     "",  false, false, true,  Decision::kUnchanged, false, Cause::kGit},
    {"secret_same",                      kSecret,     kLiveSecret,   kSecret,     "5", false, false, true,  Decision::kUnchanged, false, Cause::kGit},
    {"secret_changed_in_git",            kSecretNew,  kLiveSecret,   kSecret,     "5", false, false, true,  Decision::kUpdate,    false, Cause::kGit},
    {"create_after_live_delete_and_git", kDesiredNew, nullptr,       kDesired,    "5", false, false, true,  Decision::kCreate,    false, Cause::kGitAndDrift},
    {"update_git_and_live_both_moved",   kDesiredNew, kLiveDrift,    kDesired,    "5", false, false, true,  Decision::kUpdate,    false, Cause::kGitAndDrift},
    {"update_of_unrecorded_live_object", kDesiredNew, kLive,         nullptr,     "",  false, false, true,  Decision::kUpdate,    false, Cause::kUnmanaged},
    {"secret_delivered_redacted_fixed",  kSecret,     kRedactedLive, kSecret,     "5", false, false, true,  Decision::kUpdate,    true,  Cause::kDrift},
};

class ClassifyTest : public ::testing::TestWithParam<Case> {};

TEST_P(ClassifyTest, Decides) {
  const Case& c = GetParam();
  std::optional<Json> desired, live, last;
  if (c.desired) desired = Json::parse(c.desired);
  if (c.live == kRedactedLive) {
    live = Json::parse(kLiveSecret);
    (*live)["data"]["p"] = RedactSecret(Json::parse(kSecret), Key())["data"]["p"];
  } else if (c.live) {
    live = Json::parse(c.live);
  }
  Recorded row;
  if (c.recorded) {
    last = RedactSecret(Json::parse(c.recorded), Key());  // the inventory keeps Secrets redacted
    row.desired_hash = DesiredHash(Json::parse(c.recorded), Key());
    row.live_version = c.version;
    row.last_applied = &*last;
    row.pending = c.pending;
    row.drift = c.row_drift;
  }
  Classification got = Classify(desired ? &*desired : nullptr, desired ? DesiredHash(*desired, Key()) : "",
                                live ? &*live : nullptr, live ? ResourceVersionOf(*live) : "",
                                c.recorded ? &row : nullptr, c.prune, Key());
  EXPECT_EQ(DecisionName(got.decision), std::string(DecisionName(c.want))) << got.diff.unified;
  EXPECT_EQ(got.drift, c.drift);
  if (got.decision == Decision::kCreate || got.decision == Decision::kUpdate) {
    EXPECT_EQ(CauseName(got.cause), std::string(CauseName(c.cause)));
  }
  bool has_diff = got.decision == Decision::kCreate || got.decision == Decision::kUpdate || got.decision == Decision::kDelete;
  EXPECT_EQ(!got.diff.unified.empty(), has_diff) << got.diff.unified;
  // Secret values never reach a diff.
  EXPECT_EQ(got.diff.unified.find("cmVhbC12YWx1ZQ"), std::string::npos) << got.diff.unified;
  EXPECT_EQ(got.diff.unified.find("bmV3LXZhbHVl"), std::string::npos) << got.diff.unified;
}

INSTANTIATE_TEST_SUITE_P(Cases, ClassifyTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

struct QuickCase {
  const char* name;
  const char* desired_hash;
  const char* live_version;
  bool row, pending, drift, prune;
  Quick want;
};

const QuickCase kQuick[] = {
    {"all_agree", "h", "5", true, false, false, true, Quick::kUnchanged},
    {"live_moved", "h", "6", true, false, false, true, Quick::kNeedBodies},
    {"git_changed", "h2", "5", true, false, false, true, Quick::kNeedBodies},
    {"pending_always_checked", "h", "5", true, true, false, true, Quick::kNeedBodies},
    {"drift_always_checked", "h", "5", true, false, true, true, Quick::kNeedBodies},
    {"no_row", "h", "5", false, false, false, true, Quick::kNeedBodies},
    {"missing_live", "h", "", true, false, false, true, Quick::kNeedBodies},
    {"prune_candidate", "", "5", true, false, false, true, Quick::kNeedBodies},
    {"kept_without_prune", "", "5", true, false, false, false, Quick::kIgnore},
    {"gone_everywhere", "", "", true, false, false, true, Quick::kForget},
    {"gone_everywhere_no_prune", "", "", true, false, false, false, Quick::kIgnore},
    {"not_ours", "", "5", false, false, false, true, Quick::kIgnore},
};

class QuickClassifyTest : public ::testing::TestWithParam<QuickCase> {};

TEST_P(QuickClassifyTest, Decides) {
  const QuickCase& c = GetParam();
  Recorded row;
  row.desired_hash = "h";
  row.live_version = "5";
  row.pending = c.pending;
  row.drift = c.drift;
  EXPECT_EQ(QuickClassify(c.desired_hash, c.live_version, c.row ? &row : nullptr, c.prune), c.want);
}

INSTANTIATE_TEST_SUITE_P(Cases, QuickClassifyTest, ::testing::ValuesIn(kQuick),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace converge
