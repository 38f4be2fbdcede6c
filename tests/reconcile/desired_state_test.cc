// ReadDesiredFromGit with the store's caches: files seen before come from their summaries (no
// read, no parse, no body decoded until asked), changed files are read in full, and identities
// defined twice are still found across the two.
#include "engine/reconcile/desired_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "engine/base/secret_key.h"
#include "engine/observe/observe.h"
#include "engine/source/source.h"
#include "engine/store/store.h"
#include "providers/provider.h"
#include "tests/testing/fake_provider.h"
#include "tests/testing/git_fixture.h"
#include "tests/testing/simulated_env.h"

namespace converge {
namespace {

using ::testing::HasSubstr;

// A commit held in memory: files by path, blob id = a hash of the content; counts reads.
class MemorySnapshot : public Snapshot {
 public:
  void Set(const std::string& path, const std::string& text) { contents_[path] = text; Rebuild(); }
  void Remove(const std::string& path) { contents_.erase(path); Rebuild(); }
  const std::string& commit() const override { return commit_; }
  const std::vector<SourceFile>& files() const override { return files_; }
  Result<std::string> Read(const SourceFile& f) const override {
    reads_[f.path]++;
    return contents_.at(f.path);
  }
  int reads(const std::string& path) const { return reads_.count(path) ? reads_.at(path) : 0; }
  void ClearReads() { reads_.clear(); }

 private:
  void Rebuild() {
    files_.clear();
    for (const auto& [path, text] : contents_) files_.push_back(SourceFile{path, std::to_string(std::hash<std::string>{}(text)), ""});
  }
  std::string commit_ = std::string(40, 'a');
  std::map<std::string, std::string> contents_;
  std::vector<SourceFile> files_;
  mutable std::map<std::string, int> reads_;
};

std::string Cm(const std::string& name) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name +
         "\n  namespace: default\n  annotations:\n    converge.dev/clusters: a\n    keep: me\ndata:\n  k: v\n";
}

class DesiredStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    guard_ = std::make_unique<testing::ScopedRegistration>(fake_.Install(registry_));
    auto store = Store::Open(tmp_.Join("converge.db"), &env_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    snap_.Set("fleet.yaml", "apiVersion: converge.dev/v1alpha1\nkind: Cloud\nmetadata:\n  name: c\nspec:\n  provider: fake\n"
                            "  region: r\n---\napiVersion: converge.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: a\n"
                            "spec:\n  cloud: c\n  version: \"1.29\"\n  nodePools:\n    - {name: p, flavor: c7.large.2}\n");
    snap_.Set("apps/one.yaml", Cm("one") + "---\n" + Cm("two"));
    snap_.Set("apps/three.yaml", Cm("three"));
  }

  Result<DesiredState> Read() {
    Result<DesiredState> d = ReadDesiredFromGit(snap_, store_->parse_cache(), store_->file_results(), registry_, key_);
    if (d.ok()) {
      Status placed = Place(&*d, {}, key_);
      if (!placed.ok()) return placed;
    }
    return d;
  }

  testing::TempDir tmp_;
  testing::SimulatedEnv env_;
  SecretKey key_ = SecretKey::Ephemeral(&env_);
  ProviderRegistry registry_;
  testing::FakeProvider fake_{"fake"};
  std::unique_ptr<testing::ScopedRegistration> guard_;
  std::unique_ptr<Store> store_;
  MemorySnapshot snap_;
};

TEST_F(DesiredStateTest, UnchangedFilesAreNeitherReadNorDecoded) {
  Result<DesiredState> first = Read();
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->objects.size(), 4u);  // the Cluster and three ConfigMaps
  EXPECT_EQ(snap_.reads("apps/one.yaml"), 1);
  snap_.ClearReads();

  Result<DesiredState> second = Read();
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(snap_.reads("apps/one.yaml"), 0);
  EXPECT_EQ(snap_.reads("apps/three.yaml"), 0);
  EXPECT_EQ(second->summarized.size(), 2u);
  const DesiredObject& two = second->objects.at(ObjectRef{"a", ObjectKey{"", "ConfigMap", "default", "two"}});
  EXPECT_EQ(two.body, nullptr);  // not decoded
  EXPECT_EQ(two.hash, first->objects.at(two.ref).hash);
  EXPECT_EQ(two.Where(), first->objects.at(two.ref).Where());  // the same line as when parsed
  // Asked for, the body is the delivered object, from the parse cache (still no read).
  Result<JsonPtr> body = second->Body(two);
  ASSERT_TRUE(body.ok()) << body.status().message();
  EXPECT_EQ((**body)["metadata"]["name"], "two");
  EXPECT_FALSE((**body)["metadata"]["annotations"].contains("converge.dev/clusters"));
  EXPECT_EQ((**body)["metadata"]["annotations"]["keep"], "me");
  EXPECT_EQ(*first->objects.at(two.ref).body, **body);
  EXPECT_EQ(snap_.reads("apps/one.yaml"), 0);
}

TEST_F(DesiredStateTest, AChangedFileIsReadInFull) {
  ASSERT_TRUE(Read().ok());
  snap_.Set("apps/three.yaml", Cm("three") + "---\n" + Cm("four"));
  snap_.ClearReads();
  Result<DesiredState> d = Read();
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(snap_.reads("apps/three.yaml"), 1);
  EXPECT_EQ(snap_.reads("apps/one.yaml"), 0);
  EXPECT_EQ(d->objects.size(), 5u);
  EXPECT_NE(d->objects.at(ObjectRef{"a", ObjectKey{"", "ConfigMap", "default", "four"}}).body, nullptr);
}

TEST_F(DesiredStateTest, AnIdentityDefinedTwiceAcrossSummaryAndFullFileIsAnError) {
  ASSERT_TRUE(Read().ok());
  snap_.Set("apps/copy.yaml", Cm("two"));
  Result<DesiredState> d = Read();
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("ConfigMap/default/two is defined twice: apps/copy.yaml:1 and apps/one.yaml:12"));
}

TEST_F(DesiredStateTest, PlacementErrorsInSummarizedFilesStillNameTheirFile) {
  snap_.Set("apps/bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: default\n"
                             "  annotations:\n    converge.dev/clusters: nowhere\n");
  Result<DesiredState> first = Read();
  ASSERT_FALSE(first.ok());
  Result<DesiredState> again = Read();  // its summary was cached: the per-file checks passed
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(first.status().message(), again.status().message());
  EXPECT_THAT(again.status().message(), HasSubstr("apps/bad.yaml:1: ConfigMap/default/x: annotation converge.dev/clusters"));
}

TEST(SummaryCodecTest, RoundTripsAwkwardValues) {
  DocSummary d;
  d.key = ObjectKey{"apps", "Deployment", "ns", "name"};
  d.api_version = "apps/v1";
  d.line = 42;
  d.placement.has_selector = true;
  d.placement.selector = "tier in (a,\tb)\\n\n";
  d.placement.has_clusters = true;
  d.placement.clusters_is_string = false;
  d.hash = "abc";
  std::optional<std::vector<DocSummary>> back = DecodeSummary(EncodeSummary({d, d}));
  ASSERT_TRUE(back.has_value());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].placement.selector, d.placement.selector);
  EXPECT_FALSE((*back)[1].placement.clusters_is_string);
  EXPECT_EQ((*back)[1].line, 42);
  EXPECT_EQ((*back)[1].key, d.key);
  EXPECT_FALSE(DecodeSummary("something else\n").has_value());
  EXPECT_FALSE(DecodeSummary("converge-summary 1\ntruncated").has_value());
}

}  // namespace
}  // namespace converge
