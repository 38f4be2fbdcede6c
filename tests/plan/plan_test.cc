// Plan ordering: waves, kind ranks, depends-on, cycles, deletes reversed, fleet infrastructure first.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/plan/plan.h"

namespace converge {
namespace {

// An action for `kind ns/name` in `cluster` with the given annotations (JSON object text).
Action Make(const std::string& cluster, const std::string& api_version, const std::string& kind,
            const std::string& ns, const std::string& name, const std::string& annotations = "{}",
            ChangeType type = ChangeType::kCreate) {
  Json obj = {{"apiVersion", api_version}, {"kind", kind}, {"metadata", {{"name", name}}}};
  if (!ns.empty()) obj["metadata"]["namespace"] = ns;
  Json ann = Json::parse(annotations);
  if (!ann.empty()) obj["metadata"]["annotations"] = ann;
  Action a;
  a.type = type;
  a.ref.cluster = cluster;
  a.ref.key = KeyOf(obj);
  a.api_version = api_version;
  if (type != ChangeType::kDelete) a.desired = std::make_shared<const Json>(std::move(obj));
  a.source_file = "apps/" + name + ".yaml";
  return a;
}

Action Deploy(const std::string& name, const std::string& annotations = "{}",
              const std::string& cluster = "cluster-a") {
  return Make(cluster, "apps/v1", "Deployment", "app", name, annotations);
}

Action Delete(const std::string& cluster, const std::string& api_version, const std::string& kind,
              const std::string& ns, const std::string& name, int wave = 0) {
  Action a = Make(cluster, api_version, kind, ns, name, "{}", ChangeType::kDelete);
  a.wave = wave;
  return a;
}

std::vector<std::string> Order(std::vector<Action> actions) {
  Result<std::vector<Action>> r = OrderActions(std::move(actions));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> out;
  if (!r.ok()) return out;
  for (const Action& a : *r) out.push_back((a.type == ChangeType::kDelete ? "-" : "") + a.ref.ToString());
  return out;
}

using Names = std::vector<std::string>;

TEST(OrderActionsTest, NamespaceBeforeDeploymentBeforeUnknownKinds) {
  EXPECT_EQ(Order({Make("c", "example.com/v1", "Widget", "app", "w"), Deploy("web", "{}", "c"),
                   Make("c", "v1", "ConfigMap", "app", "cfg"), Make("c", "v1", "Namespace", "", "app"),
                   Make("c", "apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "widgets.example.com"),
                   Make("c", "v1", "Service", "app", "web")}),
            (Names{"c: Namespace/app", "c: CustomResourceDefinition/widgets.example.com", "c: ConfigMap/app/cfg",
                   "c: Service/app/web", "c: Deployment/app/web", "c: Widget/app/w"}));
}

TEST(OrderActionsTest, WavesComeBeforeKindRankButAfterNamespaces) {
  EXPECT_EQ(Order({Make("c", "v1", "Namespace", "", "late", R"({"converge.dev/sync-wave":"1"})"),
                   Make("c", "apps/v1", "Deployment", "app", "early", R"({"converge.dev/sync-wave":"-1"})"),
                   Make("c", "v1", "ConfigMap", "app", "mid")}),
            (Names{"c: Namespace/late", "c: Deployment/app/early", "c: ConfigMap/app/mid"}));
}

TEST(OrderActionsTest, ArgoWaveAnnotationIsHonouredAndConvergeWins) {
  EXPECT_EQ(Order({Deploy("a", R"({"argocd.argoproj.io/sync-wave":"5"})"),
                   Deploy("b", R"({"argocd.argoproj.io/sync-wave":"2"})"),
                   Deploy("c", R"({"argocd.argoproj.io/sync-wave":"-3","converge.dev/sync-wave":"9"})")}),
            (Names{"cluster-a: Deployment/app/b", "cluster-a: Deployment/app/a", "cluster-a: Deployment/app/c"}));
}

TEST(OrderActionsTest, FillsWaveAndDependsOn) {
  Result<std::vector<Action>> r = OrderActions(
      {Deploy("a", R"({"converge.dev/sync-wave":" 3 ","converge.dev/depends-on":"ConfigMap/cfg"})"),
       Make("cluster-a", "v1", "ConfigMap", "app", "cfg")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Action& a = (*r)[1];
  EXPECT_EQ(a.wave, 3);
  ASSERT_EQ(a.depends_on.size(), 1u);
  EXPECT_EQ(a.depends_on[0].ToString(), "ConfigMap/app/cfg");
}

TEST(OrderActionsTest, DependsOnOverridesWaves) {
  EXPECT_EQ(Order({Deploy("frontend", R"({"converge.dev/depends-on":"Deployment/app/backend"})"),
                   Deploy("backend", R"({"converge.dev/sync-wave":"5"})"), Deploy("other")}),
            (Names{"cluster-a: Deployment/app/other", "cluster-a: Deployment/app/backend",
                   "cluster-a: Deployment/app/frontend"}));
}

TEST(OrderActionsTest, DependsOnIsPerClusterAndIgnoresMissingObjects) {
  EXPECT_EQ(Order({Deploy("a", R"({"converge.dev/depends-on":"Deployment/b, Secret/app/not-in-plan"})", "c1"),
                   Deploy("b", R"({"converge.dev/sync-wave":"1"})", "c1"), Deploy("a", "{}", "c2"),
                   Deploy("b", R"({"converge.dev/sync-wave":"1"})", "c2")}),
            (Names{"c1: Deployment/app/b", "c1: Deployment/app/a", "c2: Deployment/app/a", "c2: Deployment/app/b"}));
}

TEST(OrderActionsTest, DependsOnAnObjectDeclaredNowhereIsAnError) {
  std::vector<Action> actions = {Deploy("a", R"({"converge.dev/depends-on":"Deployment/b, Secret/app/typo"})", "c1"),
                                 Deploy("b", "{}", "c1")};
  // Declared but unchanged (not an action): fine.
  auto declared = [](const std::string& cluster, const ObjectKey& key) {
    return cluster == "c1" && key.kind == "Secret" && key.name == "typo";
  };
  EXPECT_TRUE(OrderActions(actions, declared).ok());
  Result<std::vector<Action>> r =
      OrderActions(actions, [](const std::string&, const ObjectKey&) { return false; });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "apps/a.yaml: c1: Deployment/app/a: annotation converge.dev/depends-on names Secret/app/typo, which is not "
            "declared for cluster c1: correct the entry or remove it");
  // A cluster-scoped object named with a namespace part is found without it.
  auto ns_scoped = [](const std::string&, const ObjectKey& key) { return key.kind == "Secret" && key.ns.empty(); };
  EXPECT_TRUE(OrderActions(actions, ns_scoped).ok());
}

TEST(OrderActionsTest, TwoPartDependsOnNamesClusterScopedKinds) {
  Result<std::vector<ObjectKey>> keys = DependsOnOf(
      Json::parse(R"({"kind":"Deployment","metadata":{"namespace":"app","name":"x",
        "annotations":{"converge.dev/depends-on":"Namespace/app,ConfigMap/cfg, Secret/other/s ,"}}})"),
      "f.yaml:1");
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0].ToString(), "Namespace/app");
  EXPECT_EQ((*keys)[1].ToString(), "ConfigMap/app/cfg");
  EXPECT_EQ((*keys)[2].ToString(), "Secret/other/s");
}

TEST(OrderActionsTest, CycleIsAnErrorNamingThePath) {
  Result<std::vector<Action>> r =
      OrderActions({Deploy("a", R"({"converge.dev/depends-on":"Deployment/app/b"})"),
                    Deploy("b", R"({"converge.dev/depends-on":"Deployment/app/a"})"), Deploy("c")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  EXPECT_EQ(r.status().message().rfind(
                "dependency cycle: cluster-a: Deployment/app/a -> cluster-a: Deployment/app/b -> "
                "cluster-a: Deployment/app/a;",
                0),
            0u)
      << r.status().message();
  EXPECT_NE(r.status().message().find("apps/a.yaml, apps/b.yaml"), std::string::npos) << r.status().message();
}

TEST(OrderActionsTest, CycleBehindADependentIsFound) {
  Result<std::vector<Action>> r =
      OrderActions({Deploy("a", R"({"converge.dev/depends-on":"Deployment/app/b"})"),
                    Deploy("b", R"({"converge.dev/depends-on":"Deployment/app/c"})"),
                    Deploy("c", R"({"converge.dev/depends-on":"Deployment/app/b"})")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind(
                "dependency cycle: cluster-a: Deployment/app/b -> cluster-a: Deployment/app/c -> "
                "cluster-a: Deployment/app/b;",
                0),
            0u)
      << r.status().message();
}

TEST(OrderActionsTest, SelfDependencyIsACycle) {
  Result<std::vector<Action>> r = OrderActions({Deploy("a", R"({"converge.dev/depends-on":"Deployment/a"})")});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Deployment/app/a -> cluster-a: Deployment/app/a"), std::string::npos);
}

TEST(OrderActionsTest, DeletesLastInReverseOrderAndClustersLast) {
  EXPECT_EQ(Order({Delete("", "converge.dev/v1alpha1", "Cluster", "", "old"),
                   Delete("c", "v1", "Namespace", "", "app"), Delete("c", "apps/v1", "Deployment", "app", "web"),
                   Delete("c", "v1", "ConfigMap", "app", "cfg"),
                   Delete("c", "v1", "ConfigMap", "app", "early", /*wave=*/-1),
                   Make("c", "v1", "Secret", "app", "s")}),
            (Names{"c: Secret/app/s", "-c: Deployment/app/web", "-c: ConfigMap/app/cfg",
                   "-c: ConfigMap/app/early", "-c: Namespace/app", "-Cluster/old"}));
}

TEST(OrderActionsTest, CloudsThenClustersBeforeEverything) {
  EXPECT_EQ(Order({Make("a", "v1", "Namespace", "", "app"),
                   Make("", "converge.dev/v1alpha1", "Cluster", "", "b"),
                   Make("", "converge.dev/v1alpha1", "Cluster", "", "a"),
                   Make("", "converge.dev/v1alpha1", "Cloud", "", "sim")}),
            (Names{"Cloud/sim", "Cluster/a", "Cluster/b", "a: Namespace/app"}));
}

TEST(OrderActionsTest, BadWaveAnnotationIsAnError) {
  Result<std::vector<Action>> r = OrderActions({Deploy("a", R"({"converge.dev/sync-wave":"soon"})")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  EXPECT_EQ(r.status().message(),
            "apps/a.yaml: Deployment/app/a: annotation converge.dev/sync-wave is \"soon\", not an integer; "
            "set it to a whole number such as \"-1\" or \"2\"");
}

TEST(OrderActionsTest, BadDependsOnIsAnError) {
  Result<std::vector<Action>> r = OrderActions({Deploy("a", R"({"converge.dev/depends-on":"Deployment"})")});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("entry \"Deployment\" is not Kind/name or Kind/namespace/name"),
            std::string::npos)
      << r.status().message();
}

struct WaveCase {
  const char* annotations;
  bool ok;
  int wave;
};

class WaveOfTest : public ::testing::TestWithParam<WaveCase> {};

TEST_P(WaveOfTest, Parses) {
  const WaveCase& c = GetParam();
  Json obj = {{"kind", "ConfigMap"}, {"metadata", {{"name", "x"}, {"annotations", Json::parse(c.annotations)}}}};
  Result<int> r = WaveOf(obj, "f.yaml:1");
  ASSERT_EQ(r.ok(), c.ok) << c.annotations;
  if (c.ok) {
    EXPECT_EQ(*r, c.wave) << c.annotations;
  }
}

const WaveCase kWaveCases[] = {
    {R"({})", true, 0},
    {R"({"converge.dev/sync-wave":"3"})", true, 3},
    {R"({"converge.dev/sync-wave":"-2"})", true, -2},
    {R"({"converge.dev/sync-wave":"+4"})", true, 4},
    {R"({"converge.dev/sync-wave":7})", true, 7},
    {R"({"argocd.argoproj.io/sync-wave":"1"})", true, 1},
    {R"({"converge.dev/sync-wave":"1.5"})", false, 0},
    {R"({"converge.dev/sync-wave":""})", false, 0},
    {R"({"converge.dev/sync-wave":"99999999999"})", false, 0},
    {R"({"argocd.argoproj.io/sync-wave":"x"})", false, 0},
};

INSTANTIATE_TEST_SUITE_P(Cases, WaveOfTest, ::testing::ValuesIn(kWaveCases));

TEST(KindRankTest, FollowsTheDocumentedOrder) {
  const char* order[] = {"Namespace", "CustomResourceDefinition", "ServiceAccount", "Secret", "ConfigMap",
                         "PersistentVolumeClaim", "ClusterRole", "RoleBinding", "Service", "Deployment",
                         "StatefulSet", "Job", "Ingress", "SomethingCustom"};
  for (size_t i = 1; i < std::size(order); ++i) {
    EXPECT_LT(KindRank(order[i - 1]), KindRank(order[i])) << order[i - 1] << " vs " << order[i];
  }
}

TEST(OrderActionsTest, ManyActionsWithoutDependenciesComeOutSorted) {
  std::vector<Action> actions;
  for (int i = 0; i < 10000; ++i) {
    Action a = Deploy("d" + std::to_string((i * 7919) % 10000), "{}", "c" + std::to_string(i % 3));
    actions.push_back(std::move(a));
  }
  Result<std::vector<Action>> r = OrderActions(actions);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 10000u);
  for (size_t i = 1; i < r->size(); ++i) {
    ASSERT_FALSE(OrderBefore((*r)[i], (*r)[i - 1])) << i;
  }
}

}  // namespace
}  // namespace converge

namespace converge {
namespace {

TEST(PlanFoundationTest, NamespaceBeforeNegativeWaveObject) {
  auto make = [](const std::string& kind, const std::string& ns, const std::string& name, const std::string& wave) {
    Json body = {{"apiVersion", "v1"}, {"kind", kind}, {"metadata", {{"name", name}}}};
    if (!ns.empty()) body["metadata"]["namespace"] = ns;
    if (!wave.empty()) body["metadata"]["annotations"] = {{"converge.dev/sync-wave", wave}};
    Action a;
    a.type = ChangeType::kCreate;
    a.ref = ObjectRef{"c", KeyOf(body)};
    a.desired = std::make_shared<Json>(body);
    return a;
  };
  auto ordered = OrderActions({make("ConfigMap", "app", "early", "-5"), make("Namespace", "", "app", "")});
  ASSERT_TRUE(ordered.ok()) << ordered.status().message();
  EXPECT_EQ((*ordered)[0].ref.key.kind, "Namespace");
  EXPECT_EQ((*ordered)[1].ref.key.name, "early");
}

}  // namespace
}  // namespace converge
