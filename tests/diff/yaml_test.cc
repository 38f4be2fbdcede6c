// ToYaml: deterministic block YAML, quoting, Kubernetes-style lists, literal blocks.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/diff/diff.h"

namespace converge {
namespace {

struct ScalarCase {
  const char* json;  // a JSON string or value
  const char* yaml;  // how it appears after "k: "
};

class ToYamlScalarTest : public ::testing::TestWithParam<ScalarCase> {};

TEST_P(ToYamlScalarTest, QuotesOnlyWhenNeeded) {
  const ScalarCase& c = GetParam();
  Json obj = {{"k", Json::parse(c.json)}};
  EXPECT_EQ(ToYaml(obj), std::string("k: ") + c.yaml + "\n") << c.json;
}

const ScalarCase kScalarCases[] = {
    {R"("nginx")", "nginx"},
    {R"("nginx:1.25")", "nginx:1.25"},
    {R"("--port=80")", "--port=80"},
    {R"("a b")", "a b"},
    {R"("")", R"("")"},
    {R"("true")", R"("true")"},
    {R"("False")", R"("False")"},
    {R"("yes")", R"("yes")"},
    {R"("off")", R"("off")"},
    {R"("null")", R"("null")"},
    {R"("~")", R"("~")"},
    {R"("80")", R"("80")"},
    {R"("1.28")", R"("1.28")"},
    {R"("-1")", R"("-1")"},
    {R"("-f")", "-f"},
    {R"("-")", R"("-")"},
    {R"("1:30")", R"("1:30")"},
    {R"("deadbeef")", "deadbeef"},
    {R"("0x1F")", R"("0x1F")"},
    {R"("1e3")", R"("1e3")"},
    {R"(".inf")", R"(".inf")"},
    {R"("2024-01-02")", R"("2024-01-02")"},
    {R"(" lead")", R"(" lead")"},
    {R"("trail ")", R"("trail ")"},
    {R"("a: b")", R"("a: b")"},
    {R"("a #b")", R"("a #b")"},
    {R"("end:")", R"("end:")"},
    {R"("- x")", R"("- x")"},
    {R"("*star")", R"("*star")"},
    {R"("{x}")", R"("{x}")"},
    {R"("say \"hi\"")", R"(say "hi")"},
    {R"("'q'")", R"("'q'")"},
    {R"("tab\there")", R"("tab\there")"},
    {R"("\nlead")", R"("\nlead")"},
    {"3", "3"},
    {"-2", "-2"},
    {"1.5", "1.5"},
    {"true", "true"},
    {"null", "null"},
    {"{}", "{}"},
    {"[]", "[]"},
};

INSTANTIATE_TEST_SUITE_P(Cases, ToYamlScalarTest, ::testing::ValuesIn(kScalarCases));

TEST(ToYamlTest, SortedKeysNestedMapsAndKubernetesStyleLists) {
  Json obj = Json::parse(R"({
    "spec": {"replicas": 3, "template": {"spec": {"containers": [
      {"name": "web", "image": "nginx:1", "args": ["-v", "x"], "ports": [{"containerPort": 80}]}]}}},
    "kind": "Deployment", "apiVersion": "apps/v1",
    "metadata": {"name": "web", "labels": {"app": "web"}}})");
  EXPECT_EQ(ToYaml(obj),
            "apiVersion: apps/v1\n"
            "kind: Deployment\n"
            "metadata:\n"
            "  labels:\n"
            "    app: web\n"
            "  name: web\n"
            "spec:\n"
            "  replicas: 3\n"
            "  template:\n"
            "    spec:\n"
            "      containers:\n"
            "      - args:\n"
            "        - -v\n"
            "        - x\n"
            "        image: nginx:1\n"
            "        name: web\n"
            "        ports:\n"
            "        - containerPort: 80\n");
}

TEST(ToYamlTest, NestedListsAndEmptyItems) {
  Json obj = Json::parse(R"({"m": [[1, 2], [], {}, "s"]})");
  EXPECT_EQ(ToYaml(obj), "m:\n- - 1\n  - 2\n- []\n- {}\n- s\n");
}

TEST(ToYamlTest, MultiLineStringsUseLiteralBlocks) {
  Json obj = {{"data", {{"clip", "a\nb\n"}, {"strip", "a\n\nb"}, {"keep", "a\n\n\n"}}},
              {"list", {"x\ny\n"}}};
  EXPECT_EQ(ToYaml(obj),
            "data:\n"
            "  clip: |\n    a\n    b\n"
            "  keep: |+\n    a\n\n\n"
            "  strip: |-\n    a\n\n    b\n"
            "list:\n"
            "- |\n  x\n  y\n");
}

TEST(ToYamlTest, MultiLineStringStartingWithSpaceIsQuoted) {
  EXPECT_EQ(ToYaml(Json{{"k", " a\nb"}}), "k: \" a\\nb\"\n");
}

TEST(ToYamlTest, KeysAreQuotedWhenNeeded) {
  EXPECT_EQ(ToYaml(Json{{"80", 1}, {"app.kubernetes.io/name", "x"}, {"", 2}}),
            "\"\": 2\n\"80\": 1\napp.kubernetes.io/name: x\n");
}

TEST(ToYamlTest, TopLevelScalarsAndEmpties) {
  EXPECT_EQ(ToYaml(Json::object()), "{}\n");
  EXPECT_EQ(ToYaml(Json::array()), "[]\n");
  EXPECT_EQ(ToYaml(Json("x")), "x\n");
  EXPECT_EQ(ToYaml(Json(7)), "7\n");
}

TEST(ToYamlTest, IsDeterministicRegardlessOfInsertionOrder) {
  Json a, b;
  a["z"] = 1;
  a["a"] = 2;
  b["a"] = 2;
  b["z"] = 1;
  EXPECT_EQ(ToYaml(a), ToYaml(b));
}

}  // namespace
}  // namespace converge
