// Kubernetes' own validation through the real binary: each bad input that a real API server
// refuses (and that used to pass validate, then crash, hang or half-apply) exits 1 at validate,
// plan and apply with file:line:column and the field, and nothing is applied.
#include <gtest/gtest.h>

#include "tests/cli/cli_harness.h"

namespace converge::testing {
namespace {

using nlohmann::json;

class KubernetesValidationTest : public ::testing::Test {
 protected:
  void SetUp() override { h_.WriteStandardFleet(); }

  void ExpectRejected(const std::string& path, const std::string& content, const std::vector<std::string>& needles) {
    h_.repo().WriteFile(path, content);
    h_.repo().Commit("bad input");
    for (const char* cmd : {"validate", "plan", "apply"}) {
      RunResult r = h_.WithRepo(cmd);
      EXPECT_EQ(r.exit_code, 1) << cmd << "\n" << r.out << r.err;
      for (const auto& n : needles) EXPECT_NE(r.err.find(n), std::string::npos) << cmd << ": no \"" << n << "\" in:\n" << r.err;
    }
    json list = h_.Json(h_.Converge("sim list -o json"));
    EXPECT_TRUE(list["clusters"].empty()) << list.dump();
    EXPECT_TRUE(list["objects"].empty()) << list.dump();
  }

  FleetHarness h_;
};

std::string Deployment(const std::string& replicas, const std::string& name = "api") {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name +
         "\n  namespace: web\n  annotations:\n    converge.dev/clusters: alpha\nspec:\n  replicas: " + replicas +
         "\n  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n      labels: {app: api}\n"
         "    spec:\n      containers:\n        - name: api\n          image: nginx:1.27\n";
}

TEST_F(KubernetesValidationTest, NegativeReplicas) {
  ExpectRejected("apps/api.yaml", Deployment("-3"),
                 {"apps/api.yaml:9:13: Deployment \"api\": spec.replicas must be 0 or more, got -3"});
}

TEST_F(KubernetesValidationTest, QuotedReplicas) {
  ExpectRejected("apps/api.yaml", Deployment("\"3\""),
                 {"apps/api.yaml:9:13:", "spec.replicas must be an integer (int32), got string \"3\""});
}

TEST_F(KubernetesValidationTest, ReplicasBeyondInt32) {
  ExpectRejected("apps/api.yaml", Deployment("1e20"), {"apps/api.yaml:9:13:", "got number 1e+20"});
}

TEST_F(KubernetesValidationTest, InvalidNames) {
  ExpectRejected("apps/api.yaml", Deployment("1", "Café_Upper"),
                 {"apps/api.yaml:4:9:", "is not a valid Deployment name", "rename it, e.g. \"caf-upper\""});
}

TEST_F(KubernetesValidationTest, NameOf300Characters) {
  ExpectRejected("apps/api.yaml", Deployment("1", std::string(300, 'a')),
                 {"apps/api.yaml:4:9:", "must be no more than 253 characters (it has 300)"});
}

TEST_F(KubernetesValidationTest, LabelValueWithSpaces) {
  ExpectRejected("apps/cm.yaml",
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: web\n  labels:\n"
                 "    tier: front end\n",
                 {"apps/cm.yaml:7:11:", "metadata.labels.tier has an invalid label value \"front end\""});
}

TEST_F(KubernetesValidationTest, BuiltinKindUnderTheWrongApiVersion) {
  std::string d = Deployment("1");
  d.replace(0, 19, "apiVersion: v1");
  ExpectRejected("apps/api.yaml", d, {"apps/api.yaml:1:13:", "Deployment is served as apiVersion: apps/v1"});
}

TEST_F(KubernetesValidationTest, NonStringConfigMapData) {
  ExpectRejected("apps/cm.yaml",
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: web\ndata:\n  port: 8080\n",
                 {"apps/cm.yaml:7:9:", "data.port must be a string, got integer 8080"});
}

TEST_F(KubernetesValidationTest, ConfigMapOfThreeMegabytes) {
  ExpectRejected("apps/cm.yaml",
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: web\ndata:\n  blob: " +
                     std::string(3 * 1024 * 1024, 'x') + "\n",
                 {"apps/cm.yaml:7:", "a ConfigMap may hold at most 1048576", "stores at most 1572864"});
}

// A custom resource whose CRD is neither in the repository nor in the cluster: validate warns,
// plan refuses naming the cluster, and nothing is applied.
TEST_F(KubernetesValidationTest, CustomResourceWithoutItsDefinition) {
  h_.repo().WriteFile("apps/widget.yaml",
                      "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: web\n"
                      "  annotations:\n    converge.dev/clusters: alpha\n");
  h_.repo().Commit("a widget");
  RunResult v = h_.WithRepo("validate");
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find("no CustomResourceDefinition in the repository declares Widget"), std::string::npos) << v.out;
  for (const char* cmd : {"plan", "apply"}) {
    RunResult r = h_.WithRepo(cmd);
    EXPECT_EQ(r.exit_code, 1) << cmd << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find("apps/widget.yaml:1: Widget \"w\": cluster alpha serves no Widget (example.com/v1)"),
              std::string::npos)
        << cmd << "\n" << r.err;
  }
  json list = h_.Json(h_.Converge("sim list -o json"));
  EXPECT_TRUE(list["objects"].empty()) << list.dump();
}

// replicas: 2000000000 is a valid int32: the sim counts what it cannot materialize as Pending and
// apply --wait ends at its timeout instead of running without end.
TEST_F(KubernetesValidationTest, HugeValidReplicaCountEndsAtTheTimeout) {
  h_.repo().WriteFile("apps/api.yaml", Deployment("2000000000"));
  h_.repo().Commit("many replicas");
  RunResult v = h_.WithRepo("validate");
  EXPECT_EQ(v.exit_code, 0) << v.err;
  RunResult a = h_.WithRepo("apply", "--wait --timeout 3");
  EXPECT_EQ(a.exit_code, 1) << a.out << a.err;
  EXPECT_NE(a.err.find("Deployment/web/api"), std::string::npos) << a.err;
  json list = h_.Json(h_.Converge("sim list -o json"));
  size_t pods = 0;
  for (const auto& o : list["objects"]) pods += o["kind"] == "Pod" && o["name"].get<std::string>().rfind("api-", 0) == 0;
  EXPECT_EQ(pods, 200u);
}

}  // namespace
}  // namespace converge::testing
