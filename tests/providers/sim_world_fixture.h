// A simulated world for the provider tests: a temp state dir, a fake clock with a fixed sim seed,
// the "sim" cloud provider from the global registry and helpers to reach clusters through it.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "providers/connect.h"
#include "providers/provider.h"
#include "tests/testing/simulated_env.h"

namespace converge::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "provider_test_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A fake clock whose CONVERGE_SIM_SEED is fixed.
class SeededEnv : public SimulatedEnv {
 public:
  std::string GetVar(const std::string& name) override {
    if (name == "CONVERGE_SIM_SEED") return "42";
    return SimulatedEnv::GetVar(name);
  }
};

// Cloud "simcloud": clusters take 10 s to create, pods 2 s to start.
inline CloudSpec SimCloud() {
  CloudSpec c;
  c.name = "simcloud";
  c.provider = "sim";
  c.region = "r1";
  c.regions = {"r1"};
  c.config = std::make_shared<const Json>(
      Json{{"provider", "sim"}, {"region", "r1"}, {"simulation", {{"clusterCreateSeconds", 10}, {"podStartSeconds", 2}}}});
  return c;
}

inline ClusterSpec SimCluster(const std::string& name, int nodes = 2, const std::string& version = "1.29") {
  ClusterSpec c;
  c.name = name;
  c.cloud = "simcloud";
  c.version = version;
  c.region = "r1";
  NodePoolSpec pool;
  pool.name = "p";
  pool.flavor = "c7.xlarge.2";
  pool.count = nodes;
  c.node_pools = {pool};
  return c;
}

inline Json NamespaceObject(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
}

inline Json ConfigMapObject(const std::string& ns, const std::string& name, const std::string& value = "1") {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"data", {{"v", value}}}};
}

class SimWorldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    provider_ = NewProvider();
    ASSERT_NE(provider_, nullptr);
    ASSERT_TRUE(provider_->EnsureCloud({}).ok());
  }

  ProviderContext Context() { return ProviderContext{&env_, dir_.path()}; }

  // A provider of its own on the same state dir: what a restarted converge would have.
  std::unique_ptr<CloudProvider> NewProvider() {
    auto p = ProviderRegistry::Global().CreateCloud(SimCloud(), Context());
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(p).value() : nullptr;
  }

  // Creates the cluster and lets simulated time pass until it is Running.
  void CreateRunning(const std::string& name) {
    ASSERT_TRUE(provider_->StartApplyCluster(SimCluster(name), {}).ok());
    env_.Advance(10'000);
  }

  std::unique_ptr<ClusterConnector> Connect(const std::string& cluster) {
    auto c = ConnectToCluster(*provider_, ProviderRegistry::Global(), Context(), cluster, {});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  Json MustApply(ClusterConnector& conn, const Json& obj) {
    auto r = conn.Apply(obj, {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Json();
  }

  std::string Marker(ClusterConnector& conn) {
    auto m = conn.ChangeMarker({});
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : "";
  }

  TempDir dir_;
  SeededEnv env_;
  std::unique_ptr<CloudProvider> provider_;
};

}  // namespace converge::testing
