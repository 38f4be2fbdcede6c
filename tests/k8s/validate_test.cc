// Tests of engine/k8s: Kubernetes' own validation of one object (schema from the vendored OpenAPI
// document plus the API server's rules), one line per case, and the scope of built-in kinds.
#include "engine/k8s/validate.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/k8s/names.h"
#include "engine/k8s/openapi.h"
#include "engine/model/kinds.h"

namespace converge::k8s {
namespace {

Json Deployment() {
  return Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},
    "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
      "template":{"metadata":{"labels":{"app":"web"}},
        "spec":{"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":80}],
          "resources":{"requests":{"cpu":"250m","memory":"128Mi"}}}]}}}})");
}

Json ConfigMap() {
  return Json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"default"},
    "data":{"a":"1"}})");
}

// All messages of ValidateObject joined by newlines ("" when valid).
std::string Errors(const Json& obj) {
  std::string out;
  for (const FieldError& e : ValidateObject(obj)) out += (out.empty() ? "" : "\n") + e.message;
  return out;
}

// `obj` with the JSON pointer `at` set to `value`.
Json With(Json obj, const std::string& at, const Json& value) {
  obj[Json::json_pointer(at)] = value;
  return obj;
}

TEST(ValidateObjectTest, ValidObjectsPass) {
  EXPECT_EQ(Errors(Deployment()), "");
  EXPECT_EQ(Errors(ConfigMap()), "");
  EXPECT_EQ(Errors(With(Deployment(), "/spec/replicas", 2'000'000'000)), "");  // a valid int32
  EXPECT_EQ(Errors(With(Deployment(), "/spec/replicas", nullptr)), "");       // null reads as unset
  EXPECT_EQ(Errors(Json::parse(R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole",
    "metadata":{"name":"system:aggregate-to-view"},"rules":[]})")),
            "");
  EXPECT_EQ(Errors(Json::parse(R"({"apiVersion":"flowcontrol.apiserver.k8s.io/v1beta3","kind":"FlowSchema",
    "metadata":{"name":"fs"},"spec":{"priorityLevelConfiguration":{"name":"global-default"}}})")),
            "");
  EXPECT_EQ(Errors(Json::parse(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},
    "data":{"k":"aGVsbG8=\n"},"stringData":{"t":"x"}})")),
            "");
  EXPECT_EQ(Errors(Json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},
    "spec":{"anything":[1,2]}})")),
            "");
  EXPECT_EQ(Errors(Json::parse(R"({"apiVersion":"converge.dev/v1alpha1","kind":"Cluster","metadata":{"name":"X_Y"}})")),
            "");
}

struct Case {
  const char* name;
  Json object;
  const char* expected;  // a substring of the errors
};

class ValidateCaseTest : public ::testing::TestWithParam<Case> {};

TEST_P(ValidateCaseTest, IsRefusedNamingTheField) {
  const Case& c = GetParam();
  std::string errors = Errors(c.object);
  EXPECT_NE(errors.find(c.expected), std::string::npos) << c.name << ": got\n" << errors;
}

std::string Long(size_t n) { return std::string(n, 'a'); }

INSTANTIATE_TEST_SUITE_P(
    BadInput, ValidateCaseTest,
    ::testing::Values(
        Case{"NegativeReplicas", With(Deployment(), "/spec/replicas", -3), "spec.replicas must be 0 or more, got -3"},
        Case{"QuotedReplicas", With(Deployment(), "/spec/replicas", "3"),
             "spec.replicas must be an integer (int32), got string \"3\" (remove the quotes: 3)"},
        Case{"HugeFloatReplicas", With(Deployment(), "/spec/replicas", 1e20),
             "spec.replicas must be an integer (int32), got number 1e+20"},
        Case{"FractionalReplicas", With(Deployment(), "/spec/replicas", 2.5),
             "spec.replicas must be an integer (int32), got number 2.5"},
        Case{"Int32Overflow", With(Deployment(), "/spec/replicas", 3'000'000'000LL),
             "spec.replicas is out of range for an int32 (3000000000)"},
        Case{"UnknownField", With(Deployment(), "/spec/replica", 3),
             "unknown field \"replica\" in spec (DeploymentSpec): did you mean \"replicas\"?"},
        Case{"MissingImage", With(Deployment(), "/spec/template/spec/containers/0/image", nullptr),
             "spec.template.spec.containers[0].image is required"},
        Case{"PortOutOfRange", With(Deployment(), "/spec/template/spec/containers/0/ports/0/containerPort", 70000),
             "containerPort must be a port number from 1 to 65535, got 70000"},
        Case{"BadQuantity", With(Deployment(), "/spec/template/spec/containers/0/resources/requests/cpu", "lots"),
             "requests.cpu \"lots\" is not a quantity"},
        Case{"SelectorMismatch", With(Deployment(), "/spec/template/metadata/labels/app", "other"),
             "spec.template.metadata.labels must match spec.selector"},
        Case{"NameWithUpperCaseAndUnderscore", With(Deployment(), "/metadata/name", "Café_Upper"),
             "is not a valid Deployment name: it must be a lowercase RFC 1123 subdomain"},
        Case{"NameTooLong", With(Deployment(), "/metadata/name", Long(300)),
             "must be no more than 253 characters (it has 300)"},
        Case{"NamespaceNameWithDot",
             Json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a.b"}})"),
             "\"a.b\" is not a valid Namespace name: it must be a lowercase RFC 1123 label"},
        Case{"ServiceNameStartingWithDigit",
             Json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"1web"},"spec":{}})"),
             "must be an RFC 1035 label"},
        Case{"CronJobNameOver52",
             Json::parse(R"({"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":")" + Long(53) +
                         R"("},"spec":{"schedule":"* * * * *","jobTemplate":{"spec":{"template":{"spec":{
                         "containers":[{"name":"c","image":"busybox"}],"restartPolicy":"Never"}}}}}})"),
             "must be no more than 52 characters"},
        Case{"LabelValueWithSpaces", With(Deployment(), "/metadata/labels", {{"tier", "front end"}}),
             "metadata.labels.tier has an invalid label value \"front end\""},
        Case{"LabelKeyBad", With(Deployment(), "/metadata/labels", {{"-bad", "x"}}),
             "metadata.labels.-bad is not a valid label key"},
        Case{"LabelValueTooLong", With(Deployment(), "/spec/template/metadata/labels/v", Long(64)),
             "must be no more than 63 characters"},
        Case{"AnnotationsTooLarge", With(ConfigMap(), "/metadata/annotations", {{"big", Long(300 * 1024)}}),
             "metadata.annotations hold 307203 bytes; the API server allows at most 262144"},
        Case{"CoreVersionForAppsKind", With(Deployment(), "/apiVersion", "v1"),
             "apiVersion \"v1\" does not serve Deployment; Deployment is served as apiVersion: apps/v1"},
        Case{"RemovedVersion", With(Deployment(), "/apiVersion", "apps/v1beta1"),
             "apiVersion \"apps/v1beta1\" does not serve Deployment in Kubernetes 1.30; use apiVersion: apps/v1"},
        Case{"KindTypo", With(Deployment(), "/kind", "Deploymnet"),
             "kind \"Deploymnet\" is not a kind of group apps in Kubernetes 1.30: did you mean Deployment?"},
        Case{"AlphaApi",
             Json::parse(R"({"apiVersion":"storagemigration.k8s.io/v1alpha1","kind":"StorageVersionMigration",
               "metadata":{"name":"m"}})"),
             "is not a kind of group storagemigration.k8s.io"},
        Case{"NotStored",
             Json::parse(R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","metadata":{"name":"t"}})"),
             "kind names TokenReview, which the API server does not store"},
        Case{"ConfigMapDataNotString", With(ConfigMap(), "/data/port", 8080),
             "data.port must be a string, got integer 8080 (quote it: \"8080\")"},
        Case{"ConfigMapBadKey", With(ConfigMap(), "/data/a b", "x"), "is not a valid ConfigMap key"},
        Case{"ConfigMapTooLarge", With(ConfigMap(), "/data/big", Long(3 * 1024 * 1024)),
             "holds 3145729 bytes of data; a ConfigMap may hold at most 1048576"},
        Case{"ObjectTooLarge", With(ConfigMap(), "/data/big", Long(3 * 1024 * 1024)),
             "the object is 31458"},
        Case{"SecretNotBase64",
             Json::parse(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"k":"not base64!"}})"),
             "data.k is not valid base64"},
        Case{"BooleanAsString", With(Deployment(), "/spec/paused", "true"),
             "spec.paused must be true or false, got string \"true\" (remove the quotes: true)"},
        Case{"EnvValueNumber", With(Deployment(), "/spec/template/spec/containers/0/env", {{{"name", "N"}, {"value", 3}}}),
             "env[0].value must be a string, got integer 3"},
        Case{"NullListItem", With(Deployment(), "/spec/template/spec/containers/1", nullptr),
             "spec.template.spec.containers[1] must be a map (Container), got null"},
        Case{"TargetPortFloat",
             Json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},
               "spec":{"ports":[{"port":80,"targetPort":8.5}]}})"),
             "spec.ports[0].targetPort must be an integer or a string"},
        Case{"CustomResourceBadName",
             Json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"Bad_Name"}})"),
             "is not a valid Widget name"},
        Case{"CrdNameMustBePluralDotGroup",
             Json::parse(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
               "metadata":{"name":"widgets"},"spec":{"group":"example.com","scope":"Namespaced",
               "names":{"plural":"widgets","kind":"Widget"},"versions":[{"name":"v1","served":true,"storage":true}]}})"),
             "rename it \"widgets.example.com\""}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(ValidateObjectTest, ErrorsCarryTheFieldPath) {
  std::vector<FieldError> errors = ValidateObject(With(Deployment(), "/spec/replicas", -3));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(PathText(errors[0].path), "spec.replicas");
  errors = ValidateObject(With(Deployment(), "/metadata/labels", {{"a/b/c", "x"}}));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(PathText(errors[0].path), "metadata.labels[\"a/b/c\"]");
  EXPECT_TRUE(errors[0].at_key);
}

TEST(ValidateObjectTest, ErrorsAreBounded) {
  Json d = Deployment();
  for (int i = 0; i < 500; ++i) d["spec"]["unknown" + std::to_string(i)] = i;
  EXPECT_EQ(ValidateObject(d, 20).size(), 20u);
}

TEST(NamesTest, SuggestsADnsName) {
  EXPECT_EQ(SuggestDnsName("Café_Upper", 253), "caf-upper");
  EXPECT_EQ(SuggestDnsName("__", 253), "");
  EXPECT_EQ(CheckQuantity("1.5Gi"), "");
  EXPECT_EQ(CheckQuantity("1e3"), "");
  EXPECT_NE(CheckQuantity("1.5GB"), "");
  EXPECT_EQ(CheckQualifiedName("app.kubernetes.io/name"), "");
  EXPECT_NE(CheckQualifiedName("App.Kubernetes.io/name"), "");
}

// Scope comes from the OpenAPI document's paths, not a hand list.
TEST(BuiltinKindsTest, ScopeFollowsTheOpenApiPaths) {
  for (const char* kind : {"ReplicationController", "PodTemplate", "Endpoints"}) EXPECT_TRUE(IsKnownNamespaced("", kind)) << kind;
  EXPECT_TRUE(IsKnownNamespaced("discovery.k8s.io", "EndpointSlice"));
  EXPECT_TRUE(IsKnownNamespaced("coordination.k8s.io", "Lease"));
  EXPECT_TRUE(IsClusterScoped("certificates.k8s.io", "CertificateSigningRequest"));
  EXPECT_TRUE(IsClusterScoped("flowcontrol.apiserver.k8s.io", "FlowSchema"));
  EXPECT_TRUE(IsClusterScoped("", "Namespace"));
  EXPECT_TRUE(IsClusterScoped("", "PersistentVolume"));
  EXPECT_FALSE(IsClusterScoped("example.com", "Widget"));
  EXPECT_FALSE(IsKnownNamespaced("example.com", "Widget"));
  // Every built-in kind has exactly one scope, and every served kind of the document is listed.
  for (const BuiltinKind& k : BuiltinKinds()) {
    EXPECT_NE(IsClusterScoped(k.group, k.kind), IsKnownNamespaced(k.group, k.kind)) << k.group << "/" << k.kind;
    const SchemaKind* s = FindKind(k.group, k.version, k.kind);
    ASSERT_NE(s, nullptr) << k.kind;
    EXPECT_EQ(s->namespaced, k.namespaced) << k.kind;
  }
  EXPECT_EQ(ServedVersions("autoscaling", "HorizontalPodAutoscaler")[0]->version, std::string("v2"));
}

TEST(CustomKindTest, ReadsScopeAndServedVersions) {
  CustomKind ck;
  ASSERT_TRUE(CustomKindOf(Json::parse(R"({"spec":{"group":"example.com","scope":"Cluster",
    "names":{"plural":"widgets","kind":"Widget"},
    "versions":[{"name":"v1","served":true},{"name":"v0","served":false}]}})"),
                           &ck));
  EXPECT_EQ(ck.group, "example.com");
  EXPECT_EQ(ck.kind, "Widget");
  EXPECT_FALSE(ck.namespaced);
  EXPECT_EQ(ck.served_versions, std::vector<std::string>{"v1"});
  EXPECT_FALSE(CustomKindOf(Json::parse(R"({"spec":{}})"), &ck));
}

}  // namespace
}  // namespace converge::k8s
