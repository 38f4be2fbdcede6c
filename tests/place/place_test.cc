#include "engine/place/place.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace converge {
namespace {

ClusterSpec MakeCluster(const std::string& name, std::map<std::string, std::string> labels) {
  ClusterSpec c;
  c.name = name;
  c.labels = std::move(labels);
  return c;
}

Manifest MakeManifest(const std::string& name, Json annotations) {
  Json body = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"namespace", "app"}}}};
  if (!annotations.is_null()) body["metadata"]["annotations"] = annotations;
  Manifest m;
  m.key = KeyOf(body);
  m.api_version = "v1";
  m.body = std::make_shared<Json>(body);
  m.file = "apps/" + name + ".yaml";
  m.line = 1;
  return m;
}

SpecSet Fleet() {
  SpecSet s;
  s.clusters = {MakeCluster("prod-a", {{"tier", "prod"}, {"cloud", "huawei"}}),
                MakeCluster("prod-b", {{"tier", "prod"}, {"cloud", "public"}}),
                MakeCluster("dev", {{"tier", "dev"}, {"cloud", "huawei"}})};
  return s;
}

std::vector<std::string> ClustersOf(const std::vector<PlacedObject>& placed, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& p : placed)
    if (p.manifest.key.name == name) out.push_back(p.cluster);
  return out;
}

struct SelectorCase {
  std::string selector;
  std::vector<std::string> clusters;
};

class SelectorTest : public ::testing::TestWithParam<SelectorCase> {};

TEST_P(SelectorTest, PlacesOnMatchingClusters) {
  SpecSet s = Fleet();
  s.manifests = {MakeManifest("cm", {{kClusterSelectorAnnotation, GetParam().selector}})};
  auto placed = PlaceManifests(s, nullptr);
  ASSERT_TRUE(placed.ok()) << placed.status().message();
  EXPECT_EQ(ClustersOf(*placed, "cm"), GetParam().clusters) << GetParam().selector;
}

INSTANTIATE_TEST_SUITE_P(
    Selectors, SelectorTest,
    ::testing::Values(SelectorCase{"tier=prod", {"prod-a", "prod-b"}}, SelectorCase{"tier==dev", {"dev"}},
                      SelectorCase{"tier!=prod", {"dev"}}, SelectorCase{"tier", {"dev", "prod-a", "prod-b"}},
                      SelectorCase{"!tier", {}}, SelectorCase{"cloud in (huawei, public),tier=prod", {"prod-a", "prod-b"}},
                      SelectorCase{"cloud notin (public)", {"dev", "prod-a"}},
                      SelectorCase{"tier=prod, cloud=huawei", {"prod-a"}}));

TEST(PlaceTest, ClusterNamesAnnotation) {
  SpecSet s = Fleet();
  s.manifests = {MakeManifest("cm", {{kClustersAnnotation, "dev, prod-b"}})};
  auto placed = PlaceManifests(s, nullptr);
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(ClustersOf(*placed, "cm"), (std::vector<std::string>{"dev", "prod-b"}));
}

TEST(PlaceTest, PlacementAnnotationsAreNotDelivered) {
  SpecSet s = Fleet();
  s.manifests = {MakeManifest("cm", {{kClustersAnnotation, "dev"}, {"keep", "me"}}),
                 MakeManifest("other", {{kClusterSelectorAnnotation, "tier=dev"}})};
  auto placed = PlaceManifests(s, nullptr);
  ASSERT_TRUE(placed.ok());
  ASSERT_EQ(placed->size(), 2u);
  EXPECT_EQ((*placed)[0].manifest.body->at("metadata").at("annotations"), (Json{{"keep", "me"}}));
  EXPECT_FALSE((*placed)[1].manifest.body->at("metadata").contains("annotations"));
}

TEST(PlaceTest, UnknownClusterIsAnErrorNamingFileAndKnownClusters) {
  SpecSet s = Fleet();
  s.manifests = {MakeManifest("cm", {{kClustersAnnotation, "prod-a,nope"}})};
  auto placed = PlaceManifests(s, nullptr);
  ASSERT_FALSE(placed.ok());
  EXPECT_EQ(placed.status().code(), Code::kInvalid);
  EXPECT_NE(placed.status().message().find("apps/cm.yaml:1"), std::string::npos) << placed.status().message();
  EXPECT_NE(placed.status().message().find("\"nope\""), std::string::npos);
  EXPECT_NE(placed.status().message().find("dev, prod-a, prod-b"), std::string::npos);
}

TEST(PlaceTest, MalformedSelectorIsAnError) {
  SpecSet s = Fleet();
  s.manifests = {MakeManifest("cm", {{kClusterSelectorAnnotation, "tier in prod"}})};
  auto placed = PlaceManifests(s, nullptr);
  ASSERT_FALSE(placed.ok());
  EXPECT_NE(placed.status().message().find("cluster-selector"), std::string::npos) << placed.status().message();
}

TEST(PlaceTest, UnplacedManifestWarns) {
  SpecSet s = Fleet();
  s.manifests = {MakeManifest("cm", nullptr)};
  std::vector<Diagnostic> warnings;
  auto placed = PlaceManifests(s, &warnings);
  ASSERT_TRUE(placed.ok());
  EXPECT_TRUE(placed->empty());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].ToString().find("apps/cm.yaml:1"), std::string::npos);
  EXPECT_NE(warnings[0].message.find("placed on no cluster"), std::string::npos);
}

TEST(PlaceTest, NamesAndSelectorUnion) {
  SpecSet s = Fleet();
  s.manifests = {MakeManifest("cm", {{kClustersAnnotation, "dev"}, {kClusterSelectorAnnotation, "cloud=public"}})};
  auto placed = PlaceManifests(s, nullptr);
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(ClustersOf(*placed, "cm"), (std::vector<std::string>{"dev", "prod-b"}));
}

}  // namespace
}  // namespace converge
