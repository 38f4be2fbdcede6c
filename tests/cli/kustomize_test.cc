// Kustomize directories through the real binary and the real kubectl: rendered as Argo CD and
// Flux do (a base used by an overlay only through it), placed by annotations kustomize adds,
// cached by tree so an unchanged directory is rendered once, and errors that name the directory.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/cli/cli_harness.h"

namespace converge::testing {
namespace {

using json = nlohmann::json;

class KustomizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.WriteStandardFleet();
    h_.repo().RemoveFile("apps/web.yaml");
    h_.repo().RemoveFile("apps/api.yaml");
    h_.repo().WriteFile("apps/base/kustomization.yaml", "resources:\n  - deploy.yaml\n");
    h_.repo().WriteFile("apps/base/deploy.yaml", R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  replicas: 1
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers:
        - {name: shop, image: "nginx:1.25", resources: {requests: {cpu: 50m, memory: 32Mi}}}
)");
    h_.repo().WriteFile("apps/overlays/prod/kustomization.yaml", R"(namespace: shop
commonAnnotations:
  converge.dev/clusters: alpha
resources:
  - ns.yaml
  - ../../base
configMapGenerator:
  - name: shop-config
    literals: [mode=prod]
)");
    h_.repo().WriteFile("apps/overlays/prod/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n");
    h_.repo().Commit("kustomize");
    // kubectl through a wrapper that counts renders.
    log_ = h_.dir() + "/renders.log";
    std::string bin = h_.dir() + "/bin";
    std::filesystem::create_directories(bin);
    std::ofstream(bin + "/kubectl") << "#!/bin/sh\necho \"$@\" >> " << log_ << "\nexec /usr/bin/kubectl \"$@\"\n";
    std::filesystem::permissions(bin + "/kubectl", std::filesystem::perms::owner_all);
    old_path_ = std::getenv("PATH");
    setenv("PATH", (bin + ":" + old_path_).c_str(), 1);
  }
  void TearDown() override { setenv("PATH", old_path_.c_str(), 1); }

  int Renders() {
    std::ifstream in(log_);
    int n = 0;
    for (std::string line; std::getline(in, line);) n++;
    return n;
  }

  FleetHarness h_;
  std::string log_, old_path_;
};

TEST_F(KustomizeTest, AnOverlayIsRenderedPlacedAppliedAndThenANoOp) {
  RunResult valid = h_.WithRepo("validate");
  ASSERT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  EXPECT_EQ(valid.err.find("deploy.yaml"), std::string::npos) << "the base's files are not read on their own";
  RunResult apply = h_.WithRepo("apply", "--wait --timeout 60");
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  json list = h_.Json(h_.Converge("sim list -o json"));
  bool deployment = false, generated = false;
  for (const auto& o : list["objects"]) {
    if (o["cluster"] != "alpha" || o["namespace"] != "shop") continue;
    deployment |= o["kind"] == "Deployment" && o["name"] == "shop";
    generated |= o["kind"] == "ConfigMap" && o["name"].get<std::string>().rfind("shop-config-", 0) == 0;
  }
  EXPECT_TRUE(deployment) << list.dump(2);
  EXPECT_TRUE(generated) << "configMapGenerator's hashed name\n" << list.dump(2);
  for (const auto& o : list["objects"]) EXPECT_NE(o["cluster"], "beta") << o.dump();
  RunResult noop = h_.WithRepo("plan", "--detailed-exitcode");
  EXPECT_EQ(noop.exit_code, 0) << noop.out << noop.err;
  EXPECT_EQ(Renders(), 1) << "one render, for the overlay; the base only through it";
}

TEST_F(KustomizeTest, AnUnchangedDirectoryIsNeverRenderedTwice) {
  ASSERT_EQ(h_.WithRepo("plan").exit_code, 0);
  ASSERT_EQ(Renders(), 1);
  h_.repo().WriteFile("apps/plain.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n  namespace: "
                                         "default\n  annotations: {converge.dev/clusters: beta}\n");
  h_.repo().Commit("an unrelated file");
  RunResult p = h_.WithRepo("plan", "-o json");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(Renders(), 1);
  h_.repo().WriteFile("apps/overlays/prod/kustomization.yaml",
                      h_.repo().ReadFile("apps/overlays/prod/kustomization.yaml") + "commonLabels: {tier: prod}\n");
  h_.repo().Commit("overlay changed");
  ASSERT_EQ(h_.WithRepo("plan").exit_code, 0);
  EXPECT_EQ(Renders(), 2);
  // The base is part of what the overlay's output depends on.
  h_.repo().WriteFile("apps/base/deploy.yaml",
                      h_.repo().ReadFile("apps/base/deploy.yaml") + "---\napiVersion: v1\nkind: ServiceAccount\n"
                                                                    "metadata:\n  name: shop\n");
  h_.repo().Commit("base changed");
  RunResult after = h_.WithRepo("plan", "-o json");
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(Renders(), 3);
  EXPECT_NE(after.out.find("\"ServiceAccount\""), std::string::npos) << after.out;
}

TEST_F(KustomizeTest, ASecretGeneratorsOutputIsNeverCachedOnDisk) {
  h_.repo().WriteFile("apps/overlays/prod/kustomization.yaml",
                      h_.repo().ReadFile("apps/overlays/prod/kustomization.yaml") +
                          "secretGenerator:\n  - name: creds\n    literals: [password=hunter2-kz]\n");
  h_.repo().Commit("a generated Secret");
  RunResult p = h_.WithRepo("plan", "-o json");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(p.out.find("hunter2-kz"), std::string::npos);
  // Neither the value nor its base64 ("aHVudGVyMi1reg==") is anywhere in the state dir but the
  // simulated cluster (nothing was applied, so nowhere).
  int found = 0;
  RunCommand("grep -rl -e hunter2-kz -e aHVudGVyMi1reg " + h_.state_dir(), &found);
  EXPECT_EQ(found, 1) << "grep found the Secret's value in the state dir";
}

TEST_F(KustomizeTest, ARenderErrorNamesTheDirectoryAndKustomizesMessage) {
  h_.repo().WriteFile("apps/broken/kustomization.yaml", "resources:\n  - missing.yaml\n");
  h_.repo().Commit("broken");
  RunResult r = h_.WithRepo("apply");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("kustomize directory apps/broken: kustomize failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing.yaml"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("checkout-"), std::string::npos) << "paths are the repository's: " << r.err;
  json list = h_.Json(h_.Converge("sim list -o json"));
  EXPECT_TRUE(list["objects"].empty()) << "nothing applied";
}

}  // namespace
}  // namespace converge::testing
