// DiffObject: create / update / delete / unchanged from desired, live and last-applied, with the
// diff text a user sees. Fixtures: tests/testdata/diff/*.json.
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/base/env.h"
#include "engine/base/hash.h"
#include "engine/base/secret_key.h"
#include "engine/diff/diff.h"

namespace converge {
namespace {

const SecretKey& Key() {
  static const SecretKey key = SecretKey::Ephemeral(Env::Default());
  return key;
}

Json Fixture(const std::string& name) {
  std::ifstream in(std::string(CONVERGE_SOURCE_DIR) + "/tests/testdata/diff/" + name);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return Json::parse(ss.str());
}

// The fixture deployment.json holds {"desired", "live", "last_applied"}: a Deployment applied by
// converge (last_applied == desired) whose live copy carries server defaults and status.
class DeploymentDiffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Json f = Fixture("deployment.json");
    desired_ = f["desired"];
    live_ = f["live"];
    last_ = f["last_applied"];
  }
  ObjectDiff Diff() { return DiffObject(&desired_, &live_, &last_, Key()); }
  Json desired_, live_, last_;
};

TEST_F(DeploymentDiffTest, ServerDefaultsAndStatusAreNotChanges) {
  ObjectDiff d = Diff();
  EXPECT_EQ(d.type, ChangeType::kUnchanged);
  EXPECT_EQ(d.unified, "");
}

TEST_F(DeploymentDiffTest, UnchangedWithoutLastApplied) {
  EXPECT_EQ(DiffObject(&desired_, &live_, nullptr, Key()).type, ChangeType::kUnchanged);
}

TEST_F(DeploymentDiffTest, DesiredReplicasChangeIsAnUpdate) {
  desired_["spec"]["replicas"] = 3;
  ObjectDiff d = Diff();
  EXPECT_EQ(d.type, ChangeType::kUpdate);
  EXPECT_NE(d.unified.find("--- live\n+++ desired\n"), std::string::npos) << d.unified;
  EXPECT_NE(d.unified.find("\n-  replicas: 2\n+  replicas: 3\n"), std::string::npos) << d.unified;
  EXPECT_EQ(d.unified.find("status"), std::string::npos) << d.unified;
  EXPECT_EQ(d.unified.find("resourceVersion"), std::string::npos) << d.unified;
}

TEST_F(DeploymentDiffTest, DriftInLiveIsAnUpdateBackToDesired) {
  live_["spec"]["replicas"] = 5;  // someone scaled it by hand
  ObjectDiff d = Diff();
  EXPECT_EQ(d.type, ChangeType::kUpdate);
  EXPECT_NE(d.unified.find("\n-  replicas: 5\n+  replicas: 2\n"), std::string::npos) << d.unified;
}

TEST_F(DeploymentDiffTest, FieldRemovedFromGitIsRemoved) {
  desired_["metadata"]["labels"].erase("tier");
  ObjectDiff d = Diff();
  EXPECT_EQ(d.type, ChangeType::kUpdate);
  EXPECT_NE(d.unified.find("\n-    tier: web\n"), std::string::npos) << d.unified;
  EXPECT_EQ(d.unified.find("\n+", d.unified.find("@@")), std::string::npos) << d.unified;
}

TEST_F(DeploymentDiffTest, FieldAddedByOthersIsKept) {
  live_["metadata"]["annotations"]["team.example.com/owner"] = "payments";
  EXPECT_EQ(Diff().type, ChangeType::kUnchanged);
}

TEST_F(DeploymentDiffTest, ImageChangeInsideNamedContainer) {
  desired_["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26";
  ObjectDiff d = Diff();
  EXPECT_EQ(d.type, ChangeType::kUpdate);
  EXPECT_NE(d.unified.find("\n-      - image: nginx:1.25\n+      - image: nginx:1.26\n"), std::string::npos)
      << d.unified;
  EXPECT_EQ(d.unified.find("\n+        terminationMessagePath"), std::string::npos) << d.unified;
  EXPECT_EQ(d.unified.find("\n-        terminationMessagePath"), std::string::npos) << d.unified;
}

TEST_F(DeploymentDiffTest, ContainerRemovedFromGitIsRemoved) {
  auto& containers = desired_["spec"]["template"]["spec"]["containers"];
  containers.erase(containers.begin() + 1);
  ObjectDiff d = Diff();
  EXPECT_EQ(d.type, ChangeType::kUpdate);
  EXPECT_NE(d.unified.find("\n-      - args:\n-        - tail\n-        - -f\n"), std::string::npos) << d.unified;
}

TEST(DiffObjectTest, CreateWhenLiveMissing) {
  Json desired = Json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"}})");
  ObjectDiff d = DiffObject(&desired, nullptr, nullptr, Key());
  EXPECT_EQ(d.type, ChangeType::kCreate);
  EXPECT_EQ(d.unified,
            "--- live\n+++ desired\n@@ -0,0 +1,6 @@\n+apiVersion: v1\n+data:\n+  k: v\n+kind: ConfigMap\n"
            "+metadata:\n+  name: a\n");
}

TEST(DiffObjectTest, DeleteWhenDesiredMissing) {
  Json live = Json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","uid":"x"}})");
  ObjectDiff d = DiffObject(nullptr, &live, &live, Key());
  EXPECT_EQ(d.type, ChangeType::kDelete);
  EXPECT_EQ(d.unified,
            "--- live\n+++ desired\n@@ -1,4 +0,0 @@\n-apiVersion: v1\n-kind: ConfigMap\n-metadata:\n-  name: a\n");
}

TEST(DiffObjectTest, BothMissingIsUnchanged) {
  EXPECT_EQ(DiffObject(nullptr, nullptr, nullptr, Key()).type, ChangeType::kUnchanged);
  Json null;
  EXPECT_EQ(DiffObject(&null, &null, nullptr, Key()).type, ChangeType::kUnchanged);
}

TEST(DiffObjectTest, ChangeTypeNames) {
  EXPECT_STREQ(ChangeTypeName(ChangeType::kCreate), "create");
  EXPECT_STREQ(ChangeTypeName(ChangeType::kUpdate), "update");
  EXPECT_STREQ(ChangeTypeName(ChangeType::kDelete), "delete");
  EXPECT_STREQ(ChangeTypeName(ChangeType::kUnchanged), "unchanged");
}

}  // namespace
}  // namespace converge

namespace converge {
namespace {

TEST(SecretDiffTest, ValuesNeverReachTheDiff) {
  Json live = Json::parse(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"app"},
                             "data":{"password":"aHVudGVyMg=="}})");
  Json desired = live;
  desired["data"]["password"] = "bmV3LXBhc3M=";
  ObjectDiff d = DiffObject(&desired, &live, &live, Key());
  EXPECT_EQ(d.type, ChangeType::kUpdate);
  EXPECT_EQ(d.unified.find("aHVudGVyMg=="), std::string::npos) << d.unified;
  EXPECT_EQ(d.unified.find("bmV3LXBhc3M="), std::string::npos) << d.unified;
  EXPECT_NE(d.unified.find("sensitive"), std::string::npos) << d.unified;
  // Same content: unchanged, also against a redacted last-applied (what the store keeps).
  Json last = RedactSecret(live, Key());
  EXPECT_EQ(DiffObject(&live, &live, &last, Key()).type, ChangeType::kUnchanged);
  EXPECT_EQ(DiffObject(&last, &live, &last, Key()).type, ChangeType::kUnchanged);
  EXPECT_EQ(RedactSecret(last, Key()), last);  // idempotent
  Json created = desired;
  EXPECT_EQ(DiffObject(&created, nullptr, nullptr, Key()).unified.find("bmV3"), std::string::npos);
  EXPECT_EQ(DiffObject(nullptr, &live, &last, Key()).unified.find("aHVud"), std::string::npos);
}

TEST(SecretDiffTest, TagsAreKeyedSoAPrintedOneConfirmsNoGuess) {
  Json s = Json::parse(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"app"},
                          "data":{"password":"aHVudGVyMg=="}})");
  std::string shown = DiffObject(&s, nullptr, nullptr, Key()).unified;
  EXPECT_NE(shown.find("password: (sensitive, hmac:"), std::string::npos) << shown;
  EXPECT_EQ(shown.find(Sha256Hex("aHVudGVyMg==").substr(0, 8)), std::string::npos) << shown;
  EXPECT_EQ(shown.find(Sha256Hex("hunter2").substr(0, 8)), std::string::npos) << shown;
  // Another state dir's key gives other tags.
  SecretKey other = SecretKey::Ephemeral(Env::Default());
  EXPECT_NE(RedactSecret(s, Key()), RedactSecret(s, other));
  EXPECT_EQ(RedactSecret(s, Key()), RedactSecret(s, Key()));
  // A placeholder an older converge recorded (an unsalted hash) is kept as it is, and a live
  // value never equals it: the Secret is diffed from Git, and recorded again with a keyed tag.
  Json legacy = s;
  legacy["data"]["password"] = "(sensitive, sha256:0123456789abcdef)";
  EXPECT_EQ(RedactSecret(legacy, Key()), legacy);
  EXPECT_EQ(DiffObject(&legacy, &s, &legacy, Key()).type, ChangeType::kUpdate);
}

TEST(SecretDiffTest, StringDataIsDataAsTheApiServerStoresIt) {
  Json written = Json::parse(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"app"},
                                "data":{"user":"YWRtaW4=","password":"b2xk"},"stringData":{"password":"hunter2","a":"ab"}})");
  Json stored = WithStringDataAsData(written);
  EXPECT_EQ(stored["data"], Json::parse(R"({"user":"YWRtaW4=","password":"aHVudGVyMg==","a":"YWI="})")) << stored.dump();
  EXPECT_FALSE(stored.contains("stringData"));
  // Written with stringData, stored as data: no perpetual difference, and a changed value is one.
  Json last = RedactSecret(written, Key());
  EXPECT_EQ(DiffObject(&written, &stored, &last, Key()).type, ChangeType::kUnchanged);
  Json changed = written;
  changed["stringData"]["password"] = "hunter3";
  EXPECT_EQ(DiffObject(&changed, &stored, &last, Key()).type, ChangeType::kUpdate);
  // Redacted values move as they are.
  EXPECT_EQ(RedactSecret(last, Key()), last);
  Json plain = Json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","stringData":{"x":"y"}})");
  EXPECT_EQ(WithStringDataAsData(plain), plain) << "only Secrets";
}

}  // namespace
}  // namespace converge
