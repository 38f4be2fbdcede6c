// YAML as Kubernetes reads it: merge keys, tabs, nesting depth.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/spec/yaml_json.h"

namespace converge::spec_internal {
namespace {

Json One(const std::string& text) {
  std::vector<Diagnostic> errors;
  std::vector<YamlDocument> docs = ParseYamlDocuments("f.yaml", text, &errors);
  EXPECT_TRUE(errors.empty()) << errors[0].message;
  EXPECT_EQ(docs.size(), 1u);
  return docs.empty() ? Json() : *docs[0].doc;
}

std::string ErrorOf(const std::string& text) {
  std::vector<Diagnostic> errors;
  ParseYamlDocuments("f.yaml", text, &errors);
  if (errors.empty()) return "no error";
  const Diagnostic& d = errors[0];
  return std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message;
}

TEST(YamlMergeKeyTest, MergesKeysTheMapDoesNotHave) {
  Json doc = One(R"(defaults: &d {cpu: 100m, memory: 64Mi}
a:
  <<: *d
  memory: 128Mi
b:
  memory: 1Gi
  <<: *d
)");
  EXPECT_EQ(doc["a"], Json::parse(R"({"cpu":"100m","memory":"128Mi"})")) << doc.dump();
  EXPECT_EQ(doc["b"], Json::parse(R"({"cpu":"100m","memory":"1Gi"})")) << "explicit keys win wherever they are";
  EXPECT_FALSE(doc["a"].contains("<<")) << "not delivered as a literal key";
}

TEST(YamlMergeKeyTest, AListOfMapsMergesInOrder) {
  Json doc = One("x: &x {k: x, only_x: 1}\ny: &y {k: y, only_y: 2}\nz:\n  <<: [*x, *y]\n");
  EXPECT_EQ(doc["z"], Json::parse(R"({"k":"x","only_x":1,"only_y":2})")) << doc.dump();
}

TEST(YamlMergeKeyTest, AQuotedKeyIsJustAKey) {
  Json doc = One("m:\n  \"<<\": literal\n");
  EXPECT_EQ(doc["m"]["<<"], "literal");
}

TEST(YamlMergeKeyTest, MergingAScalarIsAnError) {
  EXPECT_EQ(ErrorOf("m:\n  <<: 3\n"), "2:7: the merge key << takes a map or a list of maps (e.g. <<: *defaults), not a scalar");
}

TEST(YamlTest, ATabInIndentationSaysSo) {
  EXPECT_EQ(ErrorOf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n"),
            "4:1: a tab is used for indentation; YAML indents with spaces only: replace the tab with spaces");
}

TEST(YamlTest, DeepNestingIsRefusedNamingTheLimit) {
  std::string deep = "x: " + std::string(3000, '[') + std::string(3000, ']') + "\n";
  std::string msg = ErrorOf(deep);
  EXPECT_NE(msg.find("nested deeper than 256 levels"), std::string::npos) << msg;
  std::string fine = "x: " + std::string(200, '[') + std::string(200, ']') + "\n";
  EXPECT_EQ(ErrorOf(fine), "no error");
}

}  // namespace
}  // namespace converge::spec_internal
