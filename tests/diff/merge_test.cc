// ApplyMerge and Normalize: one line per case (live, desired, last-applied -> expected).
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/diff/diff.h"

namespace converge {
namespace {

struct MergeCase {
  const char* name;
  const char* live;  // "" = nullptr
  const char* desired;
  const char* last;  // "" = nullptr
  const char* want;
};

Json Parse(const char* text) { return Json::parse(text); }

class ApplyMergeTest : public ::testing::TestWithParam<MergeCase> {};

TEST_P(ApplyMergeTest, PredictsServerSideApply) {
  const MergeCase& c = GetParam();
  Json live = *c.live ? Parse(c.live) : Json();
  Json last = *c.last ? Parse(c.last) : Json();
  Json got = ApplyMerge(*c.live ? &live : nullptr, Parse(c.desired), *c.last ? &last : nullptr);
  EXPECT_EQ(got, Parse(c.want)) << c.name << "\n got: " << got.dump();
}

const MergeCase kMergeCases[] = {
    {"create", "", R"({"a":1,"b":{"c":2}})", "", R"({"a":1,"b":{"c":2}})"},
    {"create_drops_nulls", "", R"({"a":1,"b":null})", "", R"({"a":1})"},
    {"add_field", R"({"a":1})", R"({"a":1,"b":2})", R"({"a":1})", R"({"a":1,"b":2})"},
    {"change_field", R"({"a":1})", R"({"a":5})", R"({"a":1})", R"({"a":5})"},
    {"remove_owned_field", R"({"a":1,"b":2})", R"({"a":1})", R"({"a":1,"b":2})", R"({"a":1})"},
    {"keep_field_of_others", R"({"a":1,"b":2})", R"({"a":1})", R"({"a":1})", R"({"a":1,"b":2})"},
    {"keep_field_no_last_applied", R"({"a":1,"b":2})", R"({"a":3})", "", R"({"a":3,"b":2})"},
    {"nested_remove_owned", R"({"s":{"x":1,"y":2,"z":3}})", R"({"s":{"x":1}})",
     R"({"s":{"x":1,"y":2}})", R"({"s":{"x":1,"z":3}})"},
    {"remove_owned_subtree", R"({"s":{"x":1},"t":{"u":1}})", R"({"s":{"x":1}})",
     R"({"s":{"x":1},"t":{"u":1}})", R"({"s":{"x":1}})"},
    {"null_removes", R"({"a":1,"b":2})", R"({"a":1,"b":null})", "", R"({"a":1})"},
    {"labels_merge", R"({"metadata":{"labels":{"a":"1","team":"x"}}})",
     R"({"metadata":{"labels":{"a":"2"}}})", R"({"metadata":{"labels":{"a":"1"}}})",
     R"({"metadata":{"labels":{"a":"2","team":"x"}}})"},
    {"scalar_to_map", R"({"a":1})", R"({"a":{"b":1}})", R"({"a":1})", R"({"a":{"b":1}})"},
    {"map_to_scalar", R"({"a":{"b":1}})", R"({"a":"x"})", "", R"({"a":"x"})"},
    {"named_list_keeps_server_defaults",
     R"({"c":[{"name":"app","image":"v1","imagePullPolicy":"IfNotPresent"}]})",
     R"({"c":[{"name":"app","image":"v2"}]})", R"({"c":[{"name":"app","image":"v1"}]})",
     R"({"c":[{"name":"app","image":"v2","imagePullPolicy":"IfNotPresent"}]})"},
    {"named_list_desired_order_then_live_only",
     R"({"c":[{"name":"sidecar","i":"s"},{"name":"b","i":"1"},{"name":"a","i":"1"}]})",
     R"({"c":[{"name":"a","i":"2"},{"name":"b","i":"2"}]})", R"({"c":[{"name":"a"},{"name":"b"}]})",
     R"({"c":[{"name":"a","i":"2"},{"name":"b","i":"2"},{"name":"sidecar","i":"s"}]})"},
    {"named_list_remove_applied_item", R"({"c":[{"name":"a"},{"name":"b"},{"name":"x"}]})",
     R"({"c":[{"name":"a"}]})", R"({"c":[{"name":"a"},{"name":"b"}]})",
     R"({"c":[{"name":"a"},{"name":"x"}]})"},
    {"named_list_item_removes_owned_field", R"({"c":[{"name":"a","p":1,"q":2,"d":3}]})",
     R"({"c":[{"name":"a","p":1}]})", R"({"c":[{"name":"a","p":1,"q":2}]})",
     R"({"c":[{"name":"a","p":1,"d":3}]})"},
    {"named_list_add_item", R"({"c":[{"name":"a"}]})", R"({"c":[{"name":"a"},{"name":"b"}]})",
     R"({"c":[{"name":"a"}]})", R"({"c":[{"name":"a"},{"name":"b"}]})"},
    {"named_list_empty_desired_removes_owned", R"({"c":[{"name":"a"},{"name":"x"}]})",
     R"({"c":[]})", R"({"c":[{"name":"a"}]})", R"({"c":[{"name":"x"}]})"},
    {"atomic_list_replaced", R"({"args":["a","b","c"]})", R"({"args":["x"]})", "",
     R"({"args":["x"]})"},
    {"list_without_names_replaced", R"({"p":[{"port":80,"protocol":"TCP"}]})",
     R"({"p":[{"port":81}]})", R"({"p":[{"port":80}]})", R"({"p":[{"port":81}]})"},
    {"mixed_list_replaced", R"({"c":[{"name":"a","x":1},{"y":2}]})", R"({"c":[{"name":"a"}]})", "",
     R"({"c":[{"name":"a"}]})"},
    {"list_to_empty_live", R"({"c":[]})", R"({"c":[{"name":"a"}]})", "",
     R"({"c":[{"name":"a"}]})"},
    {"deep_named_list_in_deployment",
     R"({"spec":{"replicas":2,"progressDeadlineSeconds":600,"template":{"spec":{"containers":[{"name":"web","image":"nginx:1","terminationMessagePath":"/dev/termination-log","ports":[{"containerPort":80,"protocol":"TCP"}]}]}}}})",
     R"({"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"web","image":"nginx:1","ports":[{"containerPort":80}]}]}}}})",
     R"({"spec":{"replicas":2,"template":{"spec":{"containers":[{"name":"web","image":"nginx:1","ports":[{"containerPort":80}]}]}}}})",
     // ports merge by containerPort, so the server's protocol default stays
     R"({"spec":{"replicas":3,"progressDeadlineSeconds":600,"template":{"spec":{"containers":[{"name":"web","image":"nginx:1","terminationMessagePath":"/dev/termination-log","ports":[{"containerPort":80,"protocol":"TCP"}]}]}}}})"},
};

INSTANTIATE_TEST_SUITE_P(Cases, ApplyMergeTest, ::testing::ValuesIn(kMergeCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(NormalizeTest, RemovesServerFields) {
  Json in = Parse(R"({"apiVersion":"v1","kind":"ConfigMap","status":{"x":1},
    "metadata":{"name":"a","namespace":"n","resourceVersion":"7","uid":"u","generation":3,
      "creationTimestamp":"t","managedFields":[],"selfLink":"/x","deletionTimestamp":"t",
      "labels":{"k":"v"},
      "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}","keep":"me"}},
    "data":{"k":"v"}})");
  Json want = Parse(R"({"apiVersion":"v1","kind":"ConfigMap",
    "metadata":{"name":"a","namespace":"n","labels":{"k":"v"},"annotations":{"keep":"me"}},
    "data":{"k":"v"}})");
  EXPECT_EQ(Normalize(in), want);
}

TEST(NormalizeTest, DropsEmptyLabelsAndAnnotations) {
  Json in = Parse(R"({"metadata":{"name":"a","labels":{},
    "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"}}})");
  EXPECT_EQ(Normalize(in), Parse(R"({"metadata":{"name":"a"}})"));
}

TEST(NormalizeTest, LeavesNonObjectsAlone) {
  EXPECT_EQ(Normalize(Json()), Json());
  EXPECT_EQ(Normalize(Parse(R"({"metadata":"odd"})")), Parse(R"({"metadata":"odd"})"));
}

}  // namespace
}  // namespace converge

namespace converge {
namespace {

// Service and container ports have no name: they merge by port / containerPort, so a server
// default inside them (protocol) is not a difference.
TEST(ApplyMergeKeyedLists, PortsMergeByPortKeepingServerDefaults) {
  Json live = Json::parse(R"({"spec":{"ports":[{"port":80,"protocol":"TCP","targetPort":80}]}})");
  Json desired = Json::parse(R"({"spec":{"ports":[{"port":80,"targetPort":80}]}})");
  EXPECT_EQ(ApplyMerge(&live, desired, &desired), live);
  Json c_live = Json::parse(R"({"ports":[{"containerPort":6379,"protocol":"TCP"}]})");
  Json c_desired = Json::parse(R"({"ports":[{"containerPort":6379}]})");
  EXPECT_EQ(ApplyMerge(&c_live, c_desired, nullptr), c_live);
}

TEST(ApplyMergeKeyedLists, PortRemovedFromGitIsRemoved) {
  Json last = Json::parse(R"({"ports":[{"port":80},{"port":443}]})");
  Json live = Json::parse(R"({"ports":[{"port":80,"protocol":"TCP"},{"port":443,"protocol":"TCP"}]})");
  Json desired = Json::parse(R"({"ports":[{"port":80}]})");
  EXPECT_EQ(ApplyMerge(&live, desired, &last), Json::parse(R"({"ports":[{"port":80,"protocol":"TCP"}]})"));
}

}  // namespace
}  // namespace converge
